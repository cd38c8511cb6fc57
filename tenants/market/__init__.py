"""Smart markets (chợ thông minh): markets, stalls and the commune's vendors (household businesses, cooperatives),
stall QR posters, QR and cash sales from the vendor's phone, and the commune's cashless figures.

The vendor is one entity across the product: it sells at a market stall and on the shared marketplace, and its bank
account is a payment account of the payments primitive (``PaymentAccount.vendor_id``). The market hears about its
sales' payments through ``payment_event`` (below); tenants/market/payments.py is its only other tie to payments.
"""

from flask import Blueprint

from app.payments.reactions import payment_event

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


from tenants.market import views_public, views_staff, views_vendor  # noqa: E402,F401


def _register_district_figures() -> None:
    """The district dashboard's per-commune counts come from ``queries.district_figures`` (app/district/figures.py)."""
    from app.district import figures
    from tenants.market import queries

    figures.register("market", queries.district_figures, figures.MARKET_KEYS, monthly=queries.district_monthly)


_register_district_figures()


def _declare_records() -> None:
    """The audit trail records markets, stalls and vendors, and the sales a vendor's word stands for (cash, or a
    transfer confirmed by hand); sales the bank confirmed are the bank's record (app/audit)."""
    from flask_babel import lazy_gettext as _l

    from app import audit

    audit.track("markets", _l("Market"))
    audit.track("stalls", _l("Stall"))
    audit.track("vendors", _l("Vendor"), personal=("phone",))
    audit.track("market_sales", _l("Market sale"),
                when=lambda sale: sale.method == "cash" or sale.confirmation == "hand")


_declare_records()
