"""A vendor's marketplace pages (``/c/<commune>/marketplace/...``): listings, images, CSV import, sub-orders.
Only the signed-in vendor's own records exist here (``vendor_required`` sets ``g.vendor_id``; others are 404)."""

from __future__ import annotations

import json

from flask import Response, abort, flash, g, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _

from tenants.vendors.access import vendor_required
from app import transactions
from app.errors import DomainError, ValidationError, back_to
from app.exports import csv_response
from app.formatting import format_datetime
from app.uploads import upload_limit
from marketplace import images, importer, queries, services, vendor_bp
from marketplace.forms import CancelForm, ImageForm, ImportForm, ProductForm, ShopDeliveryForm
from marketplace.importer import import_rows, read_csv
from tenants.scoping import tenant_context
from tenants.vendors.services import get_vendor
from marketplace.statuses import CATEGORIES, FULFILMENT_LABELS, SUB_ORDER_STATUSES, VENDOR_ACTIONS, status_label


def _render(template: str, status: int = 200, **context):
    return render_template(template, vendor=get_vendor(g.vendor_id), categories=CATEGORIES,
                           status_label=status_label, **context), status


@vendor_bp.route("/")
@vendor_required
def desk():
    return _render("marketplace/vendor/desk.html", figures=queries.vendor_desk(g.vendor_id),
                   sales=queries.vendor_daily_sales(g.vendor_id),
                   new_orders=queries.vendor_sub_orders(g.vendor_id, "paid", limit=20),
                   refunds=[row for row in queries.vendor_sub_orders(g.vendor_id, limit=200) if row[0].refund_due])


@vendor_bp.route("/products")
@vendor_required
def products():
    return _render("marketplace/vendor/products.html", products=queries.vendor_products(g.vendor_id))


def _form_data(form: ProductForm) -> dict:
    return {name: getattr(form, name).data for name in (
        "name", "category", "price", "unit", "stock", "description", "ocop_stars", "ocop_certificate",
        "ocop_expires_on")}


def _field_error(form, err: DomainError) -> None:
    field = getattr(form, err.field, None) if err.field else None
    if field is not None and isinstance(getattr(field, "errors", None), list):
        field.errors.append(str(err.message))
    else:
        flash(str(err.message), "error")


@vendor_bp.route("/products/new", methods=["GET", "POST"])
@vendor_required
def new_product():
    form = ProductForm()
    if form.validate_on_submit():
        try:
            product = services.create_product(g.vendor_id, _form_data(form))
        except DomainError as err:
            _field_error(form, err)
        else:
            flash(_("Product saved as a draft: add its photo, then publish it.") if form.publish.data
                  else _("Product saved."), "success")
            return redirect(url_for("marketplace_vendor.edit_product", product_id=product.id))
    return _render("marketplace/vendor/product_form.html", 400 if form.is_submitted() else 200, form=form,
                   product=None)


@vendor_bp.route("/products/<int:product_id>", methods=["GET", "POST"])
@vendor_required
def edit_product(product_id: int):
    product = services.get_product(g.vendor_id, product_id)
    form = ProductForm(obj=None if request.method == "POST" else product)
    if request.method == "GET":
        form.ocop_stars.data = str(product.ocop_stars or "")
        form.ocop_expires_on.data = product.ocop_expires_on.strftime("%d/%m/%Y") if product.ocop_expires_on else ""
        form.stock.data = str(product.stock)
        form.price.data = str(product.price)
        form.publish.data = product.status == "published"
    if form.validate_on_submit():
        try:
            services.update_product(g.vendor_id, product_id, _form_data(form))
            services.set_published(g.vendor_id, product_id, bool(form.publish.data))
        except DomainError as err:
            _field_error(form, err)
        else:
            flash(_("Product saved."), "success")
            return redirect(url_for("marketplace_vendor.edit_product", product_id=product_id))
    return _render("marketplace/vendor/product_form.html", 400 if form.is_submitted() else 200, form=form,
                   product=product, image_form=ImageForm())


