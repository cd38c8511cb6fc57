"""Marketplace rules: listings, checkout with stock held by a conditional UPDATE, what a payment changes, and the
vendor's work on a sub-order. Services flush; the view, CLI command or payment confirmation commits.

Vendor functions run inside the vendor's commune (scoping filters every query) and take the vendor id explicitly:
another vendor's product or sub-order, even in the same commune, does not exist for them (NotFound, a 404).
"""

from __future__ import annotations

import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.exc import IntegrityError

from app import locks, transactions
from app.clock import as_utc, utcnow
from app.errors import Conflict, NotFound, ValidationError
from app.extensions import db
from app.text import clean_phone, mobile_number, normalize, slugify
from marketplace import notify as notices
from marketplace import payments
from marketplace.models import MAX_ID, Order, OrderLine, Product, SubOrder
from marketplace.search import folded_key, lower_key
from marketplace.statuses import (
    AWAITING_PAYMENT,
    CANCELED,
    CATEGORY_SLUGS,
    CONFIRMED,
    EXPIRED,
    PAID,
    DELIVERED,
    DELIVERY,
    PICKUP,
    SHOPPER_RECEIVES,
    SHIPPED,
    VENDOR_TRANSITIONS,
    category,
)
from tenants.scoping import all_tenants, tenant_context
from tenants.vendors.services import get_vendor

MAX_PRICE = 9_999_999_999_999
MAX_STOCK = 1_000_000
MAX_QUANTITY = 999


def text(value) -> str:
    """User text as stored: NFC, stripped, and without NUL characters (PostgreSQL text cannot hold them)."""
    return normalize(str(value) if value is not None else "").replace("\x00", "")



# ------------------------------------------------------------------------------------------------ money and text

_PRICE = re.compile(r"^(\d{1,3}(?:\.\d{3})+|\d{1,3}(?:,\d{3})+|\d{1,3}(?: \d{3})+|\d+)$")
_CURRENCY = re.compile(r"\s*(₫|đ|đồng|vnd|vnđ)\s*$", re.IGNORECASE)


def parse_price(written) -> int:
    """Đồng as Vietnamese write them: ``125000``, ``125.000``, ``125.000 ₫``, ``125.000đ``, ``125,000 VND``."""
    value = normalize(str(written if written is not None else ""))
    value = _CURRENCY.sub("", value.replace("\u00a0", " ")).strip()
    if not value or not _PRICE.match(value):
        raise ValidationError(_l("The price must be a whole number of đồng, like 125.000."), field="price")
    price = int(value.replace(".", "").replace(",", "").replace(" ", ""))
    if price <= 0:
        raise ValidationError(_l("The price must be greater than zero."), field="price")
    if price > MAX_PRICE:
        raise ValidationError(_l("The price is too large."), field="price")
    return price


def _whole(value, field: str, label, minimum: int = 0, maximum: int = MAX_STOCK) -> int:
    digits = normalize(str(value if value is not None else "")).replace(".", "")
    if not digits.isdecimal() or not digits.isascii():
        raise ValidationError(_l("%(field)s must be a whole number.", field=label), field=field)
    number = int(digits)
    if number < minimum or number > maximum:
        raise ValidationError(_l("%(field)s must be between %(low)s and %(high)s.", field=label, low=minimum,
                                 high=maximum), field=field)
    return number


@dataclass
class ProductValues:
    name: str
    category: str
    price: int
    unit: str
    stock: int
    description: str = ""
    ocop_stars: int | None = None
    ocop_certificate: str | None = None
    ocop_expires_on: date | None = None


