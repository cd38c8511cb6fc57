"""Staff pages of refunds (on the ``reconciliation`` blueprint): settle an inbox item by a refund, and the refund's
own page with the VietQR code to the payer's account, the payer's account when no source named it, and the
officer's confirmation that the money was sent (or the refund canceled, or marked failed).

Another commune's refund is a 404 (looked up within the commune). Services flush; these views commit.
"""

from __future__ import annotations

import base64

from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.auth.access import commune_staff_required
from app.auth.models import STAFF_ROLES
from app.errors import DomainError, back_to
from app.extensions import db
from app.forms import BaseForm
from app.payments import qr, refunds
from app.payments.statuses import REFUND_CONFIRMATION_LABELS, REFUND_REASON_LABELS, REFUND_STATUS_LABELS
from app.payments.views_staff import AcceptLateForm, _refused, bp
from app.payments.banks import all_banks, get_bank
from tenants.models import Tenant



class DestinationForm(BaseForm):
    bank_bin = SelectField(_l("Payer's bank"), validators=[DataRequired()])
    account_number = StringField(_l("Payer's account number"), validators=[DataRequired(), Length(max=30)])
    holder_name = StringField(_l("Account holder"), validators=[Optional(), Length(max=120)])


def _destination_form() -> DestinationForm:
    form = DestinationForm()
    form.bank_bin.choices = [("", _("Choose a bank"))] + [(b.bin, f"{b.short_name} ({b.code})") for b in all_banks()]
    return form


def _settle(tenant_id: int | None, transfer_id: int, back: str):
    if not AcceptLateForm().validate_on_submit():
        flash(_("The form could not be read. Please try again."), "error")
        return redirect(back)
    try:
        refund = refunds.settle_by_refund(transfer_id, tenant_id, current_user)
        slug = db.session.get(Tenant, refund.tenant_id).slug
        public_id = refund.public_id
    except DomainError as err:
        _refused(err)
    flash(_("Refund created: pay it with the QR code below, then confirm it."), "success")
    return redirect(url_for("reconciliation.refund", tenant_slug=slug, public_id=public_id))


@bp.route("/c/<tenant_slug>/payments/inbox/<int:transfer_id>/refund", methods=["POST"])
@commune_staff_required(*STAFF_ROLES)
@back_to("reconciliation.inbox")
def settle_by_refund(transfer_id: int):
    return _settle(g.tenant.id, transfer_id, url_for("reconciliation.inbox"))


def _qr_data_uri(payload: str | None) -> str | None:
    if payload is None:
        return None
    return "data:image/svg+xml;base64," + base64.b64encode(qr.render_svg(payload, scale=6)).decode("ascii")


@bp.route("/c/<tenant_slug>/payments/refunds/")
@commune_staff_required(*STAFF_ROLES)
def refunds_list():
    """The commune's refunds, those still to send first: an officer comes back here to pay and confirm them."""
    return render_template("payments/staff_refunds.html", refunds=refunds.recent_refunds(),
                           status_labels=REFUND_STATUS_LABELS)


@bp.route("/c/<tenant_slug>/payments/refunds/<string:public_id>")
@commune_staff_required(*STAFF_ROLES)
def refund(public_id: str):
    found = refunds.get_refund(public_id)  # scoped to the commune: another commune's refund is a 404
    payload = refunds.qr_payload(found)
    bank = get_bank(found.destination_bank_bin) if found.destination_bank_bin else None
    return render_template(
        "payments/staff_refund.html", refund=found, intent=found.intent, payload=payload,
        qr_src=_qr_data_uri(payload), bank=bank, form=_destination_form(),
        status_labels=REFUND_STATUS_LABELS, confirmation_labels=REFUND_CONFIRMATION_LABELS, reason_labels=REFUND_REASON_LABELS,
    )


def _act(public_id: str, action, done: str):
    target = url_for("reconciliation.refund", public_id=public_id)
    found = refunds.get_refund(public_id)
    if not AcceptLateForm().validate_on_submit():
        flash(_("The form could not be read. Please try again."), "error")
        return redirect(target)
    try:
        action(found)
    except DomainError as err:
        _refused(err)
    flash(done, "success")
    return redirect(target)


@bp.route("/c/<tenant_slug>/payments/refunds/<string:public_id>/destination", methods=["POST"])
@commune_staff_required(*STAFF_ROLES)
@back_to("reconciliation.refund")
def refund_destination(public_id: str):
    target = url_for("reconciliation.refund", public_id=public_id)
    found = refunds.get_refund(public_id)
    form = _destination_form()
    if not form.validate_on_submit():
        flash(_("Choose the payer's bank and enter the account number."), "error")
        return redirect(target)
    try:
        refunds.set_destination(found, form.bank_bin.data, form.account_number.data, form.holder_name.data)
    except DomainError as err:
        _refused(err)
    flash(_("The payer's account is saved."), "success")
    return redirect(target)


@bp.route("/c/<tenant_slug>/payments/refunds/<string:public_id>/confirm", methods=["POST"])
@commune_staff_required(*STAFF_ROLES)
@back_to("reconciliation.refund")
def refund_confirm(public_id: str):
    return _act(public_id, lambda found: refunds.confirm_by_hand(found, current_user),
                _("Refund confirmed: the money was sent back."))


@bp.route("/c/<tenant_slug>/payments/refunds/<string:public_id>/cancel", methods=["POST"])
@commune_staff_required(*STAFF_ROLES)
@back_to("reconciliation.refund")
def refund_cancel(public_id: str):
    return _act(public_id, refunds.cancel_refund, _("Refund canceled."))


@bp.route("/c/<tenant_slug>/payments/refunds/<string:public_id>/fail", methods=["POST"])
@commune_staff_required(*STAFF_ROLES)
@back_to("reconciliation.refund")
def refund_fail(public_id: str):
    return _act(public_id, refunds.fail_refund, _("Refund marked as failed."))
