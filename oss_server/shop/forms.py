"""The lookup form: validation and CSRF; the page renders its own fields."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class LookupForm(FlaskForm):
    order_number = StringField(_l("Order number"), validators=[
        DataRequired(_l("Enter your order number.")), Length(max=64)])
    verifier = StringField(_l("Billing ZIP/postal code, email or phone"), validators=[
        DataRequired(_l("Enter the billing ZIP/postal code, email or phone of the order.")),
        Length(max=254)])
