"""The commune staff's market pages: the dashboard, markets and stalls, vendors (onboarding, invitation,
deactivation, their posters). Commune admins change things; officers read."""

from __future__ import annotations

from datetime import timedelta

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.access import commune_staff_required
from app.auth.models import STAFF_ROLES
from app.errors import DomainError, back_to
from app.formatting import format_vnd
from app.links import external_url
from tenants.market import bp, poster, queries, services
from tenants.market.forms import AssignStallForm, MarketForm, StallsForm, VendorForm
from tenants.market.models import GOODS_CATEGORY_LABELS
from tenants.vendors import invitations
from tenants.vendors import payments as vendor_payments
from tenants.vendors import services as vendor_services

DASHBOARD_DAYS = (7, 30, 90)


def _is_admin() -> bool:
    return current_user.is_district_admin or current_user.has_role(g.tenant.id, "commune_admin")


def _period_days() -> int:
    days = request.args.get("days", type=int)
    return days if days in DASHBOARD_DAYS else 30


@bp.route("/")
@commune_staff_required(*STAFF_ROLES)
def dashboard():
    days = _period_days()
    end = queries.today()
    start = end - timedelta(days=days - 1)
    stats = queries.public_stats(start, end)
    per_day = queries.sales_per_day(start, end)
    return render_template(
        "market/dashboard.html", stats=stats, days=days, periods=DASHBOARD_DAYS, tick_every={7: 1, 30: 5}.get(days, 15),
        per_day=[(d.strftime("%d/%m"), t.amount, format_vnd(t.amount)) for d, t in per_day],
        qr_per_day=[(d.strftime("%d/%m"), t.qr_amount, format_vnd(t.qr_amount)) for d, t in per_day],
        per_market=[(name, t.amount, format_vnd(t.amount)) for name, t in queries.sales_per_market(start, end)],
        per_category=[(str(GOODS_CATEGORY_LABELS.get(c, c)), t.amount, format_vnd(t.amount))
                      for c, t in queries.sales_per_category(start, end)],
        adoption=[(_("With a bank account"), stats["vendors_with_bank_account"],
                   str(stats["vendors_with_bank_account"])),
                  (_("Without"), stats["vendors"] - stats["vendors_with_bank_account"],
                   str(stats["vendors"] - stats["vendors_with_bank_account"]))],
        qr_share=[(_("QR transfer"), stats["qr_sales_amount"], format_vnd(stats["qr_sales_amount"])),
                  (_("Cash"), stats["sales_amount"] - stats["qr_sales_amount"],
                   format_vnd(stats["sales_amount"] - stats["qr_sales_amount"]))],
        is_admin=_is_admin(),
    )


# --- markets and stalls -----------------------------------------------------------------------------------------

@bp.route("/markets", methods=["GET", "POST"])
@commune_staff_required(*STAFF_ROLES)
def markets():
    form = MarketForm()
    status = 200
    if form.is_submitted():
        if not _is_admin():
            abort(404)
        if form.validate():
            try:
                market = services.create_market(form.name.data, form.address.data, form.opening_hours.data)
            except DomainError as err:
                flash(str(err.message), "error")
            else:
                flash(_("Market %(name)s created.", name=market.name), "success")
                return redirect(url_for("market.market", market_id=market.id))
        status = 400
    return render_template("market/markets.html", markets=services.markets(), counts=queries.stall_counts(),
                           form=form, is_admin=_is_admin()), status


@bp.route("/markets/<int:market_id>", methods=["GET", "POST"])
@commune_staff_required(*STAFF_ROLES)
def market(market_id: int):
    market = services.get_market(market_id)
    form = StallsForm()
    status = 200
    if form.is_submitted():
        if not _is_admin():
            abort(404)
        if form.validate():
            try:
                stalls = services.add_stalls(market.id, form.row.data or "", form.first.data, form.last.data,
                                             form.prefix.data or "", form.goods_category.data)
            except DomainError as err:
                flash(str(err.message), "error")
            else:
                flash(_("%(count)s stalls added.", count=len(stalls)), "success")
                return redirect(url_for("market.market", market_id=market.id))
        status = 400
    vendors = {v.id: v for v in vendor_services.active_vendors()}
    assign = AssignStallForm()
    assign.vendor_id.choices = [("", _("— free —"))] + [(str(v.id), v.business_name) for v in vendors.values()]
    return render_template("market/market.html", market=market, stalls=services.stalls_of(market.id), form=form,
                           assign=assign, vendors=vendors, labels=GOODS_CATEGORY_LABELS,
                           is_admin=_is_admin()), status


@bp.route("/stalls/assign", methods=["POST"])
@commune_staff_required("commune_admin")
def assign():
    """Posted from a market's page: a refusal is flashed there (the referring page, app/errors.py)."""
    raw_stall = request.form.get("stall_id", "")
    stall = services.get_stall(int(raw_stall) if raw_stall.isdigit() and len(raw_stall) < 12 else 0)
    form = AssignStallForm()
    raw = request.form.get("vendor_id", "")
    if form.validate_on_submit():
        services.assign_stall(stall.id, int(raw) if raw.isdigit() and len(raw) < 12 else None)
        flash(_("Stall %(number)s saved.", number=stall.number), "success")
    return redirect(url_for("market.market", market_id=stall.market_id))


