"""The vendor's own pages, made for one hand on a phone: sell (QR or cash), the sales ledger, profile, bank account,
stall posters. Every page is the signed-in vendor's own: another vendor's sale is a 404 (vendor_required sets
``g.vendor_id``; services filter by it)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import bounds
from app.errors import DomainError, back_to
from app.exports import csv_response
from app.formatting import format_datetime, format_vnd
from tenants.market import bp, payments, poster, queries, services
from tenants.market.forms import SaleForm
from tenants.market.models import GOODS_CATEGORY_LABELS
from tenants.market.statuses import CONFIRMATION_LABELS, METHOD_LABELS, PAID, QR, SALE_METHODS, STATUS_LABELS
from tenants.market.views_staff import poster_download
from tenants.vendors import payments as vendor_payments
from tenants.vendors import services as vendor_services
from tenants.vendors import views as vendor_views
from tenants.vendors.access import vendor_required


def _resolved(labels: dict) -> dict:
    """The labels translated once for the page, not once per row they are printed on (issue #17)."""
    return {key: str(label) for key, label in labels.items()}


def _ledger_page(form: SaleForm, status: int = 200, confirm: int | None = None):
    f = queries.LedgerFilter.from_args(request.args)
    page = bounds.page_number(request.args)
    total, per_day, per_month = queries.ledger_totals(g.vendor_id, f)
    sales = queries.ledger(g.vendor_id, f, page)
    today_total = queries.day_totals(g.vendor_id, queries.today(), f, per_day)
    return render_template(
        "market/sales.html", vendor=vendor_services.get_vendor(g.vendor_id), form=form, filter=f, sales=sales,
        sale_base=url_for("market.sale", sale_id=0).rsplit("/", 1)[0],  # + "/<id>": one url_for, not one per sale
        page=page, has_next=len(sales) == queries.LEDGER_PAGE, total=total, today_total=today_total, per_day=per_day,
        per_month=per_month, status_labels=_resolved(STATUS_LABELS), method_labels=_resolved(METHOD_LABELS),
        confirmation_labels=_resolved(CONFIRMATION_LABELS),
        has_account=vendor_payments.vendor_account(g.vendor_id) is not None,
        confirm=confirm, ceiling=services.sale_ceiling(),
    ), status


@bp.route("/me/sales", methods=["GET", "POST"])
@vendor_required
def sales():
    form = SaleForm()
    if not form.is_submitted():
        return _ledger_page(form)
    method = request.form.get("method")
    if form.validate() and method in SALE_METHODS:
        try:
            if method == QR:
                sale = services.record_qr_sale(g.vendor_id, form.amount.data, form.note.data or "")
            else:
                sale = services.record_cash_sale(g.vendor_id, form.amount.data, form.note.data or "",
                                                 confirmed=_confirmed_amount())
        except services.NeedsConfirmation as ask:
            return _ledger_page(form, 200, confirm=ask.amount)  # nothing recorded: "really this amount?"
        except DomainError as err:
            form.show_error(err)
        else:
            if method == QR:
                return redirect(url_for("market.sale", sale_id=sale.id))
            flash(_("Cash sale of %(amount)s recorded.", amount=format_vnd(sale.amount)), "success")
            return redirect(url_for("market.sales"))
    elif method not in SALE_METHODS:
        flash(_("Choose QR or cash."), "error")
    return _ledger_page(form, 400)


@bp.route("/me/sales/<int:sale_id>")
@vendor_required
def sale(sale_id: int):
    sale = services.refresh_sale(services.get_sale(g.vendor_id, sale_id))
    intent = payments.sale_intent(sale.intent_id) if sale.intent_id else None
    return render_template("market/sale.html", sale=sale, intent=intent,
                           qr_url=payments.sale_qr_image_url(intent) if intent else None,
                           bank=vendor_payments.bank_details(intent.account) if intent else None,
                           status_labels=STATUS_LABELS, confirmation_labels=CONFIRMATION_LABELS,
                           receipt=sale_receipt(sale, intent))


@bp.route("/me/sales/<int:sale_id>/status")
@vendor_required
def sale_status(sale_id: int):
    """What the sale page polls: the sale's own status (it turns paid in the bank notification's transaction)."""
    sale = services.refresh_sale(services.get_sale(g.vendor_id, sale_id))
    return {"status": sale.status, "label": str(STATUS_LABELS[sale.status]), "confirmation": sale.confirmation,
            "receipt": sale_receipt(sale)}, 200, {"Cache-Control": "no-store"}


def sale_receipt(sale, intent=None) -> str:
    """The paid sale's receipt line: when the money arrived and the payment's reference ("" until paid)."""
    if sale.status != "paid":
        return ""
    if intent is None and sale.intent_id:
        intent = payments.sale_intent(sale.intent_id)
    reference = intent.reference_code if intent is not None else None
    when = format_datetime(sale.paid_at)
    if reference:
        return _("Received %(time)s · reference %(reference)s", time=when, reference=reference)
    return _("Received %(time)s", time=when)


def _confirmed_amount() -> int | None:
    """The amount the vendor confirmed on the "really?" step (a hidden field repeating it), if any."""
    value = (request.form.get("confirmed") or "").strip()
    return int(value) if value.isdecimal() and len(value) <= 13 else None


@bp.route("/me/sales/<int:sale_id>/void", methods=["POST"])
@vendor_required
@back_to("market.sale")
def void_sale(sale_id: int):
    services.void_sale(g.vendor_id, sale_id, current_user, request.form.get("reason", ""))
    flash(_("Sale voided: it no longer counts in any figure."), "success")
    return redirect(url_for("market.sale", sale_id=sale_id))


@bp.route("/me/sales/<int:sale_id>/confirm", methods=["POST"])
@vendor_required
@back_to("market.sale")
def confirm_sale(sale_id: int):
    if services.confirm_money_received(g.vendor_id, sale_id, current_user).status == PAID:
        flash(_("Sale confirmed by hand."), "success")
    else:  # its payment had expired: the sale is canceled now
        flash(_("Only a QR sale waiting for its transfer can be confirmed."), "error")
    return redirect(url_for("market.sale", sale_id=sale_id))


@bp.route("/me/sales.csv")
@vendor_required
def sales_csv():
    f = queries.LedgerFilter.from_args(request.args)
    rows = queries.ledger_rows(g.vendor_id, f)
    header = [_("Sale"), _("Created"), _("Paid"), _("Amount (đồng)"), _("Method"), _("Status"), _("Confirmed by"),
              _("Stall"), _("Goods category"), _("Note")]
    body = [[s.id, format_datetime(s.created_at), format_datetime(s.paid_at), s.amount, str(METHOD_LABELS[s.method]),
             str(STATUS_LABELS[s.status]), str(CONFIRMATION_LABELS.get(s.confirmation, "")), s.stall_number or "",
             str(GOODS_CATEGORY_LABELS.get(s.goods_category, s.goods_category)), s.note] for s in rows]
    return csv_response(f"ban-hang-{f.start.isoformat()}-{f.end.isoformat()}.csv", header, body)


@bp.route("/me/poster")
@vendor_required
def posters():
    return render_template("market/posters.html", vendor=vendor_services.get_vendor(g.vendor_id),
                           stalls=services.stalls_of_vendor(g.vendor_id), sizes=poster.SIZES, kinds=poster.KINDS,
                           has_account=vendor_payments.vendor_account(g.vendor_id) is not None)


@bp.route("/me/poster/<size>.<kind>")
@vendor_required
@back_to("market.posters")
def poster_file(size: str, kind: str):
    return poster_download(g.vendor_id, size, kind)


# --- the vendor's pages that moved to tenants/vendors (/c/<slug>/vendor/...) -----------------------------------------
# Their old addresses are bookmarked and were sent by Zalo (the invitation link): a page answers with a permanent
# redirect (308 for a form's POST, which keeps the method and the body). The forms of the old transfers page post
# to actions that are served in place, as the new ones are: a redirect would answer a record id of someone else's
# with a 308 instead of its 404.

def _moved(endpoint: str):
    def view(**values):
        target = url_for(endpoint, **values)
        if request.query_string:
            target += "?" + request.query_string.decode("ascii", "replace")
        return redirect(target, 301 if request.method in ("GET", "HEAD") else 308)

    return view


for _rule, _endpoint in (("/me/profile", "vendors.profile"), ("/me/bank", "vendors.bank"),
                         ("/me/transfers", "vendors.transfers"), ("/welcome/<token>", "vendors.welcome")):
    bp.add_url_rule(_rule, f"moved_{_endpoint.split('.')[1]}", _moved(_endpoint), methods=["GET", "POST"])
for _action, _view in (("assign", vendor_views.assign_transfer), ("accept-late", vendor_views.accept_late_transfer),
                       ("resolve", vendor_views.resolve_transfer)):
    bp.add_url_rule(f"/me/transfers/<int:transfer_id>/{_action}", f"moved_{_view.__name__}", _view,
                    methods=["POST"])


@bp.route("/me/messages", methods=["GET", "POST"])
@vendor_required
def messages():
    """The vendor's choice: a daily summary of sales by SMS, e-mail or Zalo, or none (issue #20)."""
    from tenants.market import notify as notices

    vendor = vendor_services.get_vendor(g.vendor_id)
    current = notices.notify.subscription(notices.subject(vendor.id))
    if request.method == "POST":
        channel = request.form.get("channel", "")
        if channel not in ("email", "sms", "zalo", "none"):
            flash(_("Choose how to get the summary."), "error")
            return render_template("market/messages.html", vendor=vendor, current=current), 400
        notices.choose(vendor, channel, email=current_user.email, locale=getattr(current_user, "locale", None))
        flash(_("Your choice is saved."), "success")
        return redirect(url_for("market.messages"))
    return render_template("market/messages.html", vendor=vendor, current=current)
