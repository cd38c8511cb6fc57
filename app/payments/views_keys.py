"""The API keys page of a commune's staff: every key with its last use, a new key shown once, revocation.

Keys act for one payment account through the /v1 API. Only the commune's admins (and district admins, who
oversee) manage them; a revoked key stops authenticating at once and stays listed, so the record of who could
call the API, and when it last did, is kept.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.validators import DataRequired

from app.auth.access import commune_staff_required
from app.forms import BaseForm
from app.payments import accounts

bp = Blueprint("api_keys", __name__, url_prefix="/c/<tenant_slug>/payments/keys")


class NewKeyForm(BaseForm):
    account = SelectField(_l("Payment account"), coerce=int, validators=[DataRequired()])


@bp.route("/", methods=["GET", "POST"])
@commune_staff_required("commune_admin")
def index():
    payment_accounts = [a for a in accounts.list_accounts() if a.active]
    form = NewKeyForm()
    form.account.choices = [(a.id, f"{a.label} · {a.account_number}") for a in payment_accounts]
    secret, status = None, 200
    if request.method == "POST":
        account = next((a for a in payment_accounts if a.id == form.account.data), None)
        if form.validate_on_submit() and account is not None:
            _key, secret = accounts.create_api_key(account)  # shown on this page once, stored nowhere in clear
        else:
            flash(_("Choose one of the commune's active payment accounts."), "error")
            status = 400
    return render_template("payments/staff_keys.html", tenant=g.tenant, form=form, keys=accounts.list_api_keys(),
                           secret=secret, has_accounts=bool(payment_accounts)), status


@bp.route("/<int:key_id>/revoke", methods=["POST"])
@commune_staff_required("commune_admin")
def revoke(key_id: int):
    key = accounts.revoke_api_key(key_id)  # NotFound (404) for another commune's key, like any record of theirs
    flash(_("API key %(prefix)s… revoked: it no longer works.", prefix=key.display_prefix), "success")
    return redirect(url_for("api_keys.index"))