def clean_product(data: dict) -> ProductValues:
    """Check a listing's fields (a form or a CSV row); the first fault raises ValidationError naming its field."""
    name = text(data.get("name"))
    if not name:
        raise ValidationError(_l("Enter the product's name."), field="name")
    if len(name) > 200:
        raise ValidationError(_l("The name is too long (200 characters at most)."), field="name")
    if not folded_key(name):
        raise ValidationError(_l("The name needs letters or digits."), field="name")
    cat = text(data.get("category"))
    if cat not in CATEGORY_SLUGS:
        by_label = {str(c.label).casefold(): c.slug for c in map(category, CATEGORY_SLUGS)}
        cat = by_label.get(cat.casefold(), "")
        if not cat:
            raise ValidationError(_l("Choose one of the OCOP product groups."), field="category")
    price = parse_price(data.get("price"))
    unit = text(data.get("unit")) or "cái"
    if len(unit) > 30:
        raise ValidationError(_l("The unit is too long (30 characters at most)."), field="unit")
    stock = _whole(data.get("stock") or "0", "stock", _l("Stock"))
    description = text(data.get("description"))
    if len(description) > 5000:
        raise ValidationError(_l("The description is too long (5000 characters at most)."), field="description")
    stars_text = text(str(data.get("ocop_stars") or ""))
    stars = None
    if stars_text:
        stars = _whole(stars_text, "ocop_stars", _l("OCOP stars"), 3, 5)
    certificate = text(data.get("ocop_certificate")) or None
    if certificate and len(certificate) > 60:
        raise ValidationError(_l("The certificate number is too long."), field="ocop_certificate")
    expires = data.get("ocop_expires_on") or None
    if isinstance(expires, str):
        expires = text(expires) or None
        if expires:
            try:
                expires = (datetime.strptime(expires, "%d/%m/%Y") if "/" in expires
                           else datetime.strptime(expires, "%Y-%m-%d")).date()
            except ValueError:
                raise ValidationError(_l("Write the certificate's expiry as dd/mm/yyyy."),
                                      field="ocop_expires_on") from None
    if stars is None and (certificate or expires):
        raise ValidationError(_l("A certificate needs its OCOP stars."), field="ocop_stars")
    if stars is not None and not certificate:
        raise ValidationError(_l("OCOP stars need the certificate number."), field="ocop_certificate")
    return ProductValues(name, cat, price, unit, stock, description, stars, certificate, expires)


# ------------------------------------------------------------------------------------------------ listings


def locked(query):
    """This row, locked until commit and read fresh from the database (not from the session's identity map)."""
    return query.with_for_update(of=query.column_descriptions[0]["entity"]).execution_options(populate_existing=True)


def get_product(vendor_id: int, product_id: int, *, lock: bool = False) -> Product:
    """The vendor's own product (scoped to the commune; another vendor's is NotFound)."""
    if not 0 < product_id <= MAX_ID:
        raise NotFound(_l("No such product."))
    query = select(Product).where(Product.id == product_id, Product.vendor_id == vendor_id)
    product = db.session.scalar(locked(query) if lock else query)
    if product is None:
        raise NotFound(_l("No such product."))
    return product


def _unique_slug(name: str, taken: set[str]) -> str:
    base = slugify(name)[:100] or "san-pham"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _taken_slugs() -> set[str]:
    return set(db.session.scalars(select(Product.slug)))


def _apply(product: Product, values: ProductValues) -> None:
    product.name = values.name
    product.name_folded = folded_key(values.name)
    product.name_lower = lower_key(values.name)
    product.category = values.category
    product.price = values.price
    product.unit = values.unit
    product.description = values.description
    product.ocop_stars = values.ocop_stars
    product.ocop_certificate = values.ocop_certificate
    product.ocop_expires_on = values.ocop_expires_on


PHOTO_FIRST = _l("Add a photo of the product first: a product goes on sale with its photo.")


def create_product(vendor_id: int, data: dict, *, taken: set[str] | None = None) -> Product:
    """A new listing, always a draft: it has no photo yet, and a product is published with its photo (#19)."""
    get_vendor(vendor_id)
    values = clean_product(data)
    taken = _taken_slugs() if taken is None else taken
    product = Product(vendor_id=vendor_id, slug=_unique_slug(values.name, taken), stock=values.stock, reserved=0,
                      images=[], status="draft")
    taken.add(product.slug)
    _apply(product, values)
    db.session.add(product)
    db.session.flush()
    return product


def update_product(vendor_id: int, product_id: int, data: dict) -> Product:
    product = get_product(vendor_id, product_id, lock=True)
    values = clean_product(data)
    if values.stock < product.reserved:
        raise ValidationError(_l("%(n)s units are held for unpaid orders: stock cannot go below that.",
                                 n=product.reserved), field="stock")
    _apply(product, values)
    product.stock = values.stock
    db.session.flush()
    return product


