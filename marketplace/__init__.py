"""The shared marketplace of local products from vendors of every commune: the public catalogue, the cart and
guest checkout split into one sub-order per vendor (each paid by VietQR to the vendor's own account), the vendors'
listings and orders, and the JSON catalogue. Rules in services.py, reads in queries.py, money in payments.py.
"""

from flask import Blueprint

from app.payments.reactions import payment_event

bp = Blueprint("marketplace", __name__, url_prefix="/marketplace", template_folder="templates")
vendor_bp = Blueprint("marketplace_vendor", __name__, url_prefix="/c/<tenant_slug>/marketplace",
                      template_folder="templates")
api_bp = Blueprint("marketplace_api", __name__, url_prefix="/api")


@payment_event.connect_via("marketplace_order")
def _sub_order_payment(purpose, *, intent, event_type):
    """A sub-order's payment changed (inside the confirming transaction): stock and status follow."""
    from marketplace import services

    services.payment_changed(intent, event_type)


from marketplace import api, views_public, views_vendor  # noqa: E402,F401


def _vendor_tabs() -> None:
    """A producer's phone pages: its shop and its orders first in the tab bar, where it lands (#19 item 3)."""
    from flask_babel import lazy_gettext as _l

    from tenants.vendors import pages

    pages.add_tab("marketplace_vendor.desk", _l("My shop"), testid="tab-shop", order=5, who="shop",
                  also=("marketplace_vendor.products", "marketplace_vendor.new_product",
                        "marketplace_vendor.edit_product", "marketplace_vendor.import_products"))
    pages.add_tab("marketplace_vendor.orders", _l("Orders"), testid="tab-orders", order=6, who="shop",
                  also=("marketplace_vendor.order",))


_vendor_tabs()


def _register_money_checks() -> None:
    """``flask payments check`` checks the marketplace's own money invariants too: payments.py registers them."""
    from marketplace import payments  # noqa: F401


_register_money_checks()


def _register_district_figures() -> None:
    """The district dashboard's per-commune counts come from ``queries.district_figures`` (app/district/figures.py)."""
    from app.district import figures
    from marketplace import queries

    from functools import partial  # the registry asks for the records' origins (app/district/figures.py)

    figures.register("marketplace", partial(queries.district_figures, by_origin=True), figures.MARKETPLACE_KEYS,
                     monthly=partial(queries.district_monthly, by_origin=True))


_register_district_figures()


def _register_scale_loader() -> None:
    """``flask seed-scale`` runs this package's scale.py, in ``order`` among the domains' loaders (app/scale.py)."""
    from app import scale

    def load(run) -> None:
        from marketplace import scale as marketplace_scale

        marketplace_scale.load(run)

    scale.register("marketplace", load, order=20)


_register_scale_loader()


def _order_done(orders):
    """Every part of the order delivered, canceled or expired, and no money owed back."""
    from sqlalchemy import exists, or_, select

    from marketplace.statuses import CANCELED, DELIVERED, EXPIRED

    parts = orders.metadata.tables["sub_orders"]
    return ~exists(select(parts.c.id).where(parts.c.order_id == orders.c.id, or_(
        parts.c.status.not_in((DELIVERED, CANCELED, EXPIRED)), parts.c.refund_due.is_(True))))


def _declare_records() -> None:
    """The audit trail records listings (not their stock) and each vendor's part of an order; the shoppers' contact
    details on orders are personal data (app/audit). A product's pictures are stored under
    marketplace/<commune>/<product>/ (app/backup)."""
    from flask_babel import lazy_gettext as _l

    from app import audit, backup, retention

    backup.file_keys("marketplace/{tenants}/{products}/")

    audit.track("products", _l("Product"), ignore=("stock", "reserved", "updated_at", "name_folded", "name_lower"))
    audit.track("sub_orders", _l("Order part"))
    audit.personal_data("orders", "buyer_name", "phone", "address", "note", label=_l("Order"))
    retention.rule("marketplace.order_contacts", _l("Shoppers' names, phones and addresses on orders"), "orders",
                   days=365, clock="created_at", where=_order_done,
                   anonymise={"buyer_name": "", "phone": "", "address": "", "note": ""},
                   basis=_l("Delivery, the order look-up and a dispute need them; the amounts and lines stay."))


_declare_records()


def _declare_lineage() -> None:
    """When communes merge (tenants/lineage.py): the catalogue counts follow the products by their triggers
    (migration 0013_catalogue), which count a product's change of commune; they are never moved by hand."""
    from tenants import lineage

    lineage.stays("catalogue_counts", "kept by the products' triggers, which follow the products")


_declare_lineage()
