from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.forms import BaseForm
from marketplace.statuses import CATEGORIES


class CheckoutForm(BaseForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)])
    phone = StringField(_l("Phone number"), validators=[DataRequired(), Length(max=20)])
    address = TextAreaField(_l("Delivery address"), validators=[DataRequired(), Length(max=300)])
    note = TextAreaField(_l("Note for the producers (optional)"), validators=[Optional(), Length(max=500)])


class FindOrderForm(BaseForm):
    code = StringField(_l("Order code"), validators=[DataRequired(), Length(max=20)])
    phone = StringField(_l("Phone number used for the order"), validators=[DataRequired(), Length(max=20)])


class ProductForm(BaseForm):
    name = StringField(_l("Product name"), validators=[DataRequired(), Length(max=200)])
    category = SelectField(_l("OCOP product group"), choices=[])
    price = StringField(_l("Price (đồng)"), validators=[DataRequired(), Length(max=30)])
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=30)], default="cái")
    stock = StringField(_l("Stock"), validators=[Optional(), Length(max=10)], default="0")
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    ocop_stars = SelectField(_l("OCOP stars"), choices=[], validators=[Optional()])
    ocop_certificate = StringField(_l("OCOP certificate number"), validators=[Optional(), Length(max=60)])
    ocop_expires_on = StringField(_l("Certificate valid until (dd/mm/yyyy)"), validators=[Optional(), Length(max=10)])
    publish = BooleanField(_l("Published in the marketplace"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = [(c.slug, str(c.label)) for c in CATEGORIES]
        self.ocop_stars.choices = [("", str(_l("Not OCOP rated")))] + [(str(n), f"{n} ★") for n in (3, 4, 5)]


class ImageForm(BaseForm):
    image = FileField(_l("Photo (JPEG, PNG or WebP, 5 MB at most)"))


class ImportForm(BaseForm):
    file = FileField(_l("CSV file"))


class CancelForm(BaseForm):
    reason = StringField(_l("Reason (the shopper will read it)"), validators=[DataRequired(), Length(max=300)])


class ShopDeliveryForm(BaseForm):
    """A producer's delivery and pick-up (#19); services.clean_shop_delivery checks what the form cannot."""

    offers_delivery = BooleanField(_l("I deliver"))
    delivery_fee = StringField(_l("Delivery fee (đồng, 0 for free delivery)"), validators=[Length(max=30)])
    delivery_estimate = StringField(_l("Delivery time, e.g. 2–3 ngày"), validators=[Length(max=60)])
    offers_pickup = BooleanField(_l("Shoppers may pick the goods up"))
    pickup_place = StringField(_l("Pick-up place, e.g. the workshop's address"), validators=[Length(max=200)])
    pickup_estimate = StringField(_l("Time to get the goods ready, e.g. trong ngày"), validators=[Length(max=60)])