def set_stock(vendor_id: int, product_id: int, stock) -> Product:
    product = get_product(vendor_id, product_id, lock=True)
    stock = _whole(stock, "stock", _l("Stock"))
    if stock < product.reserved:
        raise ValidationError(_l("%(n)s units are held for unpaid orders: stock cannot go below that.",
                                 n=product.reserved), field="stock")
    product.stock = stock
    db.session.flush()
    return product


def set_published(vendor_id: int, product_id: int, published: bool) -> Product:
    """On sale or off it; on sale only with a photo (PHOTO_FIRST)."""
    product = get_product(vendor_id, product_id)
    if published and not product.images:
        raise ValidationError(PHOTO_FIRST, field="publish")
    product.status = "published" if published else "draft"
    db.session.flush()
    return product


# ------------------------------------------------------------------------------------------------ delivery, pick-up

MAX_DELIVERY_FEE = 10_000_000  # a flat fee above ten million đồng is a typo, not a delivery


def clean_shop_delivery(data: dict) -> dict:
    """A producer's delivery and pick-up (#19): delivery at a flat fee in đồng (0 allowed) with an estimate, pick-up
    at a place with an estimate, or both; at least one. The first fault raises ValidationError naming its field."""
    delivers, picks_up = bool(data.get("offers_delivery")), bool(data.get("offers_pickup"))
    if not delivers and not picks_up:
        raise ValidationError(_l("Offer delivery, pick-up or both: a shopper must be able to get the goods."),
                              field="offers_delivery")
    fee = 0
    written = text(data.get("delivery_fee"))
    if written:
        written = _CURRENCY.sub("", written.replace("\u00a0", " ")).strip()
        if not _PRICE.match(written):
            raise ValidationError(_l("The delivery fee must be a whole number of đồng, 0 or more, like 30.000."),
                                  field="delivery_fee")
        fee = int(written.replace(".", "").replace(",", "").replace(" ", ""))
        if fee > MAX_DELIVERY_FEE:
            raise ValidationError(_l("The delivery fee is too large (10.000.000 ₫ at most)."), field="delivery_fee")
    elif delivers:
        raise ValidationError(_l("Enter the delivery fee (0 for free delivery)."), field="delivery_fee")
    values = {"offers_delivery": delivers, "delivery_fee": fee if delivers else 0, "offers_pickup": picks_up}
    for field, most in (("delivery_estimate", 60), ("pickup_place", 200), ("pickup_estimate", 60)):
        values[field] = text(data.get(field))
        if len(values[field]) > most:
            raise ValidationError(_l("Too long (%(n)s characters at most).", n=most), field=field)
    if picks_up and not values["pickup_place"]:
        raise ValidationError(_l("Say where shoppers pick the goods up."), field="pickup_place")
    return values


def set_shop_delivery(vendor_id: int, data: dict):
    """Save the producer's delivery and pick-up (flushes). Orders already placed keep the terms they were placed
    with (copied to each sub-order)."""
    values = clean_shop_delivery(data)
    vendor = get_vendor(vendor_id)
    for name, value in values.items():
        setattr(vendor, name, value)
    db.session.flush()
    return vendor


class ChoiceNotOffered(ValidationError):
    """The shopper asked for a way of getting the goods this producer does not offer: nothing was ordered."""


def fulfilment_of(options, choice: str | None) -> str:
    """The shopper's choice if the producer offers it; no choice is the first offered; anything else is refused."""
    if not choice:
        return options.choices[0] if options.choices else DELIVERY
    if choice not in options.choices:
        raise ChoiceNotOffered(_l("This producer does not offer that: choose delivery or pick-up again in your cart."),
                               field="fulfilment")
    return choice


# ------------------------------------------------------------------------------------------------ checkout


@dataclass(frozen=True)
class Buyer:
    name: str
    phone: str
    address: str
    note: str = ""


