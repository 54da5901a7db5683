"""The lookup form: validation and CSRF; the page renders its own fields."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.csrf.core import CSRFTokenField
from wtforms.fields import HiddenField
from wtforms.validators import DataRequired, Length


class _TokenOnRender(CSRFTokenField):
    """The CSRF field, its new token made only when the form is rendered.

    The submitted token is checked as before (Flask-WTF's CSRF class validates it); a
    lookup that finds its order answers with a redirect and shows no form, so signing a
    token for it at the form's construction was work for nothing.
    """

    def process(self, *args, **kwargs):
        HiddenField.process(self, *args, **kwargs)

    def _value(self):
        if self.current_token is None:
            self.current_token = self.csrf_impl.generate_csrf_token(self)
        return self.current_token


class _CSRF(FlaskForm.Meta.csrf_class):
    field_class = _TokenOnRender


class LookupForm(FlaskForm):
    class Meta:
        csrf_class = _CSRF

    order_number = StringField(_l("Order number"), validators=[
        DataRequired(_l("Enter your order number.")), Length(max=64)])
    verifier = StringField(_l("Billing ZIP/postal code, email or phone"), validators=[
        DataRequired(_l("Enter the billing ZIP/postal code, email or phone of the order.")),
        Length(max=254)])