@vendor_bp.route("/products/<int:product_id>/<action>", methods=["POST"])
@vendor_required
@back_to("marketplace_vendor.edit_product")  # refused (no photo yet): the product's page, where photos are added
def publish(product_id: int, action: str):
    if action not in ("publish", "unpublish"):
        abort(404)
    services.set_published(g.vendor_id, product_id, action == "publish")
    flash(_("Published.") if action == "publish" else _("Taken off the marketplace."), "success")
    return redirect(url_for("marketplace_vendor.products"))


@vendor_bp.route("/products/<int:product_id>/stock", methods=["POST"])
@vendor_required
@back_to("marketplace_vendor.products")
def stock(product_id: int):
    services.set_stock(g.vendor_id, product_id, request.form.get("stock", ""))
    flash(_("Stock updated."), "success")
    return redirect(url_for("marketplace_vendor.products"))


@vendor_bp.route("/products/<int:product_id>/images", methods=["POST"])
@vendor_required
@upload_limit(images.MAX_BYTES)
@back_to("marketplace_vendor.edit_product")
def add_image(product_id: int):
    product = services.get_product(g.vendor_id, product_id, lock=True)
    upload = request.files.get("image")
    if len(product.images or []) >= images.MAX_IMAGES:
        raise ValidationError(_("A product has %(n)s photos at most.", n=images.MAX_IMAGES))
    name, full, thumb = images.prepare(upload.read(images.MAX_BYTES + 1) if upload else b"")
    if name not in (product.images or []):
        # Stored first: the row, committed after the view, never names a picture that is not there.
        images.store(product.tenant_id, product.id, name, full, thumb)
        product.images = [*(product.images or []), name]
    flash(_("Photo added."), "success")
    return redirect(url_for("marketplace_vendor.edit_product", product_id=product_id))


@vendor_bp.route("/products/<int:product_id>/images/<name>/delete", methods=["POST"])
@vendor_required
def delete_image(product_id: int, name: str):
    product = services.get_product(g.vendor_id, product_id, lock=True)
    if name in (product.images or []):
        if product.status == "published" and len(product.images) == 1:
            flash(_("A product on sale keeps at least one photo: add another first, or take it off the marketplace."),
                  "error")
            return redirect(url_for("marketplace_vendor.edit_product", product_id=product_id))
        product.images = [n for n in product.images if n != name]
        tenant_id = product.tenant_id
        # The file goes once the row no longer names it (after the commit); if the commit fails it stays.
        transactions.after_commit(lambda: images.remove(tenant_id, product_id, name))
        flash(_("Photo removed."), "success")
    return redirect(url_for("marketplace_vendor.edit_product", product_id=product_id))


# ------------------------------------------------------------------------------------------------ delivery, pick-up

_SHOP_FIELDS = ("offers_delivery", "delivery_fee", "delivery_estimate", "offers_pickup", "pickup_place",
                "pickup_estimate")


@vendor_bp.route("/delivery", methods=["GET", "POST"])
@vendor_required
def shop_delivery():
    """The producer's delivery (flat fee, estimate) and pick-up (place, estimate) that its shoppers choose from."""
    vendor = get_vendor(g.vendor_id)
    form = ShopDeliveryForm(obj=None if request.method == "POST" else vendor)
    if request.method == "GET":
        form.delivery_fee.data = str(vendor.delivery_fee)
    if form.validate_on_submit():
        try:
            services.set_shop_delivery(g.vendor_id, {name: getattr(form, name).data for name in _SHOP_FIELDS})
        except DomainError as err:
            _field_error(form, err)
        else:
            flash(_("Delivery and pick-up saved."), "success")
            return redirect(url_for("marketplace_vendor.shop_delivery"))
    return _render("marketplace/vendor/delivery.html", 400 if form.is_submitted() else 200, form=form)