def clean_buyer(name, phone, address, note="") -> Buyer:
    name, address, note = text(name), text(address), text(note)
    phone = clean_phone(phone)
    if not name or len(name) > 120:
        raise ValidationError(_l("Enter your name (120 characters at most)."), field="name")
    if mobile_number(phone) is None:
        raise ValidationError(_l("Enter a Vietnamese phone number of 10 digits, like 0912 345 678."), field="phone")
    if not address or len(address) > 300:
        raise ValidationError(_l("Enter the delivery address (300 characters at most)."), field="address")
    if len(note) > 500:
        raise ValidationError(_l("The note is too long (500 characters at most)."), field="note")
    return Buyer(name, phone, address, note)


class OutOfStock(Conflict):
    """Someone else bought the last units first; nothing was ordered."""


ORDER_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


ORDER_CODE_ATTEMPTS = 5  # 32^8 codes: a second draw is already rare, a fifth never happens


def new_order_code() -> str:
    return "DH" + "".join(secrets.choice(ORDER_CODE_ALPHABET) for _ in range(8))


def _order_code_taken(code: str) -> bool:
    with all_tenants():
        return db.session.scalar(select(Order.id).where(Order.code == code)) is not None


def _add_with_new_code(order: Order) -> None:
    """Insert ``order`` under a fresh code, drawn again (at most ``ORDER_CODE_ATTEMPTS`` times) when the code is
    already an order's: in a savepoint, so the rest of the checkout stays (app/transactions.py). Flushes."""
    for _attempt in range(ORDER_CODE_ATTEMPTS):
        order.code = new_order_code()
        try:
            with transactions.savepoint():
                db.session.add(order)
                db.session.flush()
            return
        except IntegrityError:
            if not _order_code_taken(order.code):
                raise  # another constraint: not a collision
    raise Conflict(_l("Your order could not be given a code. Please try again."), field="cart")


@dataclass(frozen=True)
class HoldLimits:
    """How much one shopper may hold unpaid (#16 item 1): ``units`` across every unpaid order of one network
    address, one phone number and one delivery address each (config MARKETPLACE_HELD_UNITS_LIMIT)."""

    units: int


class TooMuchHeld(ValidationError):
    """This checkout would hold more unpaid units than one shopper may: nothing was ordered."""


def held_units(*, phone: str = "", address_key: str = "", client_address: str = "") -> dict[str, int]:
    """Units held unpaid now by the orders of this phone, delivery address and network address (across communes:
    an order spans them). One query per criterion, each on its index of ``orders``."""
    out = {}
    with all_tenants():
        for name, column, value in (("phone", Order.phone, phone), ("address", Order.address_key, address_key),
                                    ("client", Order.client_address, client_address)):
            if not value:
                out[name] = 0
                continue
            out[name] = int(db.session.scalar(
                select(func.coalesce(func.sum(OrderLine.quantity), 0))
                .select_from(Order)
                .join(SubOrder, SubOrder.order_id == Order.id)
                .join(OrderLine, (OrderLine.sub_order_id == SubOrder.id) & (OrderLine.tenant_id == SubOrder.tenant_id))
                .where(column == value, SubOrder.status == AWAITING_PAYMENT)) or 0)
    return out


def address_key(address: str) -> str:
    """The delivery address as compared for the hold limit: folded (no marks, lower case), words only."""
    return folded_key(address)[:300]


def _serialise_holds(*keys: str) -> None:
    """One checkout at a time per phone, delivery address and network address (PostgreSQL): two checkouts of one
    shopper at the same instant would otherwise both count the units held before either was written. Transaction
    advisory locks, taken in one order, before any row lock (app/locks.py), released at commit or rollback. SQLite
    serialises writers: the later one retries (app/transactions.py) and counts again."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for key in sorted({k for k in keys if k}):
        db.session.execute(sql_text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": "marketplace-hold:" + key})


def check_hold_limits(wanted: int, buyer: Buyer, client_address: str, limits: HoldLimits) -> None:
    """Refuse a checkout that would take this shopper's unpaid units above the limit, with what is left to hold."""
    _serialise_holds("phone:" + buyer.phone, "address:" + address_key(buyer.address),
                     "client:" + client_address if client_address else "")
    held = held_units(phone=buyer.phone, address_key=address_key(buyer.address), client_address=client_address)
    most = max(held.values())
    if most + wanted > limits.units:
        left = max(limits.units - most, 0)
        raise TooMuchHeld(_l("You already have %(held)s units waiting for payment; at most %(limit)s can wait at "
                             "once. Pay or cancel those orders first, or order at most %(left)s now.",
                             held=most, limit=limits.units, left=left), field="cart")


