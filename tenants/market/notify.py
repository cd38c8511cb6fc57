"""What the market tells a vendor who asks (issue #20): a summary of the day's sales each evening. The one module
through which the market reaches app.notify; the vendor chooses on /me/messages (SMS to the business phone, e-mail
to the sign-in address, Zalo, or none: the default is none)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from app import notify
from app.extensions import db
from app.formatting import format_vnd, local_midnight, to_local
from tenants.market.models import MarketSale
from tenants.market.statuses import PAID
from tenants.models import Tenant
from tenants.scoping import tenant_context
from tenants.vendors.models import Vendor

SUMMARY_HOUR = 20  # Hà Nội time: the day's summary is written from this hour on
PREFIX = "vendor-daily:"


def subject(vendor_id: int) -> str:
    return f"{PREFIX}{vendor_id}"


def choose(vendor: Vendor, channel: str, email: str = "", locale: str | None = None) -> None:
    notify.subscribe(subject(vendor.id), phone=vendor.phone, email=email, channel=channel, locale=locale)


def daily_summaries(now: datetime) -> int:
    local = to_local(now)
    if local.hour < SUMMARY_HOUR:
        return 0
    from app.notify.models import NotifySubscription

    start = local_midnight(local.date())
    asked = db.session.execute(select(NotifySubscription.tenant_id, NotifySubscription.subject).where(
        NotifySubscription.subject.like(f"{PREFIX}%"), NotifySubscription.channel != "none")).all()
    written = 0
    for tenant_id, subj in asked:
        vendor_id = int(subj[len(PREFIX):])
        with tenant_context(tenant_id):
            count, total = db.session.execute(
                select(func.count(), func.coalesce(func.sum(MarketSale.amount), 0)).where(
                    MarketSale.vendor_id == vendor_id, MarketSale.status == PAID, MarketSale.paid_at >= start,
                    MarketSale.paid_at < start + timedelta(days=1))).one()
            slug = db.session.scalar(select(Tenant.slug).where(Tenant.id == tenant_id))

            def build(_locale, count=count, total=total, slug=slug):
                return notify.Text(
                    title=_("Your sales on %(day)s", day=f"{local:%d/%m/%Y}"),
                    body=_("%(n)s sales paid today, %(total)s in all.", n=count, total=format_vnd(total)),
                    link=notify.public_url("market.sales", tenant_slug=slug),
                    reason=_("you asked for a daily summary of your sales."),
                    zns_template="vendor_daily", zns_data={"so_don": str(count), "tong_tien": str(total)})

            if notify.send(subj, "daily_summary", build, key=f"{subj}:{tenant_id}:{local:%Y-%m-%d}"):
                written += 1
    return written


notify.periodic("market.daily_summaries", daily_summaries)