# ------------------------------------------------------------------------------------------------ CSV import


@vendor_bp.route("/products/import", methods=["GET", "POST"])
@vendor_required
@upload_limit(importer.MAX_BYTES)
def import_products():
    form = ImportForm()
    if not form.validate_on_submit():
        return _render("marketplace/vendor/import.html", 400 if form.is_submitted() else 200, form=form)
    upload = request.files.get("file")
    try:
        rows = read_csv(upload.read(importer.MAX_BYTES + 1) if upload else b"")
    except DomainError as err:
        flash(str(err.message), "error")
        return _render("marketplace/vendor/import.html", 400, form=form)
    vendor_id, tenant_id = g.vendor_id, g.tenant.id

    def lines():
        """NDJSON: a progress line every few rows, then the report (the page's script draws the progress bar)."""
        with tenant_context(tenant_id):  # the body is sent after the view returned
            for event in import_rows(vendor_id, rows):
                yield json.dumps(event, ensure_ascii=False) + "\n"

    if request.accept_mimetypes.best == "application/x-ndjson":
        return Response(stream_with_context(lines()), mimetype="application/x-ndjson",
                        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
    report = None
    for event in import_rows(vendor_id, rows):
        report = event
    return _render("marketplace/vendor/import.html", 200 if not report["errors"] else 400, form=form, report=report)


# ------------------------------------------------------------------------------------------------ sub-orders


@vendor_bp.route("/orders")
@vendor_required
def orders():
    status = request.args.get("status") or None
    if status not in {s.value for s in SUB_ORDER_STATUSES}:
        status = None
    rows = queries.vendor_sub_orders(g.vendor_id, status)
    return _render("marketplace/vendor/orders.html", rows=rows, status=status, statuses=SUB_ORDER_STATUSES,
                   lines=queries.sub_order_lines([sub.id for sub, _ in rows]))


@vendor_bp.route("/orders/<int:sub_order_id>")
@vendor_required
def order(sub_order_id: int):
    sub = services.get_sub_order(g.vendor_id, sub_order_id)
    parent = queries.order_of(sub)
    return _render("marketplace/vendor/order.html", sub=sub, order=parent, cancel_form=CancelForm(),
                   lines=queries.sub_order_lines([sub.id])[sub.id], actions=VENDOR_ACTIONS)


@vendor_bp.route("/orders/<int:sub_order_id>/<action>", methods=["POST"])
@vendor_required
@back_to("marketplace_vendor.order")
def act(sub_order_id: int, action: str):
    if action not in (*VENDOR_ACTIONS, "refunded"):
        abort(404)
    if action == "refunded":
        services.mark_refunded(g.vendor_id, sub_order_id)
    else:
        services.act_on_sub_order(g.vendor_id, sub_order_id, action, request.form.get("reason"))
    flash(_("Order updated."), "success")
    return redirect(url_for("marketplace_vendor.order", sub_order_id=sub_order_id))


@vendor_bp.route("/orders.csv")
@vendor_required
def orders_csv():
    rows = queries.vendor_sub_orders(g.vendor_id, limit=100_000)
    lines = queries.sub_order_lines([sub.id for sub, _ in rows])
    header = [_("Order"), _("Placed"), _("Status"), _("Shopper"), _("Phone"), _("Address"), _("Products"),
              _("Amount (đồng)"), _("Refund due"), _("Reason"), _("Delivery or pick-up"), _("Shipping fee (đồng)")]
    body = [[order.code, format_datetime(sub.created_at), str(status_label(sub.status)), order.buyer_name,
             order.phone, order.address, "; ".join(f"{line.quantity} × {line.name}" for line in lines[sub.id]),
             sub.subtotal, _("yes") if sub.refund_due else "", sub.cancel_reason or "",
             str(FULFILMENT_LABELS.get(sub.fulfilment, sub.fulfilment)), sub.shipping_fee] for sub, order in rows]
    return csv_response("don-hang.csv", header, body)