def checkout(lines: list[tuple[int, int]], buyer: Buyer, hold: timedelta, *, client_address: str = "",
             limits: HoldLimits | None = None, choices: dict[tuple[int, int], str] | None = None) -> Order:
    """One order from the cart ``lines`` (product id, quantity), split into one sub-order per vendor, each with its
    payment intent on the vendor's own account, in ONE transaction (flushed; the caller commits).

    Stock is held with ``UPDATE products SET reserved = reserved + n WHERE id = ? AND stock - reserved >= n``: the
    database row lock makes two shoppers of the last unit queue, and the second finds nothing left (OutOfStock,
    everything rolled back by the caller). Lines of one product are added up first, so two lines cannot together
    exceed the stock.

    ``choices``: the shopper's delivery or pick-up per producer (tenant id, vendor id); a producer without one gets
    its first offered way. The shipping fee is the producer's, read here, never the form's; each sub-order's
    amount (and its intent's) is its goods plus that fee.
    """
    wanted: OrderedDict[int, int] = OrderedDict()
    for product_id, quantity in lines:
        if not 0 < product_id <= MAX_ID:
            raise ValidationError(_l("A product in your cart is no longer on sale; it was removed."), field="cart")
        if not isinstance(quantity, int) or quantity <= 0:
            raise ValidationError(_l("Quantities must be whole numbers above zero."), field="cart")
        wanted[product_id] = wanted.get(product_id, 0) + quantity
    if not wanted:
        raise ValidationError(_l("Your cart is empty."), field="cart")
    if any(q > MAX_QUANTITY for q in wanted.values()):
        raise ValidationError(_l("At most %(n)s of one product per order.", n=MAX_QUANTITY), field="cart")
    if limits is not None:
        check_hold_limits(sum(wanted.values()), buyer, client_address, limits)

    from marketplace.queries import public_cards, public_shop_options  # across communes (named reads)

    cards = public_cards(list(wanted))
    missing = [pid for pid in wanted if pid not in cards]
    if missing:
        raise ValidationError(_l("A product in your cart is no longer on sale; it was removed."), field="cart")
    groups: OrderedDict[tuple[int, int], list[tuple]] = OrderedDict()
    for product_id, quantity in wanted.items():
        card = cards[product_id]
        groups.setdefault((card.tenant_id, card.vendor_id), []).append((card, quantity))

    shops = public_shop_options(list(groups))
    terms = {}
    for key in groups:
        if key not in shops:
            raise ValidationError(_l("A product in your cart is no longer on sale; it was removed."), field="cart")
        way = fulfilment_of(shops[key], (choices or {}).get(key))
        terms[key] = (way, shops[key].fee(way), shops[key].estimate(way), shops[key].pickup_place if way == PICKUP
                      else "")
    total = sum(card.price * quantity for group in groups.values() for card, quantity in group)
    total += sum(fee for _way, fee, _estimate, _place in terms.values())
    order = Order(buyer_name=buyer.name, phone=buyer.phone, address=buyer.address,
                  note=buyer.note, total=total, client_address=(client_address or "")[:64],
                  address_key=address_key(buyer.address), created_at=utcnow())
    _add_with_new_code(order)
    expires = utcnow() + hold
    for (tenant_id, vendor_id), group in groups.items():
        with tenant_context(tenant_id):
            for card, quantity in sorted(group, key=lambda item: item[0].id):  # one lock order: no deadlocks
                held = db.session.execute(
                    update(Product)
                    .where(Product.id == card.id, Product.status == "published",
                           Product.stock - Product.reserved >= quantity)
                    .values(reserved=Product.reserved + quantity)
                    .execution_options(synchronize_session=False)
                ).rowcount
                if held != 1:
                    raise OutOfStock(_l("Only %(n)s of “%(name)s” left; change the quantity and try again.",
                                        n=_left_under_lock(card.id), name=card.name), field="cart")
            way, fee, estimate, place = terms[(tenant_id, vendor_id)]
            subtotal = sum(card.price * quantity for card, quantity in group) + fee  # the amount due: goods + fee
            sub = SubOrder(order_id=order.id, vendor_id=vendor_id, status=AWAITING_PAYMENT, subtotal=subtotal,
                           hold_expires_at=expires, fulfilment=way, shipping_fee=fee, fulfilment_estimate=estimate,
                           pickup_place=place)
            db.session.add(sub)
            db.session.flush()
            for card, quantity in group:
                db.session.add(OrderLine(sub_order_id=sub.id, product_id=card.id, name=card.name, unit=card.unit,
                                         unit_price=card.price, quantity=quantity))
            intent = payments.request_payment(vendor_id=vendor_id, vendor_name=card.vendor_name, amount=subtotal,
                                              order_code=order.code, sub_order_id=sub.id, hold=hold)
            sub.intent_id = intent.public_id
            sub.hold_expires_at = intent.expires_at
            db.session.flush()
    notices.order_placed(order)  # the shopper hears of it, in this transaction (issue #20)
    return order