# --- vendors --------------------------------------------------------------------------------------------------------

@bp.route("/vendors")
@commune_staff_required(*STAFF_ROLES)
def vendors():
    return render_template("market/vendors.html", vendors=queries.vendor_list(), is_admin=_is_admin(),
                           labels=GOODS_CATEGORY_LABELS)


def _vendor_form() -> VendorForm:
    form = VendorForm()
    form.bank_bin.choices = [("", _("— choose the bank —"))] + vendor_payments.bank_choices()
    market_names = {m.id: m.name for m in services.markets()}
    form.stall_id.choices = [("", _("— no stall yet —"))] + [
        (str(stall.id), f"{market_names.get(stall.market_id, '')} · {stall.number}") for stall in services.free_stalls()
    ]
    form.new_stall_market.choices = [(str(i), name) for i, name in market_names.items()]
    return form


def _invited(vendor, user, token, status=200):
    link = external_url("vendors.welcome", token=token)
    return render_template("market/invited.html", vendor=vendor, user=user, link=link,
                           days=invitations.MAX_AGE_DAYS,
                           handover=invitations.handover(link, user.phone or vendor.phone, vendor.business_name),
                           ), status


@bp.route("/vendors/new", methods=["GET", "POST"])
@commune_staff_required("commune_admin")
def onboard():
    form = _vendor_form()
    status = 200
    if form.is_submitted():
        if form.validate():
            raw_stall = form.stall_id.data or ""
            try:
                vendor, user, token = services.onboard_vendor(
                    g.tenant, business_name=form.business_name.data, owner_name=form.owner_name.data,
                    phone=form.phone.data, email=form.email.data, bank_bin=form.bank_bin.data,
                    account_number=form.account_number.data, holder_name=form.holder_name.data,
                    goods_category=form.goods_category.data, tax_code=form.tax_code.data, kind=form.kind.data,
                    stall_id=int(raw_stall) if raw_stall.isdigit() else None,
                    at_market=form.sells_at.data != "marketplace", new_stall=form.new_stall.data or "",
                    market_id=int(form.new_stall_market.data) if (form.new_stall_market.data or "").isdigit()
                    else None)
            except DomainError as err:
                form.show_error(err)
            else:
                flash(_("Vendor %(name)s registered.", name=vendor.business_name), "success")
                return _invited(vendor, user, token, 201)
        status = 400
    return render_template("market/onboard.html", form=form), status


@bp.route("/vendors/<int:vendor_id>")
@commune_staff_required(*STAFF_ROLES)
def vendor(vendor_id: int):
    vendor = vendor_services.get_vendor(vendor_id)
    account = vendor_payments.vendor_account(vendor.id)
    return render_template("market/vendor.html", vendor=vendor, bank=vendor_payments.bank_details(account),
                           stalls=services.stalls_of_vendor(vendor.id),
                           users=vendor_services.vendor_users(vendor.id, g.tenant.id), is_admin=_is_admin(),
                           labels=GOODS_CATEGORY_LABELS, sizes=poster.SIZES, kinds=poster.KINDS)


@bp.route("/vendors/<int:vendor_id>/invitation", methods=["POST"])
@commune_staff_required("commune_admin")
@back_to("market.vendor")
def invite(vendor_id: int):
    vendor = vendor_services.get_vendor(vendor_id)
    user, token = vendor_services.new_invitation(vendor.id, g.tenant.id)
    return _invited(vendor, user, token)


@bp.route("/vendors/<int:vendor_id>/deactivate", methods=["POST"])
@commune_staff_required("commune_admin")
@back_to("market.vendor")
def deactivate(vendor_id: int):
    vendor = services.deactivate_vendor(vendor_id, g.tenant.id)
    flash(_("Vendor %(name)s deactivated.", name=vendor.business_name), "success")
    return redirect(url_for("market.vendor", vendor_id=vendor_id))


def poster_download(vendor_id: int, size: str, kind: str) -> Response:
    """The poster file of one of the vendor's stalls (``?stall=<id>``) or of the vendor alone. A refusal (no bank
    account yet) is explained on the page the view goes back to (``back_to``)."""
    if size not in poster.SIZES or kind not in poster.KINDS:
        abort(404)
    stall_id = request.args.get("stall", type=int)
    content = services.poster_content(vendor_id, stall_id)
    body = poster.render(content, size, kind)
    name = f"vietqr-{vendor_id}{'-' + str(stall_id) if stall_id else ''}-{size}.{kind}"
    return Response(body, mimetype=poster.MIMETYPES[kind], headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"})


@bp.route("/vendors/<int:vendor_id>/poster/<size>.<kind>")
@commune_staff_required(*STAFF_ROLES)
@back_to("market.vendor")
def vendor_poster(vendor_id: int, size: str, kind: str):
    vendor = vendor_services.get_vendor(vendor_id)
    return poster_download(vendor.id, size, kind)

