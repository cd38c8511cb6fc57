"""What the marketplace tells the shopper (issue #20): the one module through which this domain reaches app.notify.

- order placed: each producer's part, its pay link (the VietQR page) and when the hold ends (``checkout``);
- a part paid, shipped, delivered (``payment_changed``, ``act_on_sub_order``): keyed by part and status, so a
  repeated notification or a second click writes nothing;
- a hold about to run out (10 minutes before, unpaid): a periodic producer, once per part.

An order spans communes; its messages and the shopper's choice live with the commune of its first part (the
"home" commune of the order), whatever part they speak of.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from app import notify
from app.clock import as_utc
from app.extensions import db
from app.formatting import format_datetime, format_vnd, to_local
from marketplace.models import Order, SubOrder
from marketplace.statuses import AWAITING_PAYMENT, DELIVERED, PAID, SHIPPED
from tenants.scoping import all_tenants, tenant_context
from tenants.vendors.models import Vendor

EVENTS = {PAID: "part_paid", SHIPPED: "shipped", DELIVERED: "delivered"}
HOLD_WARNING = timedelta(minutes=10)
ZNS_TEMPLATE = "order_status"


def subject(order_id: int) -> str:
    return f"order:{order_id}"


def _parts(order_id: int) -> list[SubOrder]:
    with all_tenants():
        return list(db.session.scalars(select(SubOrder).where(SubOrder.order_id == order_id).order_by(SubOrder.id)))


def _vendor_name(sub: SubOrder) -> str:
    with all_tenants():
        return db.session.scalar(select(Vendor.business_name).where(Vendor.id == sub.vendor_id)) or ""


def _order_url(order: Order) -> str:
    return notify.public_url("marketplace.order", code=order.code)


def choose(order: Order, channel: str | None, email: str = "", locale: str | None = None) -> None:
    """The shopper's choice of channel (or "none") for the order, made in the order's home commune."""
    parts = _parts(order.id)
    if parts:
        with tenant_context(parts[0].tenant_id):
            notify.subscribe(subject(order.id), phone=order.phone, email=email, channel=channel, locale=locale)


def order_placed(order: Order) -> None:
    """After checkout, in its transaction: the shopper's subscription (SMS to the phone given, by default) and the
    message with each producer's pay link and the hold's end."""
    parts = _parts(order.id)
    if not parts:
        return
    with tenant_context(parts[0].tenant_id):
        if notify.subscription(subject(order.id)) is None:
            notify.subscribe(subject(order.id), phone=order.phone)

        def build(_locale):
            lines = [_("%(vendor)s: %(amount)s, pay before %(end)s: %(url)s", vendor=_vendor_name(sub),
                       amount=format_vnd(sub.subtotal), end=format_datetime(to_local(as_utc(sub.hold_expires_at))),
                       url=notify.public_url("payments.hosted", public_id=sub.intent_id)) for sub in parts]
            return notify.Text(
                title=_("Order %(code)s placed", code=order.code),
                body="\n".join([_("Your order %(code)s is placed. Pay each producer:", code=order.code)] + lines),
                link=_order_url(order), reason=_("you placed order %(code)s.", code=order.code),
                zns_template=ZNS_TEMPLATE,
                zns_data={"ma_don": order.code, "trang_thai": "placed", "so_tien": str(order.total)})

        notify.send(subject(order.id), "order_placed", build, key=f"order:{order.id}:placed")


def _send_about(sub: SubOrder, event: str, body, key: str) -> None:
    order = db.session.get(Order, sub.order_id)
    parts = _parts(sub.order_id)
    with tenant_context(parts[0].tenant_id):
        def build(_locale):
            return notify.Text(
                title=_("Order %(code)s: %(vendor)s", code=order.code, vendor=_vendor_name(sub)),
                body=body(order), link=_order_url(order), reason=_("you placed order %(code)s.", code=order.code),
                zns_template=ZNS_TEMPLATE,
                zns_data={"ma_don": order.code, "trang_thai": event, "so_tien": str(sub.subtotal)})

        notify.send(subject(order.id), event, build, key=key)


def sub_order_changed(sub: SubOrder) -> None:
    """A part's status as it now is: paid, shipped or delivered is told once (the key names part and status)."""
    event = EVENTS.get(sub.status)
    if event is None:
        return
    words = {
        "part_paid": lambda o: _("Your payment of %(amount)s to %(vendor)s for order %(code)s arrived.",
                                 amount=format_vnd(sub.subtotal), vendor=_vendor_name(sub), code=o.code),
        "shipped": lambda o: _("%(vendor)s has shipped its part of order %(code)s.", vendor=_vendor_name(sub),
                               code=o.code),
        "delivered": lambda o: _("%(vendor)s's part of order %(code)s is delivered.", vendor=_vendor_name(sub),
                                 code=o.code),
    }[event]
    _send_about(sub, event, words, key=f"order:{sub.order_id}:part:{sub.id}:{event}")


def holds_expiring(now: datetime) -> int:
    """Parts still unpaid whose hold ends within ten minutes: one reminder each."""
    rows = list(db.session.scalars(select(SubOrder).where(
        SubOrder.status == AWAITING_PAYMENT, SubOrder.hold_expires_at > now,
        SubOrder.hold_expires_at <= now + HOLD_WARNING).order_by(SubOrder.id).limit(1000)))
    for sub in rows:
        end = format_datetime(to_local(as_utc(sub.hold_expires_at)))
        url = notify.public_url("payments.hosted", public_id=sub.intent_id)
        _send_about(sub, "hold_expiring",
                    lambda o, end=end, url=url: _("Your hold on order %(code)s ends at %(end)s; pay here to keep "
                                                  "it: %(url)s", code=o.code, end=end, url=url),
                    key=f"order:{sub.order_id}:part:{sub.id}:hold_expiring")
    return len(rows)


notify.periodic("marketplace.holds_expiring", holds_expiring)
