"""The lookup form: validation and CSRF; the page renders its own fields."""
from __future__ import annotations

from typing import NamedTuple

from flask import current_app, g, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.csrf.core import CSRFTokenField
from wtforms.fields import HiddenField
from wtforms.validators import DataRequired, Length, StopValidation


class _TokenOnRender(CSRFTokenField):
    """The CSRF field, its new token made only when the form is rendered.

    The submitted token is checked as before (Flask-WTF's CSRF class validates it); a
    lookup that finds its order answers with a redirect and shows no form, so signing a
    token for it at the form's construction was work for nothing.
    """

    current_token: str | None

    def process(self, *args, **kwargs):
        HiddenField.process(self, *args, **kwargs)

    def _value(self):
        if self.current_token is None:
            self.current_token = self.csrf_impl.generate_csrf_token(self)
        return self.current_token


class _CSRF(FlaskForm.Meta.csrf_class):
    field_class = _TokenOnRender


class LookupForm(FlaskForm):
    # Fields take no filters and the form no validate_<field> methods: read_lookup runs
    # these validators itself (see there).
    class Meta:
        csrf_class = _CSRF

    order_number = StringField(_l("Order number"), validators=[
        DataRequired(_l("Enter your order number.")), Length(max=64)])
    verifier = StringField(_l("Billing ZIP/postal code, email or phone"), validators=[
        DataRequired(_l("Enter the billing ZIP/postal code, email or phone of the order.")),
        Length(max=254)])


class PostedLookup(NamedTuple):
    """A valid lookup as posted: the order number and verifier as typed."""

    order_number: str
    verifier: str


def read_lookup() -> PostedLookup | LookupForm:
    """Return the posted lookup, or the form with the errors that make it invalid.

    A plain form post whose CSRF token Flask-WTF has already checked is read without
    building the form (binding its fields, labels and widgets is most of a lookup's form
    cost): each value goes through its field's own validators, and the first complaint
    sends the request to :class:`LookupForm` as before, which then has the messages.
    Anything else (files, a JSON body, a token not yet checked) goes there directly.
    """
    posted = _plain_post()
    if posted is not None:
        return posted
    form = LookupForm()
    if form.validate():
        return PostedLookup(form.order_number.data, form.verifier.data)
    return form


class _Value:
    """What a field's validators read of a field that passes them: its data."""

    def __init__(self, data: str):
        self.data = data
        self.errors: list[str] = []

    def gettext(self, string: str) -> str:
        return string

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return singular if n == 1 else plural


def _plain_post() -> PostedLookup | None:
    form = request.form
    if request.files or not form:
        return None  # FlaskForm would read the files or a JSON body: leave it to the form
    if current_app.config.get("WTF_CSRF_ENABLED", True) and not g.get("csrf_valid", False):
        return None
    values = []
    for name in PostedLookup._fields:
        typed = form.getlist(name)
        if not typed:
            return None
        value = _Value(typed[0])  # StringField keeps the first value
        for validator in getattr(LookupForm, name).kwargs["validators"]:
            try:
                validator(None, value)
            except (ValueError, StopValidation):  # ValidationError is a ValueError
                return None
        values.append(value.data)
    return PostedLookup(*values)
