from flask_babel import lazy_gettext as _l
from wtforms import EmailField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.forms import BaseForm
from tenants.market.models import GOODS_CATEGORIES
from tenants.vendors.forms import BankAccountForm
from tenants.vendors.models import VENDOR_KIND_LABELS


def _categories():
    return [(code, label) for code, label in GOODS_CATEGORIES]


class MarketForm(BaseForm):
    name = StringField(_l("Market name"), validators=[DataRequired(), Length(max=160)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    opening_hours = StringField(_l("Opening hours"), validators=[Optional(), Length(max=120)])


class StallsForm(BaseForm):
    row = StringField(_l("Row"), validators=[Optional(), Length(max=40)])
    prefix = StringField(_l("Number prefix (e.g. A)"), validators=[Optional(), Length(max=8)])
    first = IntegerField(_l("From number"), validators=[DataRequired(), NumberRange(min=1, max=9999)])
    last = IntegerField(_l("To number"), validators=[DataRequired(), NumberRange(min=1, max=9999)])
    goods_category = SelectField(_l("Goods category"), choices=_categories, default="other")


class AssignStallForm(BaseForm):
    vendor_id = SelectField(_l("Vendor"), coerce=str, choices=[], validate_choice=False)  # the service checks it


class VendorForm(BankAccountForm):
    business_name = StringField(_l("Business name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=list(VENDOR_KIND_LABELS.items()), default="household")
    owner_name = StringField(_l("Owner"), validators=[DataRequired(), Length(max=120)])
    phone = StringField(_l("Phone"), validators=[DataRequired(), Length(max=20)])
    # Optional (#19): a stallholder with no e-mail address signs in with the mobile number above.
    email = EmailField(_l("Email (optional: without one, they sign in with the phone number)"),
                       validators=[Optional(), Length(max=254)])
    tax_code = StringField(_l("Tax code (optional)"), validators=[Optional(), Length(max=14)])
    goods_category = SelectField(_l("Goods category"), choices=_categories, default="other")
    stall_id = SelectField(_l("Stall"), coerce=str, validators=[Optional()])
    # No free stall: a new one, numbered as painted, made with the registration (#19: it took 13 clicks elsewhere).
    new_stall = StringField(_l("Or a new stall: its number"), validators=[Optional(), Length(max=20)])
    new_stall_market = SelectField(_l("Market of the new stall"), coerce=str, choices=[], validate_choice=False)
    # A household business at the market, or a producer with a shop on the marketplace only: only the first count
    # among the market's vendors (#19 item 2).
    sells_at = SelectField(_l("Sells"), choices=[("market", _l("At the market (a stall)")),
                                                 ("marketplace", _l("On the marketplace only (a producer)"))],
                           default="market")


class SaleForm(BaseForm):
    amount = StringField(_l("Amount (đồng)"), validators=[DataRequired(), Length(max=30)])
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=200)])