def extend_holds(order: Order, full_hold: timedelta) -> int:
    """Holds are short until the shopper opens the order's QR codes (a script that never looks holds nothing for
    long); then each unpaid sub-order's hold, and its QR, run to ``full_hold`` after the checkout. Flushes; returns
    how many were extended."""
    until = as_utc(order.created_at) + full_hold
    extended = 0
    with all_tenants():
        subs = db.session.scalars(select(SubOrder).where(SubOrder.order_id == order.id,
                                                         SubOrder.status == AWAITING_PAYMENT)
                                  .order_by(SubOrder.id)).all()
        # app/locks.py ORDER: the intent before its sub-order, as a payment confirmation takes them
        due = [(sub.id, payments.extend_hold(sub.intent_id, until)) for sub in subs
               if sub.intent_id and as_utc(sub.hold_expires_at) < until]
        for sub_id, expires in due:
            sub = db.session.scalar(locked(select(SubOrder).where(SubOrder.id == sub_id)))
            if expires is not None and sub.status == AWAITING_PAYMENT:
                sub.hold_expires_at = expires
                extended += 1
        db.session.flush()
    return extended


def _left_under_lock(product_id: int) -> int:
    """What a shopper who lost the race is told is left: read under the product's row lock, after the winners
    committed (the catalogue's read was taken before), so the count is the one that stopped them."""
    product = locks.lock_one(Product, Product.id == product_id)
    if product is None or product.status != "published":
        return 0
    return max(product.stock - product.reserved, 0)


def find_order(code: str, phone: str) -> Order | None:
    """The order with this code whose shopper has this phone (both needed: the code alone opens nothing)."""
    code = text(code).upper().replace(" ", "")
    phone = clean_phone(phone)
    if not code or len(code) > 12 or not phone:
        return None
    return db.session.scalar(select(Order).where(Order.code == code, Order.phone == phone))


# ------------------------------------------------------------------------------------------------ payments heard


def _lines(sub: SubOrder) -> list[OrderLine]:
    return list(db.session.scalars(select(OrderLine).where(OrderLine.sub_order_id == sub.id).order_by(
        OrderLine.product_id)))


def _sell_held(sub: SubOrder) -> None:
    """The held units become sold: out of stock and out of the reservation together."""
    for line in _lines(sub):
        db.session.execute(
            update(Product).where(Product.id == line.product_id)
            .values(stock=Product.stock - line.quantity, reserved=Product.reserved - line.quantity)
            .execution_options(synchronize_session=False))


def _release_held(sub: SubOrder) -> None:
    for line in _lines(sub):
        db.session.execute(
            update(Product).where(Product.id == line.product_id)
            .values(reserved=Product.reserved - line.quantity)
            .execution_options(synchronize_session=False))


class _NotFree(Exception):
    """A line's units were sold to someone else meanwhile: the savepoint undoes the lines taken before it."""


