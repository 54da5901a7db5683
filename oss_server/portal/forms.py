"""Portal forms: field types, lengths and CSRF; business rules stay in the services."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    Length,
    NoneOf,
    NumberRange,
    Optional,
    ValidationError,
)

from ..security import urls
from ..services.accounts import CARRIER_RULES_MAX_CHARS
from ..services.passwords import MAX_LENGTH, MIN_LENGTH
from ..services.standard_labels import STAGES

_PASSWORD_HINT = f"At least {MIN_LENGTH} characters; any characters, spaces included."


def _new_password(label: str = "New password") -> PasswordField:
    return PasswordField(label, description=_PASSWORD_HINT,
                         validators=[DataRequired(), Length(MIN_LENGTH, MAX_LENGTH, message=(
                             f"Use at least {MIN_LENGTH} characters (at most {MAX_LENGTH}).")
                         )],
                         render_kw={"autocomplete": "new-password"})


class SignupForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "email"})
    password = _new_password("Password")
    confirm = PasswordField("Repeat the password",
                            validators=[EqualTo("password", "The passwords differ.")],
                            render_kw={"autocomplete": "new-password"})


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username"})
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_LENGTH)],
                             render_kw={"autocomplete": "current-password"})


class SecondFactorForm(FlaskForm):
    code = StringField("Code from your authenticator app, or a recovery code",
                       validators=[DataRequired(), Length(max=32)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "text"})


class ResetRequestForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "email"})


class ResetForm(FlaskForm):
    password = _new_password()
    confirm = PasswordField("Repeat the new password",
                            validators=[EqualTo("password", "The passwords differ.")],
                            render_kw={"autocomplete": "new-password"})


class ChangePasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired()],
                            render_kw={"autocomplete": "current-password"})
    password = _new_password()
    confirm = PasswordField("Repeat the new password",
                            validators=[EqualTo("password", "The passwords differ.")],
                            render_kw={"autocomplete": "new-password"})


class EnableTwoFactorForm(FlaskForm):
    code = StringField("6-digit code from the app", validators=[DataRequired(), Length(max=10)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class ConfirmPasswordForm(FlaskForm):
    """A form that only asks for the password again (closing the account, 2FA off)."""

    password = PasswordField("Your password", validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})


class ActionForm(FlaskForm):
    """A button-only form (revoke, delete, rotate): carries the CSRF token."""


def _address(parse):
    """A field check by the shared address rules (the service checks the same again)."""
    def check(_form, field):
        try:
            parse(field.data)
        except urls.UnsafeValue as exc:
            raise ValidationError(exc.message) from None
    return check


class StoreForm(FlaskForm):
    name = StringField("Store name", validators=[DataRequired(), Length(max=120)])
    # "new" would collide with the page that creates a store.
    slug = StringField("Address (slug)", validators=[DataRequired(), Length(max=64), NoneOf(
                           ["new"], "That address is reserved; choose another.")],
                       description="Lower-case letters, digits and dashes; shoppers use "
                                   "/s/<slug>/. It cannot be changed later.")
    support_email = EmailField("Support email", validators=[
        Optional(), Length(max=254), _address(urls.parse_email)])
    support_phone = StringField("Support phone", validators=[Optional(), Length(max=40)])
    support_url = StringField("Support page", validators=[
        Optional(), Length(max=500), _address(urls.parse_support_link)],
        description="An https:// address, or an email address.")
    logo_url = URLField("Logo image address", validators=[
        Optional(), Length(max=500), _address(urls.parse_web_url)],
        description="An https:// address of the image.")
    accent_color = StringField("Accent colour", validators=[
        Optional(), Length(max=7), _address(urls.parse_colour)],
        description="#rrggbb, used for the shopper page header.")
    allow_zip = BooleanField("Shoppers may verify with the billing ZIP/postal code")
    allow_email = BooleanField("Shoppers may verify with their email")
    allow_phone = BooleanField("Shoppers may verify with their phone")
    allowed_origins = TextAreaField(
        "Sites allowed to embed the status page and call the lookup API",
        validators=[Optional(), Length(max=4000)],
        description="One origin per line, e.g. https://shop.example. Empty: none.")
    timezone = StringField(
        "Time zone", validators=[Optional(), Length(max=64)],
        description="An IANA name such as America/New_York, Europe/Paris or UTC (empty: UTC). "
                    "Dates and times on the shopper pages and emails are shown in it.",
        render_kw={"autocomplete": "off", "spellcheck": "false"})
    retention_days = IntegerField("Keep orders for (days after their last update)",
                                  validators=[DataRequired(), NumberRange(30, 730)])
    shopper_emails = BooleanField("Email shoppers when their order's status changes")
    require_signature = BooleanField(
        "Require signed requests (OSS-Signature) on the update API",
        description="Create a signing secret first and give it to your order manager.")
    carrier_rules = TextAreaField(
        "Extra carriers (JSON)",
        validators=[Optional(), Length(max=CARRIER_RULES_MAX_CHARS)],
        description='A list of rules, e.g. [{"carrier": "OnTrac", "url": '
                    '"https://www.ontrac.com/tracking/?number={n}", "patterns": '
                    '["C##############"], "check": "none"}]. {n} is the tracking number; '
                    'in patterns # is a digit, A a letter, * either. Empty: built-in '
                    'carriers only.',
        render_kw={"rows": 6, "spellcheck": "false", "autocomplete": "off"})


class EditStoreForm(StoreForm):
    slug = HiddenField()


class KeyForm(FlaskForm):
    label = StringField("Label", validators=[Optional(), Length(max=100)],
                        description="Where the key is used, e.g. “Back office PC”.")


class LabelForm(FlaskForm):
    label = HiddenField(validators=[DataRequired(), Length(max=64)])
    text = StringField("Shoppers read", validators=[Optional(), Length(max=64)])
    text_es = StringField("In Spanish", validators=[Optional(), Length(max=64)])
    text_fr = StringField("In French", validators=[Optional(), Length(max=64)])
    text_de = StringField("In German", validators=[Optional(), Length(max=64)])
    # Empty: the label's standard stage (Processing for a label not in the standard list).
    stage = SelectField("Progress stage", default="", choices=["", *STAGES])
    hidden = BooleanField("Hide from shoppers")
