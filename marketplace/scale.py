"""The marketplace of the scale data (``flask seed-scale``, app/scale.py): a national catalogue of the seeded
vendors' products, then its orders, each sub-order paid (or not) by an intent on its vendor's own account."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from app.scale import Codes, ScaleError, Sizes, copy_rows, json_object, person_names, reserve_ids
from app.text import slugify
from marketplace.models import Order, OrderLine, Product, SubOrder
from marketplace.payments import PURPOSE
from marketplace.search import folded_key, lower_key
from marketplace.services import ORDER_CODE_ALPHABET

# (name, marketplace category): what the seeded vendors make, their goods at the market in the same order
# (tenants/vendors/scale.py, VENDOR_GOODS).
PRODUCT_KINDS = (
    ("Gạo tám thơm", "thuc-pham"), ("Gạo nếp cái hoa vàng", "thuc-pham"), ("Nước mắm truyền thống", "thuc-pham"),
    ("Mật ong hoa nhãn", "thuc-pham"), ("Miến dong", "thuc-pham"), ("Bưởi Diễn", "thuc-pham"),
    ("Vải thiều", "thuc-pham"), ("Chè búp", "do-uong"), ("Cà phê rang xay", "do-uong"), ("Rượu nếp", "do-uong"),
    ("Trà hoa cúc", "thao-duoc"), ("Cao gắm", "thao-duoc"), ("Bình gốm men lam", "thu-cong-my-nghe"),
    ("Giỏ mây tre đan", "thu-cong-my-nghe"), ("Chiếu cói", "thu-cong-my-nghe"), ("Lan hồ điệp", "sinh-vat-canh"),
    ("Đào thế", "sinh-vat-canh"), ("Tour làng nghề một ngày", "du-lich-cong-dong"),
)
PRODUCT_GRADES = ("loại 1", "đặc biệt", "hữu cơ", "truyền thống", "gói 500 g", "hộp quà", "túi 1 kg", "")
UNITS = ("kg", "chai", "hộp", "gói", "cái", "chậu")

ORDER_AWAITING_SHARE = 0.02  # orders placed within the hold, still awaiting payment (their stock is held)
SUB_ORDER_SIZES = (1,) * 70 + (2,) * 22 + (3,) * 8  # vendors per order (one sub-order each)
LINE_SIZES = (1,) * 60 + (2,) * 28 + (3,) * 12  # products per sub-order
QUANTITIES = (1,) * 55 + (2,) * 25 + (3,) * 10 + (5,) * 6 + (10,) * 4
VENDOR_CANCEL_REASONS = ("Hết hàng, xin lỗi quý khách", "Không giao được đến địa chỉ này")


@dataclass
class _SubOrderPlan:
    vendor: object  # tenants.vendors.scale.VendorRow
    lines: list[tuple[int, int]]  # (product index, quantity)
    subtotal: int
    status: str
    hold_expires_at: datetime
    paid_at: datetime | None = None
    confirmed_at: datetime | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    canceled_at: datetime | None = None  # the vendor canceled before payment
    expired_at: datetime | None = None  # the hold ran out unpaid (the intent was abandoned)
    cancel_reason: str | None = None


@dataclass
class _OrderPlan:
    created_at: datetime
    buyer: int  # index into the names
    phone: str
    address: str
    subs: list[_SubOrderPlan]


PRODUCT_COLUMNS = (
    "id", "tenant_id", "vendor_id", "category", "name", "name_folded", "name_lower", "slug", "description", "price",
    "unit", "stock", "reserved", "images", "ocop_stars", "ocop_certificate", "status", "featured", "created_at",
    "updated_at")


def plan_products(connection, vendors: list, sizes: Sizes, rng, now) -> list[list]:
    """P product rows (PRODUCT_COLUMNS), each of a random vendor and in that vendor's commune; ``stock`` is what is
    on hand besides any reservation, ``reserved`` 0 until the orders are planned (``load``)."""
    n = sizes.products
    first = reserve_ids(connection, Product.__table__, n)
    names = {}
    for kind, category in PRODUCT_KINDS:
        for grade in PRODUCT_GRADES:
            name = f"{kind} {grade}".strip()
            names[name] = (category, folded_key(name), lower_key(name), slugify(name))
    choices = list(names.items())
    rows = []
    for i in range(n):
        vendor = vendors[rng.randrange(len(vendors))]
        name, (category, folded, lower, slug) = choices[rng.randrange(len(choices))]
        stock = rng.randrange(0, 500)
        stars = rng.choice((None, None, None, 3, 4, 5))
        created = now - timedelta(minutes=rng.randrange(0, 60 * 24 * 365))
        rows.append([first + i, vendor.tenant_id, vendor.id, category, name, folded, lower, f"{slug}-{first + i}",
                     "", rng.randrange(2, 500) * 1_000, UNITS[i % len(UNITS)], stock, 0, "[]", stars,
                     f"OCOP-{first + i}" if stars else None, "published" if i % 20 else "draft", i % 97 == 0,
                     created, created])
    return rows


def plan_orders(products: list[list], vendors: list, tenants, sizes: Sizes, rng, now,
                hold: timedelta) -> list[_OrderPlan]:
    """O checkouts of published products as ``marketplace.services.checkout`` makes them (one sub-order per vendor,
    lines of distinct products at their price), then what became of each sub-order. The last 2 % were placed within
    the hold and still await payment: their lines are added to the products' ``reserved`` (and to their stock, so
    stock >= reserved); earlier ones were paid (then confirmed, shipped, delivered as time passed), expired unpaid,
    or canceled by the vendor before payment, none of which holds stock any more."""
    by_vendor: dict[int, list[int]] = {}
    for index, row in enumerate(products):
        if row[16] == "published":
            by_vendor.setdefault(row[2], []).append(index)
    vendor_of = {v.id: v for v in vendors}
    sellers = [vendor_of[vendor_id] for vendor_id in sorted(by_vendor)]
    if not sellers:
        raise ScaleError("Orders need published products: give more --products.")
    n_names = len(person_names())
    now = now.replace(microsecond=0)
    awaiting = max(1, round(sizes.orders * ORDER_AWAITING_SHARE))
    older = sizes.orders - awaiting
    span = int(30.44 * sizes.months * 86_400)
    hold_s = int(hold.total_seconds())
    moments = sorted(now - timedelta(seconds=rng.randrange(hold_s + 60, span)) for _ in range(older))
    moments += sorted(now - timedelta(seconds=rng.randrange(30, max(hold_s - 30, 31))) for _ in range(awaiting))
    rand, randrange, choice = rng.random, rng.randrange, rng.choice
    reserved: dict[int, int] = {}
    first_sold: dict[int, datetime] = {}
    orders = []
    for number, created in enumerate(moments):
        is_awaiting = number >= older
        hold_end = created + hold
        chosen = rng.sample(sellers, min(choice(SUB_ORDER_SIZES), len(sellers)))
        subs = []
        for vendor in chosen:
            catalogue = by_vendor[vendor.id]
            picked = rng.sample(catalogue, min(choice(LINE_SIZES), len(catalogue)))
            lines = [(index, choice(QUANTITIES)) for index in sorted(picked, key=lambda i: products[i][0])]
            sub = _SubOrderPlan(vendor, lines, sum(products[i][9] * q for i, q in lines), "awaiting_payment",
                                hold_end)
            for index, _quantity in lines:
                if index not in first_sold or created < first_sold[index]:
                    first_sold[index] = created
            if is_awaiting:
                for index, quantity in lines:
                    reserved[index] = reserved.get(index, 0) + quantity
            else:
                fate = rand()
                if fate < 0.05:
                    sub.status, sub.expired_at = "expired", hold_end
                elif fate < 0.07:
                    sub.status, sub.canceled_at = "canceled", created + timedelta(seconds=randrange(60, hold_s))
                    sub.cancel_reason = VENDOR_CANCEL_REASONS[int(fate * 1000) % len(VENDOR_CANCEL_REASONS)]
                else:
                    sub.status, sub.paid_at = "paid", created + timedelta(seconds=randrange(60, hold_s))
                    steps = (("confirmed", "confirmed_at", timedelta(minutes=randrange(10, 360))),
                             ("shipped", "shipped_at", timedelta(hours=randrange(2, 48))),
                             ("delivered", "delivered_at", timedelta(hours=randrange(20, 96))))
                    moment = sub.paid_at
                    for status, column, delay in steps:
                        moment += delay
                        if moment > now:
                            break
                        sub.status = status
                        setattr(sub, column, moment)
            subs.append(sub)
        tenant_display = tenants[randrange(len(tenants))][2]
        orders.append(_OrderPlan(created, randrange(n_names), f"09{randrange(10**8):08d}",
                                 f"Số {randrange(1, 200)}, thôn {randrange(1, 13)}, {tenant_display}", subs))
    for index, quantity in reserved.items():
        products[index][11] += quantity  # stock on hand covers what is held
        products[index][12] = quantity
    for index, moment in first_sold.items():  # listed before anyone ordered it
        if products[index][18] >= moment:
            products[index][18] = products[index][19] = moment - timedelta(days=1 + index % 30)
    return orders


ORDER_COLUMNS = ("id", "code", "buyer_name", "phone", "address", "note", "total", "created_at")
SUB_ORDER_COLUMNS = (
    "id", "tenant_id", "order_id", "vendor_id", "status", "subtotal", "intent_id", "hold_expires_at", "refund_due",
    "late_payment", "cancel_reason", "created_at", "paid_at", "confirmed_at", "shipped_at", "delivered_at",
    "canceled_at")
LINE_COLUMNS = ("id", "tenant_id", "sub_order_id", "product_id", "name", "unit", "unit_price", "quantity")


def load(run) -> None:
    """The catalogue, then the orders: products are COPYed with the reservations of the orders still awaiting
    payment already counted, so the two always agree. A sub-order's payment intent is on its vendor's own account
    (purpose ``marketplace_order``, for exactly its subtotal), as ``marketplace.payments.request_payment`` makes it."""
    connection, sizes, tenants, rng, now, bar, report, money = (run.connection(), run.sizes, run.tenants, run.rng,
                                                                 run.now, run.bar, run.report, run.money)
    vendors = run.loaded.get("vendors", [])
    order_rng = run.generator("orders")
    order_code = Codes("DH", ORDER_CODE_ALPHABET, 8)
    hold = timedelta(minutes=current_app.config.get("MARKETPLACE_HOLD_MINUTES") or 30)
    with run.timed("products"):
        products = plan_products(connection, vendors, sizes, rng, now) if sizes.products else []
        orders = plan_orders(products, vendors, tenants, sizes, order_rng, now, hold) if sizes.orders else []
        with bar("Products", len(products)) as progress:
            report.counts["products"] = copy_rows(connection, Product.__table__, PRODUCT_COLUMNS,
                                                  (tuple(row) for row in products), progress)
    if not orders:
        return
    with run.timed("orders"):
        names = person_names()
        subs = [sub for order in orders for sub in order.subs]
        n_lines = sum(len(sub.lines) for sub in subs)
        first_order = reserve_ids(connection, Order.__table__, len(orders))
        first_sub = reserve_ids(connection, SubOrder.__table__, len(subs))
        first_line = reserve_ids(connection, OrderLine.__table__, n_lines)
        first_intent = money.reserve_intents(connection, len(subs))
        public_ids = [f"pi_{secrets.token_hex(12)}" for _ in subs]

        def order_rows():
            for i, order in enumerate(orders):
                yield (first_order + i, order_code(first_order + i), names[order.buyer], order.phone, order.address,
                       "", sum(sub.subtotal for sub in order.subs), order.created_at)

        def numbered():  # (order id, order code, sub-order id, index of the sub-order, plan)
            k = 0
            for i, order in enumerate(orders):
                code = order_code(first_order + i)
                for sub in order.subs:
                    yield first_order + i, code, first_sub + k, k, order, sub
                    k += 1

        def intent_rows():
            for _order_id, code, sub_id, k, order, sub in numbered():
                vendor = sub.vendor
                paid = sub.paid_at is not None
                ended = sub.expired_at or sub.canceled_at
                yield money.intent(
                    first_intent + k, vendor.tenant_id, vendor.account, sub.subtotal, public_id=public_ids[k],
                    status="succeeded" if paid else "canceled" if ended else "requires_action",
                    received=sub.subtotal if paid else 0, description=f"Đơn hàng {code}", purpose=PURPOSE,
                    metadata=json_object(order=code, sub_order=str(sub_id)), expires_at=sub.hold_expires_at,
                    created_at=order.created_at, updated_at=sub.paid_at or ended or order.created_at,
                    succeeded_at=sub.paid_at,
                    cancellation_reason=("abandoned" if sub.expired_at else "requested_by_customer") if ended else None,
                    canceled_at=ended)

        def sub_rows():
            for order_id, _code, sub_id, k, order, sub in numbered():
                yield (sub_id, sub.vendor.tenant_id, order_id, sub.vendor.id, sub.status, sub.subtotal,
                       public_ids[k], sub.hold_expires_at, False, False, sub.cancel_reason, order.created_at,
                       sub.paid_at, sub.confirmed_at, sub.shipped_at, sub.delivered_at, sub.canceled_at)

        def line_rows():
            line_id = first_line
            for _order_id, _code, sub_id, _k, _order, sub in numbered():
                for index, quantity in sub.lines:
                    product = products[index]
                    yield (line_id, product[1], sub_id, product[0], product[4], product[10], product[9], quantity)
                    line_id += 1

        with bar("Orders", len(orders)) as progress:
            report.counts["orders"] = copy_rows(connection, Order.__table__, ORDER_COLUMNS, order_rows(), progress)
        with bar("Order intents", len(subs)) as progress:
            report.counts["order_intents"] = money.copy_intents(connection, intent_rows(), progress)
        with bar("Sub-orders", len(subs)) as progress:
            report.counts["sub_orders"] = copy_rows(connection, SubOrder.__table__, SUB_ORDER_COLUMNS, sub_rows(),
                                                    progress)
        with bar("Order lines", n_lines) as progress:
            report.counts["order_lines"] = copy_rows(connection, OrderLine.__table__, LINE_COLUMNS, line_rows(),
                                                     progress)