def _take_again(sub: SubOrder) -> bool:
    """After the hold ended: sell the units again if they are still free (all lines or none)."""
    try:
        with transactions.savepoint():
            for line in _lines(sub):
                taken = db.session.execute(
                    update(Product)
                    .where(Product.id == line.product_id, Product.stock - Product.reserved >= line.quantity)
                    .values(stock=Product.stock - line.quantity)
                    .execution_options(synchronize_session=False)).rowcount
                if taken != 1:
                    raise _NotFree
    except _NotFree:
        return False
    return True


def _sub_order_of(intent_public_id: str) -> SubOrder | None:
    """The sub-order an intent pays, locked (called with its intent already locked: the one lock order)."""
    return lock_sub_order(SubOrder.intent_id == intent_public_id)


HEARD_EVENTS = ("payment_intent.succeeded", "payment_intent.late_payment", "payment_intent.canceled",
                "payment_intent.overpaid", "refund.created")


def payment_changed(intent, event_type: str) -> None:
    """What a change of a sub-order's payment does (called inside the confirming transaction; flushes only).

    - succeeded: a held sub-order is paid and its units sold; one already expired takes its units again if they
      are free (else it waits for a refund); one the vendor canceled meanwhile waits for a refund;
    - late_payment (money after expiry): the units are taken again if free, and the sub-order is paid, late;
      otherwise it is flagged for a refund in the vendor's inbox;
    - canceled (expired or canceled): a held sub-order releases its units.
    """
    if event_type not in HEARD_EVENTS:
        return
    with tenant_context(intent.tenant_id):
        sub = _sub_order_of(intent.public_id)
        if sub is None:
            return
        now = utcnow()
        if event_type == "payment_intent.succeeded":
            if sub.status == AWAITING_PAYMENT:
                _sell_held(sub)
                sub.status, sub.paid_at = PAID, now
            elif sub.status == EXPIRED:
                _late(sub, now)
            elif sub.status == CANCELED:
                sub.refund_due = True
        elif event_type == "payment_intent.late_payment":
            if sub.status == EXPIRED:
                _late(sub, now)
                if sub.status == PAID:  # the units were still there: the payment is accepted, out of the inbox
                    payments.late_payment_taken(intent)
            elif sub.status == CANCELED:
                sub.refund_due = True
        elif event_type == "payment_intent.canceled":
            if sub.status == AWAITING_PAYMENT:
                _release_held(sub)
                sub.status = EXPIRED
        elif event_type == "payment_intent.overpaid" and sub.status != AWAITING_PAYMENT:
            sub.refund_due = True  # paid twice: the vendor returns the second transfer
        elif event_type == "refund.created":
            _refunding(sub, intent)
        db.session.flush()
        notices.sub_order_changed(sub)


REFUNDED_REASON = "Refunded"  # stored as the cancel reason of a sub-order whose payment was given back


def _refunding(sub: SubOrder, intent) -> None:
    """A refund of the sub-order's intent was just created. Refunding what is beyond the amount due (paid twice,
    overpaid) is no business of the order. Refunding the money the order consumed is: a paid order not yet shipped
    gives its units back and is canceled as refunded; a canceled one's refund is no longer due; a shipped or
    delivered one refuses, with the reason staff see (the refund is not created)."""
    if intent.amount_received - intent.amount_refunded >= intent.amount or sub.status == AWAITING_PAYMENT:
        return
    if sub.status in (SHIPPED, DELIVERED):
        raise ValidationError(_l("The goods of this order were already shipped: the producer settles the refund "
                                 "with the shopper (a return) before the money goes back."), field="amount")
    if sub.status in (PAID, CONFIRMED):
        for line in _lines(sub):
            db.session.execute(update(Product).where(Product.id == line.product_id)
                               .values(stock=Product.stock + line.quantity)
                               .execution_options(synchronize_session=False))
        sub.status, sub.canceled_at, sub.cancel_reason = CANCELED, utcnow(), REFUNDED_REASON
    sub.refund_due = False


def _late(sub: SubOrder, now: datetime) -> None:
    if _take_again(sub):
        sub.status, sub.paid_at, sub.late_payment = PAID, now, True
    else:
        sub.refund_due = True


