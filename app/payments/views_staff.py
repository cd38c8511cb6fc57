"""Staff pages for money in: a commune's payments, confirm by hand, statement import, the reconciliation inbox.

Commune staff (commune admin, officer; district admins too) under ``/c/<tenant_slug>/payments/``; the district
inbox, with every commune's items and the unattributed ones (tenant_id NULL), at ``/district/payments/inbox``.
Another commune's payment or transfer is a 404 (the services look them up within the commune). Bad input is a
flash message and changes nothing (the request's unit of work rolls back: app/transactions.py).
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from typing import NoReturn

from flask import (Blueprint, Response, current_app, flash, g, redirect, render_template, request,
                   stream_with_context, url_for)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import func, select
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app import bounds
from app.auth.access import commune_staff_required
from app.auth.models import STAFF_ROLES
from app.errors import DomainError, NotFound, ValidationError, back_to
from app.extensions import db
from app.formatting import format_vnd
from app.forms import BaseForm
from app.payments import refunds, stats, statuses
from app.payments.bank import reconciliation
from app.payments.accounts import list_accounts
from app.payments.intents import get_intent, is_expired
from app.payments.webhooks.delivery import delivery_log
from app.payments.models import BankTransfer, PaymentAccount, PaymentClaim, PaymentIntent, WebhookEndpoint
from app.uploads import upload_limit
from app.payments.bank.statement import MAX_BYTES, StatementImport, decode_statement, parse_amount
from tenants.models import Tenant
from tenants.scoping import all_tenants, tenant_context

bp = Blueprint("reconciliation", __name__, template_folder="templates")

PAGE_SIZE = 25

# --- forms -----------------------------------------------------------------------------------------------------

class ConfirmByHandForm(BaseForm):
    amount = StringField(_l("Amount received (đồng)"), validators=[DataRequired(), Length(max=30)])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=500)])


class StatementForm(BaseForm):
    account = SelectField(_l("Bank account"), coerce=int)
    file = FileField(_l("Statement file (CSV)"), validators=[FileRequired()],
                     render_kw={"accept": ".csv,text/csv,text/plain"})


class AssignForm(BaseForm):
    payment = StringField(_l("Payment id (pi_...) or reference code"), validators=[DataRequired(), Length(max=40)])


class SettleClaimForm(BaseForm):
    transfer = SelectField(_l("The bank transfer of this money"), coerce=int, validators=[DataRequired()])


class ResolveForm(BaseForm):
    note = StringField(_l("What was done"), validators=[DataRequired(), Length(max=1000)])


class AcceptLateForm(BaseForm):
    """Only the CSRF token."""


def _form_errors(form) -> str:
    return " ".join(f"{getattr(form, name).label.text}: {' '.join(map(str, errors))}"
                    for name, errors in form.errors.items())


def _page() -> int:
    return bounds.page_number(request.args)


def _refused(err: DomainError) -> NoReturn:
    """A refused action: the request's unit of work rolls back and the page the view names (``back_to``) says why
    (app/errors.py). A transfer or payment of another commune is a 404; a payment a form names wrongly is a message
    about that field."""
    if isinstance(err, NotFound) and err.field is not None:
        raise ValidationError(err.message, field=err.field) from err
    raise err


@bp.context_processor
def _labels():
    return statuses.page_labels()


# --- a commune's payments --------------------------------------------------------------------------------------

@bp.route("/c/<tenant_slug>/payments/")
@commune_staff_required(*STAFF_ROLES)
def payments():
    """The commune's payment intents, newest first: 3 queries whatever the page size (count, page, inbox).

    The commune's own accounts (fees) by default, as the figures and the chart above count; ``?owner=vendor`` lists
    what was paid to the vendors' accounts of the commune (their sales and orders), which staff see when they sort
    out a vendor's transfer from the inbox."""
    page = _page()
    owner = "vendor" if request.args.get("owner") == "vendor" else "commune"
    of_owner = PaymentIntent.account.has(PaymentAccount.owner_kind == owner)
    total = db.session.scalar(select(func.count()).select_from(PaymentIntent).where(of_owner))
    intents = db.session.scalars(
        select(PaymentIntent).where(of_owner).order_by(PaymentIntent.id.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template(
        "payments/staff_payments.html", intents=intents, page=page, total=total, owner=owner,
        has_next=page * PAGE_SIZE < total, inbox_count=reconciliation.inbox_count(g.tenant.id), is_expired=is_expired,
        daily=stats.chart_rows(stats.received_per_day()),
    )


def _intent_transfers(intent: PaymentIntent) -> list[BankTransfer]:
    return list(db.session.scalars(
        select(BankTransfer).where(BankTransfer.intent_id == intent.id, BankTransfer.tenant_id == intent.tenant_id)
        .order_by(BankTransfer.id)
    ))


@bp.route("/c/<tenant_slug>/payments/<string:public_id>")
@commune_staff_required(*STAFF_ROLES)
def payment(public_id: str):
    intent = get_intent(public_id)  # scoped to the commune: another commune's payment is a 404
    form = ConfirmByHandForm()
    if not form.is_submitted():
        form.amount.data = str(max(intent.amount - intent.amount_received, 0) or intent.amount)
    claims = db.session.scalars(select(PaymentClaim).where(PaymentClaim.intent_id == intent.id)
                                .order_by(PaymentClaim.claimed_at)).all()
    return render_template("payments/staff_payment.html", intent=intent, transfers=_intent_transfers(intent),
                           claims=claims, form=form, expired=is_expired(intent), refunds=refunds.intent_refunds(intent))


@bp.route("/c/<tenant_slug>/payments/<string:public_id>/confirm", methods=["POST"])
@commune_staff_required(*STAFF_ROLES)
@back_to("reconciliation.payment")
def confirm_by_hand(public_id: str):
    intent = get_intent(public_id)
    form = ConfirmByHandForm()
    target = url_for("reconciliation.payment", public_id=intent.public_id)
    if not form.validate_on_submit():
        flash(_form_errors(form) or _("The form could not be read. Please try again."), "error")
        return redirect(target)
    try:
        amount = parse_amount(form.amount.data)
    except ValueError:
        amount = 0
    if amount <= 0:
        flash(_("The amount must be a whole number of đồng greater than zero."), "error")
        return redirect(target)
    try:
        reconciliation.confirm_by_hand(intent.public_id, amount, current_user, form.note.data)
    except DomainError as err:
        _refused(err)
    flash(_("Payment of %(amount)s confirmed by hand; the bank's report of the transfer will settle it.",
            amount=format_vnd(amount)), "success")
    return redirect(target)


# --- statement import ------------------------------------------------------------------------------------------

@bp.route("/c/<tenant_slug>/payments/statement", methods=["GET", "POST"])
@commune_staff_required(*STAFF_ROLES)
@upload_limit(MAX_BYTES)  # a statement may be up to 2 MB: more than MAX_CONTENT_LENGTH allows other requests
def statement():
    """The import form. A browser with JavaScript asks for ``application/x-ndjson`` and gets the import streamed:
    one line ``{"done", "total"}`` as rows are recorded, then the result. Without it, one page at the end."""
    accounts = [a for a in list_accounts() if a.active]
    form = StatementForm()
    form.account.choices = [(a.id, f"{a.label} · {a.account_number}") for a in accounts]
    result, status = None, 200
    if form.validate_on_submit():
        account = next((a for a in accounts if a.id == form.account.data), None)
        try:
            if account is None:
                raise NotFound(_l("No such payment account."), field="account")
            job = StatementImport(decode_statement(form.file.data.read(MAX_BYTES + 1)), account)
        except DomainError as err:
            flash(str(err.message), "error")
            status = 400  # the request's unit of work rolls back
        else:
            if request.accept_mimetypes.best == NDJSON:
                return _streamed_import(job)
            for _done in job.run():
                pass
            result = job.result
            flash(_import_summary(result), "success" if not result.errors else "info")
    elif form.is_submitted():
        flash(_form_errors(form) or _("The form could not be read. Please try again."), "error")
        status = 400
    return render_template("payments/staff_statement.html", form=form, result=result, has_accounts=bool(accounts)), status


NDJSON = "application/x-ndjson"


def _import_summary(result) -> str:
    return _("Statement imported: %(recorded)s, %(skipped)s.",
             recorded=ngettext("%(num)d row recorded", "%(num)d rows recorded", result.imported),
             skipped=ngettext("%(num)d row skipped", "%(num)d rows skipped", len(result.errors)))


def _streamed_import(job) -> Response:
    """Progress as JSON lines while the rows are recorded (about a hundred updates however long the file), then the
    summary and the result panel's HTML. Rows are committed one by one (each its own unit of work, in statement.py): a connection lost halfway keeps what was
    recorded, and importing the file again records the rest (the rows already there are recognised)."""
    tenant_id = g.tenant.id

    def line(**values) -> str:
        return json.dumps(values, ensure_ascii=False) + "\n"

    def generate():
        with tenant_context(tenant_id):
            yield line(done=0, total=job.total)
            step, shown, done = max(1, job.total // 100), 0, 0
            try:
                for done in job.run():
                    if done - shown >= step:
                        shown = done
                        yield line(done=done, total=job.total)
            except Exception:  # noqa: BLE001 - the headers are sent: the error has to travel in the stream
                current_app.logger.exception("statement import failed after %d rows", done)
                yield line(error=_("The import stopped because of an error. The rows before it are recorded; "
                                   "import the same file again to record the rest."), done=done, total=job.total)
                return
            result = job.result
            yield line(done=job.total, total=job.total, message=_import_summary(result),
                       level="success" if not result.errors else "info",
                       html=render_template("payments/_statement_result.html", result=result))

    response = Response(stream_with_context(generate()), mimetype=NDJSON)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each line on at once
    return response



# --- the reconciliation inbox ----------------------------------------------------------------------------------

def _inbox_rows(tenant_id: int | None, page: int):
    """(transfer, intent public id, intent reference, tenant) per row: one query whatever the page size."""
    query = (
        reconciliation.inbox_query(tenant_id)
        .add_columns(PaymentIntent.public_id, PaymentIntent.reference_code, Tenant)
        .outerjoin(PaymentIntent, PaymentIntent.id == BankTransfer.intent_id)
        .outerjoin(Tenant, Tenant.id == BankTransfer.tenant_id)
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    )
    return db.session.execute(query).all()


def _overdue_claims(tenant_id: int | None) -> list[tuple]:
    """(claim, intent public id, intent reference) for each confirmation by hand the bank has not confirmed in time."""
    claims = reconciliation.overdue_claims(tenant_id)
    with all_tenants():
        intents = {i.id: i for i in db.session.scalars(
            select(PaymentIntent).where(PaymentIntent.id.in_({c.intent_id for c in claims})))} if claims else {}
    return [(c, intents[c.intent_id].public_id, intents[c.intent_id].reference_code) for c in claims]


def _unmatched_transfers(tenant_id: int) -> list[BankTransfer]:
    """The commune's transfers no payment was found for: what an overdue claim may be settled against."""
    with all_tenants():
        return list(db.session.scalars(
            select(BankTransfer).where(BankTransfer.tenant_id == tenant_id, BankTransfer.status == "unmatched")
            .order_by(BankTransfer.id.desc()).limit(PAGE_SIZE)))


def _render_inbox(tenant_id: int | None, district: bool):
    page = _page()
    with all_tenants() if district else nullcontext():
        rows = _inbox_rows(tenant_id, page)
        total = reconciliation.inbox_count(tenant_id)
        claims = _overdue_claims(tenant_id) if page == 1 else []
        unmatched = _unmatched_transfers(tenant_id) if claims and not district else []
    prefix = "district_" if district else ""
    return render_template(
        "payments/inbox.html", rows=rows, page=page, total=total, has_next=page * PAGE_SIZE < total, claims=claims,
        claim_days=current_app.config["PAYMENT_CLAIM_DAYS"],
        district=district, assign_form=AssignForm(), resolve_form=ResolveForm(),
        accept_form=AcceptLateForm(), settle_form=SettleClaimForm(), unmatched=unmatched,
        action=(lambda name, transfer_id: url_for(f"reconciliation.{prefix}{name}", transfer_id=transfer_id)),
    )


def _assign(tenant_id: int | None, transfer_id: int, back: str):
    form = AssignForm()
    if not form.validate_on_submit():
        _not_someone_elses(transfer_id, tenant_id)
        flash(_("Enter the payment id (pi_...) or the reference code."), "error")
        return redirect(back)
    given = form.payment.data.strip()
    try:
        public_id = given if given.startswith("pi_") else _public_id_by_reference(given, tenant_id)
        transfer = reconciliation.assign(transfer_id, tenant_id, public_id, current_user)
    except DomainError as err:
        _refused(err)
    label = statuses.TRANSFER_STATUS_LABELS.get(transfer.status, transfer.status)
    flash(_("Transfer assigned to %(payment)s (%(status)s).", payment=given, status=label), "success")
    return redirect(back)


def _public_id_by_reference(code: str, tenant_id: int | None) -> str:
    with all_tenants() if tenant_id is None else nullcontext():
        query = select(PaymentIntent.public_id).where(PaymentIntent.reference_code == code.upper())
        public_id = db.session.scalar(query)
    if public_id is None:
        raise NotFound(_l("No such payment."), field="intent")
    return public_id


def _accept_late(tenant_id: int | None, transfer_id: int, back: str):
    form = AcceptLateForm()
    if not form.validate_on_submit():
        flash(_("The form could not be read. Please try again."), "error")
        return redirect(back)
    try:
        reconciliation.accept_late(transfer_id, tenant_id, current_user)
    except DomainError as err:
        _refused(err)
    flash(_("Late payment accepted: the payment is marked paid."), "success")
    return redirect(back)


def _not_someone_elses(transfer_id: int, tenant_id: int | None) -> None:
    """Before saying what is wrong with the form: another commune's transfer is a 404, not a message."""
    try:
        reconciliation.get_inbox_transfer(transfer_id, tenant_id)
    except ValidationError:
        pass  # ours, already handled: the form's own message follows


def _resolve(tenant_id: int | None, transfer_id: int, back: str):
    form = ResolveForm()
    if not form.validate_on_submit():
        _not_someone_elses(transfer_id, tenant_id)
        flash(_("Say what was done with this transfer."), "error")
        return redirect(back)
    try:
        reconciliation.resolve(transfer_id, tenant_id, current_user, form.note.data)
    except DomainError as err:
        _refused(err)
    flash(_("Transfer resolved."), "success")
    return redirect(back)


@bp.route("/c/<tenant_slug>/payments/inbox")
@commune_staff_required(*STAFF_ROLES)
def inbox():
    return _render_inbox(g.tenant.id, district=False)


@bp.route("/c/<tenant_slug>/payments/inbox/<int:transfer_id>/assign", methods=["POST"])
@commune_staff_required(*STAFF_ROLES)
@back_to("reconciliation.inbox")
def assign(transfer_id: int):
    return _assign(g.tenant.id, transfer_id, url_for("reconciliation.inbox"))


@bp.route("/c/<tenant_slug>/payments/inbox/<int:transfer_id>/accept-late", methods=["POST"])
@commune_staff_required(*STAFF_ROLES)
@back_to("reconciliation.inbox")
def accept_late(transfer_id: int):
    return _accept_late(g.tenant.id, transfer_id, url_for("reconciliation.inbox"))


@bp.route("/c/<tenant_slug>/payments/inbox/claims/<int:claim_id>/settle", methods=["POST"])
@commune_staff_required(*STAFF_ROLES)
@back_to("reconciliation.inbox")
def settle_claim(claim_id: int):
    """An overdue confirmation by hand, settled against the transfer the bank reported for it (reconciliation
    .settle_claim: the transfer applied as the bank's report, the claim settled, on the audit trail)."""
    reconciliation.get_claim(claim_id, g.tenant.id)  # another commune's claim is a 404 before any form message
    form = SettleClaimForm()
    form.transfer.choices = [(t.id, str(t.id)) for t in _unmatched_transfers(g.tenant.id)]
    if not form.validate_on_submit():
        raise ValidationError(_("Choose the bank transfer of this money."), field="transfer")
    try:
        reconciliation.settle_claim(claim_id, form.transfer.data, g.tenant.id, current_user)
    except DomainError as err:
        _refused(err)
    flash(_("The bank transfer is counted for this payment."), "success")
    return redirect(url_for("reconciliation.inbox"))


@bp.route("/c/<tenant_slug>/payments/inbox/<int:transfer_id>/resolve", methods=["POST"])
@commune_staff_required(*STAFF_ROLES)
@back_to("reconciliation.inbox")
def resolve(transfer_id: int):
    return _resolve(g.tenant.id, transfer_id, url_for("reconciliation.inbox"))


@bp.route("/c/<tenant_slug>/payments/webhooks")
@commune_staff_required(*STAFF_ROLES)
def deliveries():
    """The delivery log of outgoing webhooks: what was sent where, how often it was tried, what came back."""
    endpoints = db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).all()
    return render_template("payments/staff_deliveries.html", endpoints=endpoints, deliveries=delivery_log(limit=100))


# The refund pages and the district's register on this blueprint too.
from app.payments import views_district, views_refunds  # noqa: E402,F401
