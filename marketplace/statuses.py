"""The marketplace's fixed vocabularies: OCOP product groups (the categories) and the states of a vendor's
sub-order. Each value sits with its label and meaning; the models' CHECK constraints are built from these tuples.
See docs/decisions.md ("Marketplace") for the transitions.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Category:
    slug: str
    label: object  # a lazy translation
    color: str  # the demo images' background and the category chip


# The six OCOP product groups (Decision 148/QĐ-TTg), in the order the district's shop shows them.
CATEGORIES = (
    Category("thuc-pham", _l("Food"), "#b3261e"),
    Category("do-uong", _l("Drinks"), "#1b5e8c"),
    Category("thao-duoc", _l("Herbal products"), "#2e7d32"),
    Category("thu-cong-my-nghe", _l("Handicrafts"), "#8d5a2b"),
    Category("sinh-vat-canh", _l("Ornamental plants"), "#5b6b1f"),
    Category("du-lich-cong-dong", _l("Community tourism services"), "#6a3d8f"),
)
CATEGORY_SLUGS = tuple(c.slug for c in CATEGORIES)
_BY_SLUG = {c.slug: c for c in CATEGORIES}


def category(slug: str) -> Category | None:
    return _BY_SLUG.get(slug)


PRODUCT_STATUSES = ("draft", "published")


@dataclass(frozen=True)
class SubOrderStatus:
    value: str
    label: object
    meaning: object


AWAITING_PAYMENT = "awaiting_payment"
PAID = "paid"
CONFIRMED = "confirmed"
SHIPPED = "shipped"
DELIVERED = "delivered"
CANCELED = "canceled"
EXPIRED = "expired"

SUB_ORDER_STATUSES = (
    SubOrderStatus(AWAITING_PAYMENT, _l("Awaiting payment"),
                   _l("Stock is held for the shopper until the hold expires; the QR is open.")),
    SubOrderStatus(PAID, _l("Paid"), _l("The money reached the vendor's account; the vendor confirms the order.")),
    SubOrderStatus(CONFIRMED, _l("Confirmed"), _l("The vendor accepted the order and is preparing it.")),
    SubOrderStatus(SHIPPED, _l("Shipped"), _l("The goods are on their way.")),
    SubOrderStatus(DELIVERED, _l("Delivered"), _l("The shopper has the goods.")),
    SubOrderStatus(CANCELED, _l("Canceled"), _l("The vendor canceled the order, with a reason.")),
    SubOrderStatus(EXPIRED, _l("Expired"), _l("Not paid in time: the held stock went back on sale.")),
)
SUB_ORDER_STATUS_VALUES = tuple(s.value for s in SUB_ORDER_STATUSES)
_STATUS = {s.value: s for s in SUB_ORDER_STATUSES}

# What a vendor may do to a sub-order in each state: (state, action) -> new state. Everything else is refused.
VENDOR_TRANSITIONS = {
    (PAID, "confirm"): CONFIRMED,
    (PAID, "cancel"): CANCELED,
    (CONFIRMED, "ship"): SHIPPED,
    (CONFIRMED, "cancel"): CANCELED,
    (SHIPPED, "deliver"): DELIVERED,
    (AWAITING_PAYMENT, "cancel"): CANCELED,
}
VENDOR_ACTIONS = ("confirm", "ship", "deliver", "cancel")
# The shopper's own "I received it": goods handed over or delivered, whether or not the producer marked them shipped.
SHOPPER_RECEIVES = (CONFIRMED, SHIPPED)


def status_label(value: str):
    status = _STATUS.get(value)
    return status.label if status else value


# How a sub-order reaches its shopper (#19): the producer's delivery (at its flat fee) or the shopper's pick-up.
DELIVERY = "delivery"
PICKUP = "pickup"
FULFILMENTS = (DELIVERY, PICKUP)
FULFILMENT_LABELS = {DELIVERY: _l("Delivery"), PICKUP: _l("Pick-up")}
