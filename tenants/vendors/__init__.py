"""Vendors: the household businesses and cooperatives of a commune, which the market (stalls, sales at the stall)
and the marketplace (products, orders) both build on: the vendor, its bank accounts, its sign-in invitation and
its own pages (profile, bank account, the transfers it must decide on). See docs/decisions.md ("Vendors")."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from tenants.vendors import pages

# The signed-in vendor's own pages: "vendor" (singular) like the "me" of the market's /market/me/... pages.
bp = Blueprint("vendors", __name__, url_prefix="/c/<tenant_slug>/vendor", template_folder="templates")


@bp.app_context_processor
def _vendor_tabs():
    def vendor_tabs():
        from flask import g

        from tenants.vendors.services import get_vendor

        vendor_id = g.get("vendor_id")
        return pages.tabs(get_vendor(vendor_id).at_market if vendor_id else None)

    return {"vendor_tabs": vendor_tabs}


pages.add_tab("vendors.bank", _l("Bank"), testid="tab-bank", order=30, also=("vendors.transfers",))
pages.add_tab("vendors.profile", _l("Profile"), testid="tab-profile", order=40)

from tenants.vendors import views  # noqa: E402,F401


def _register_scale_loader() -> None:
    """``flask seed-scale`` runs this package's scale.py, in ``order`` among the domains' loaders (app/scale.py)."""
    from app import scale

    def load(run) -> None:
        from tenants.vendors import scale as vendors_scale

        vendors_scale.load(run)

    scale.register("vendors", load, order=10)


_register_scale_loader()


def _declare_records() -> None:
    """The audit trail records vendors, and which payment account is a vendor's and which sign-in acts for it
    (where a vendor's money goes: app/audit)."""
    from app import audit

    audit.track("vendors", _l("Vendor"), personal=("phone",))
    audit.track("vendor_accounts", _l("Vendor's bank account"))
    audit.track("vendor_memberships", _l("Vendor's sign-in"))


_declare_records()
