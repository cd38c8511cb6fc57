"""The vendor's own pages (``/c/<slug>/vendor/...``), made for one hand on a phone: the profile, the bank account,
the transfers into it that wait for the vendor's decision, and the invitation link that sets the password. Every
page is the signed-in vendor's own (``vendor_required`` sets ``g.vendor_id``): another vendor's records are 404."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth import services as account_services
from app.auth import sessions
from app.auth.access import home_endpoint_for
from app.errors import DomainError, back_to
from app import bounds
from tenants.vendors import bp, invitations, pages, payments, services
from tenants.vendors.access import vendor_required
from tenants.vendors.forms import AcceptLateForm, AssignForm, BankAccountForm, ProfileForm, ResolveForm, SetPasswordForm

TRANSFERS_PAGE = 25


@bp.route("/")
@vendor_required
def home():
    """Where a vendor lands after signing in (app/auth/access.py): a stallholder on the sales page, a producer on
    its shop and its orders (#19 item 3)."""
    return redirect(url_for(pages.home_endpoint(services.get_vendor(g.vendor_id).at_market)))


@bp.route("/profile", methods=["GET", "POST"])
@vendor_required
def profile():
    vendor = services.get_vendor(g.vendor_id)
    form = ProfileForm(obj=vendor)
    if form.validate_on_submit():
        try:
            services.update_profile(vendor.id, form.owner_name.data, form.phone.data, form.description.data or "")
        except DomainError as err:
            form.show_error(err)
        else:
            flash(_("Profile saved."), "success")
            return redirect(url_for("vendors.profile"))
    return render_template("vendors/profile.html", vendor=vendor, form=form, lines=pages.profile_lines(vendor)), (
        400 if form.is_submitted() else 200)


@bp.route("/bank", methods=["GET", "POST"])
@vendor_required
def bank():
    current = payments.bank_details(payments.vendor_account(g.vendor_id))
    form = BankAccountForm(data={"bank_bin": current.bank_bin if current else "",
                                 "account_number": current.account_number if current else "",
                                 "holder_name": current.holder_name if current else ""}
                           if request.method == "GET" else None)
    form.bank_bin.choices = [("", _("— choose the bank —"))] + payments.bank_choices()
    if form.validate_on_submit():
        try:
            # where the stall's takings go: the password again (a stolen session alone cannot redirect them);
            # recorded by the audit trail and shown on the commune's desk (app/payments, "money_destinations")
            account_services.confirm_password(current_user._get_current_object(), form.password.data)
            services.change_bank_account(g.vendor_id, form.bank_bin.data, form.account_number.data,
                                         form.holder_name.data)
        except DomainError as err:
            form.show_error(err)
        else:
            flash(_("Bank account saved. Print your stall poster again: its QR pays into this account."), "success")
            return redirect(url_for("vendors.bank"))
    waiting = payments.transfers_waiting(g.tenant.id, g.vendor_id)
    return render_template("vendors/bank.html", form=form, current=current, waiting=waiting), (
        400 if form.is_submitted() else 200)


# --- the transfers that wait for the vendor's decision ---------------------------------------------------------------

def _page() -> int:
    return bounds.page_number(request.args)


@bp.route("/transfers")
@vendor_required
def transfers():
    page = _page()
    total = payments.transfers_waiting(g.tenant.id, g.vendor_id)
    rows = payments.transfers_to_check(g.tenant.id, g.vendor_id, page, TRANSFERS_PAGE)
    return render_template(
        "vendors/transfers.html", rows=rows, paid_for=pages.payment_links([row[0].intent_id for row in rows]),
        page=page, total=total, has_next=page * TRANSFERS_PAGE < total, assign_form=AssignForm(),
        resolve_form=ResolveForm(), **payments.transfer_labels())


def _form_refused(form, transfer_id: int, message: str):
    """A form that could not be read: another vendor's transfer is a 404 all the same, the vendor's own a message."""
    payments.check_transfer_is_theirs(transfer_id, g.tenant.id, g.vendor_id)
    flash(message, "error")
    return redirect(url_for("vendors.transfers"))


@bp.route("/transfers/<int:transfer_id>/assign", methods=["POST"])
@vendor_required
@back_to("vendors.transfers")
def assign_transfer(transfer_id: int):
    form = AssignForm()
    if not form.validate_on_submit():
        return _form_refused(form, transfer_id, _("Enter the payment id (pi_...) or the reference code."))
    transfer = payments.assign_transfer(transfer_id, g.tenant.id, g.vendor_id, form.payment.data, current_user)
    label = payments.transfer_labels()["transfer_status_labels"].get(transfer.status, transfer.status)
    flash(_("Transfer assigned to %(payment)s (%(status)s).", payment=form.payment.data.strip(), status=label),
          "success")
    return redirect(url_for("vendors.transfers"))


@bp.route("/transfers/<int:transfer_id>/accept-late", methods=["POST"])
@vendor_required
@back_to("vendors.transfers")
def accept_late_transfer(transfer_id: int):
    form = AcceptLateForm()
    if not form.validate_on_submit():
        return _form_refused(form, transfer_id, _("The form could not be read. Please try again."))
    payments.accept_late_transfer(transfer_id, g.tenant.id, g.vendor_id, current_user)
    flash(_("Late payment accepted: the payment is marked paid."), "success")
    return redirect(url_for("vendors.transfers"))


@bp.route("/transfers/<int:transfer_id>/resolve", methods=["POST"])
@vendor_required
@back_to("vendors.transfers")
def resolve_transfer(transfer_id: int):
    form = ResolveForm()
    if not form.validate_on_submit():
        return _form_refused(form, transfer_id, _("Say what was done with this transfer."))
    payments.resolve_transfer(transfer_id, g.tenant.id, g.vendor_id, current_user, form.note.data)
    flash(_("Transfer resolved."), "success")
    return redirect(url_for("vendors.transfers"))


# --- the invitation ----------------------------------------------------------------------------------------------

@bp.route("/welcome/<token>", methods=["GET", "POST"])
def welcome(token: str):
    """The one-time link of a vendor's invitation: choose a password, and you are signed in at your first page."""
    try:
        user = invitations.user_for(token)
    except DomainError as err:
        return render_template("vendors/welcome.html", error=str(err.message), form=None), 400
    if not any(m.tenant_id == g.tenant.id and m.role == "vendor" for m in user.memberships):
        return render_template("vendors/welcome.html", error=_("This invitation link is not valid."), form=None), 400
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            invitations.accept(token, form.password.data, form.confirm.data)
        except DomainError as err:
            flash(str(err.message), "error")
        else:
            sessions.start(user)  # the project's one session start: a fresh session, its sign-in time
            flash(_("Welcome! Your password is set."), "success")
            endpoint, values = home_endpoint_for(user)
            return redirect(url_for(endpoint, **values))
    return render_template("vendors/welcome.html", form=form, user=user, error=None), (
        400 if form.is_submitted() else 200)