def expire_holds(now: datetime | None = None) -> int:
    """Unpaid sub-orders past their hold give their stock back: the payments' expiry (``flask payments expire``,
    or the worker), heard through the reaction in marketplace/__init__.py."""
    return payments.expire_due(now)


# ------------------------------------------------------------------------------------------------ vendor work


def lock_sub_order(*criteria) -> SubOrder | None:
    """The named lock helper of sub-orders (app/locks.py: after the payment intent, before the products)."""
    return locks.lock_one(SubOrder, *criteria)


def get_sub_order(vendor_id: int, sub_order_id: int, *, lock: bool = False) -> SubOrder:
    """The vendor's own sub-order. ``lock``: its payment intent is locked first, then the sub-order (the one lock
    order, app/locks.py), so the vendor's action and the bank's notification of its payment queue instead of
    deadlocking; the sub-order is re-read under the lock."""
    if not 0 < sub_order_id <= MAX_ID:
        raise NotFound(_l("No such order."))
    criteria = (SubOrder.id == sub_order_id, SubOrder.vendor_id == vendor_id)
    sub = db.session.scalar(select(SubOrder).where(*criteria))
    if sub is not None and lock:
        if sub.intent_id:
            payments.lock_intent(sub.intent_id)
        sub = lock_sub_order(*criteria)
    if sub is None:
        raise NotFound(_l("No such order."))
    return sub


def act_on_sub_order(vendor_id: int, sub_order_id: int, action: str, reason: str | None = None) -> SubOrder:
    """confirm, ship, deliver or cancel (with a reason) one of the vendor's sub-orders (VENDOR_TRANSITIONS)."""
    sub = get_sub_order(vendor_id, sub_order_id, lock=True)
    target = VENDOR_TRANSITIONS.get((sub.status, action))
    if target is None:
        raise ValidationError(_l("This order cannot do that now."), field="action")
    now = utcnow()
    if action == "cancel":
        reason = text(reason)
        if not reason:
            raise ValidationError(_l("Say why the order is canceled; the shopper will read it."), field="reason")
        if len(reason) > 300:
            raise ValidationError(_l("The reason is too long (300 characters at most)."), field="reason")
        was = sub.status
        sub.status, sub.cancel_reason, sub.canceled_at = CANCELED, reason, now
        if was == AWAITING_PAYMENT:
            _release_held(sub)
            db.session.flush()
            payments.cancel_payment(sub.intent_id)
        else:  # paid: the units go back on sale and the money back to the shopper
            for line in _lines(sub):
                db.session.execute(update(Product).where(Product.id == line.product_id)
                                   .values(stock=Product.stock + line.quantity)
                                   .execution_options(synchronize_session=False))
            sub.refund_due = True
    else:
        sub.status = target
        setattr(sub, {"confirm": "confirmed_at", "ship": "shipped_at", "deliver": "delivered_at"}[action], now)
    db.session.flush()
    notices.sub_order_changed(sub)
    return sub


def shopper_received(order: Order, sub_order_id: int) -> SubOrder:
    """The shopper says a producer's part arrived ("I received it"): delivered, and recorded as the shopper's word.
    ``order`` is one the caller has checked the visitor may see; a sub-order of another order does not exist."""
    with all_tenants():
        sub = db.session.scalar(locked(select(SubOrder).where(SubOrder.id == sub_order_id,
                                                              SubOrder.order_id == order.id)))
        if sub is None:
            raise NotFound(_l("No such order."))
        if sub.status not in SHOPPER_RECEIVES:
            raise ValidationError(_l("This part of the order cannot be marked received now."), field="action")
        sub.status, sub.delivered_at, sub.received_by_shopper = DELIVERED, utcnow(), True
        db.session.flush()
    return sub


def mark_refunded(vendor_id: int, sub_order_id: int) -> SubOrder:
    sub = get_sub_order(vendor_id, sub_order_id, lock=True)
    if not sub.refund_due:
        raise ValidationError(_l("No refund is due on this order."), field="action")
    sub.refund_due = False
    db.session.flush()
    return sub


