"""Smart markets (chợ thông minh): markets and stalls let to the commune's vendors (tenants/vendors/), stall QR
posters, QR and cash sales from the vendor's phone, and the commune's cashless figures.

The market hears about its sales' payments through ``payment_event`` (below); tenants/market/payments.py is its
only other tie to payments.
"""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from app.payments.reactions import payment_event
from tenants.vendors import pages as vendor_pages

bp = Blueprint("market", __name__, url_prefix="/c/<tenant_slug>/market", template_folder="templates")
api_bp = Blueprint("market_api", __name__, url_prefix="/api/c/<tenant_slug>/market")


@payment_event.connect_via("market_sale")
def _sale_payment_changed(purpose, *, intent, event_type):
    """In the confirming transaction: the sale turns paid (once) or canceled with its intent. Flushes only."""
    from tenants.market import services

    if event_type == "payment_intent.succeeded":
        services.sale_paid(intent.tenant_id, intent.id, intent.succeeded_at)
    elif event_type == "payment_intent.canceled":
        services.sale_canceled(intent.tenant_id, intent.id)
    elif event_type == "refund.created" and intent.amount_received - intent.amount_refunded < intent.amount:
        services.sale_refunded(intent.tenant_id, intent.id)  # the sale's own money goes back


from tenants.market import notify, views_public, views_staff, views_vendor  # noqa: E402,F401  (notify: #20)


def _register_money_checks() -> None:
    """``flask payments check`` checks the market's ledger too: payments.py registers it."""
    from tenants.market import payments  # noqa: F401


_register_money_checks()

# The vendor's phone pages: selling and the stall poster come first in its tab bar; its profile names its stalls.
vendor_pages.add_tab("market.sales", _l("Sell"), testid="tab-sales", order=10, also=("market.sale",), who="market")
vendor_pages.add_tab("market.posters", _l("QR poster"), testid="tab-poster", order=20, who="market")


def _profile_lines(vendor) -> list[str]:
    from tenants.market.models import GOODS_CATEGORY_LABELS
    from tenants.market.services import stalls_of_vendor

    return [str(GOODS_CATEGORY_LABELS.get(vendor.goods_category, vendor.goods_category)),
            *(f"{market.name} {stall.number}" for stall, market in stalls_of_vendor(vendor.id))]


vendor_pages.add_profile_lines(_profile_lines)


def _sale_links(intent_ids: list[int]) -> dict:
    """The sale each payment paid for, as its stallholder knows it, for the transfers page (paid twice, too late)."""
    from flask import url_for
    from flask_babel import gettext as _
    from sqlalchemy import select

    from app.extensions import db
    from app.formatting import format_datetime, format_vnd
    from tenants.market.models import MarketSale

    rows = db.session.execute(select(MarketSale.id, MarketSale.intent_id, MarketSale.amount, MarketSale.created_at)
                              .where(MarketSale.intent_id.in_(intent_ids)))
    return {intent_id: (_("Sale of %(amount)s, %(time)s", amount=format_vnd(amount), time=format_datetime(at)),
                        url_for("market.sale", sale_id=sale_id)) for sale_id, intent_id, amount, at in rows}


vendor_pages.add_payment_links(_sale_links)


def _register_district_figures() -> None:
    """The district dashboard's per-commune counts come from ``queries.district_figures`` (app/district/figures.py)."""
    from app.district import figures
    from tenants.market import queries

    from functools import partial  # the registry asks for the records' origins (app/district/figures.py)

    figures.register("market", partial(queries.district_figures, by_origin=True), figures.MARKET_KEYS,
                     monthly=partial(queries.district_monthly, by_origin=True))


_register_district_figures()


def _register_scale_loader() -> None:
    """``flask seed-scale`` runs this package's scale.py, in ``order`` among the domains' loaders (app/scale.py)."""
    from app import scale

    def load(run) -> None:
        from tenants.market import scale as market_scale

        market_scale.load(run)

    scale.register("market", load, order=30)


_register_scale_loader()


def _register_desk_tile() -> None:
    """The market on the commune's desk (tenants/tiles.py)."""
    from flask_babel import lazy_gettext as _l

    from tenants import tiles

    tiles.on_desk(tiles.DeskTile("market", order=40, links=(
        tiles.Link(_l("Market"), "market.dashboard", testid="market-link"),)))


_register_desk_tile()


def _declare_records() -> None:
    """The audit trail records markets and stalls, and the sales a vendor's word stands for (cash, or a
    transfer confirmed by hand); sales the bank confirmed are the bank's record (app/audit)."""
    from flask_babel import lazy_gettext as _l

    from app import audit

    audit.track("markets", _l("Market"))
    audit.track("stalls", _l("Stall"))
    audit.track("market_sales", _l("Market sale"),
                when=lambda sale: sale.method == "cash" or sale.confirmation == "hand")


_declare_records()
