"""The API keys page of a commune's staff: every key with its last use, a new key shown once, revocation.

Keys act for one payment account through the /v1 API. Only the commune's admins (and district admins, who
oversee) manage them; a revoked key stops authenticating at once and stays listed, so the record of who could
call the API, and when it last did, is kept.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField
from wtforms.validators import DataRequired

from flask_login import current_user

from app.auth import services as account_services
from app.auth.access import commune_staff_required
from app.errors import DomainError, ValidationError
from app.forms import BaseForm
from app.payments import accounts

bp = Blueprint("api_keys", __name__, url_prefix="/c/<tenant_slug>/payments/keys")
NEW_SECRET = "new_api_key_secret"  # the session key that carries a new secret to the one page view showing it


class NewKeyForm(BaseForm):
    account = SelectField(_l("Payment account"), coerce=int, validators=[DataRequired()])
    password = PasswordField(_l("Your password (to confirm the change)"))


@bp.route("/", methods=["GET", "POST"])
@commune_staff_required("commune_admin")
def index():
    payment_accounts = [a for a in accounts.list_accounts() if a.active]
    form = NewKeyForm()
    form.account.choices = [(a.id, f"{a.label} · {a.account_number}") for a in payment_accounts]
    if form.validate_on_submit():
        try:
            account = next((a for a in payment_accounts if a.id == form.account.data), None)
            if account is None:
                raise ValidationError(_("Choose one of the commune's active payment accounts."), field="account")
            # a key moves money through the API: the password again (issue 16, item 16)
            account_services.confirm_password(current_user._get_current_object(), form.password.data)
        except DomainError as err:  # at its field, the form again (400: the boundary rolls back)
            form.show_error(err)
        else:
            _key, secret = accounts.create_api_key(account)  # stored nowhere in clear
            # Post-redirect-get: reloading the page that shows the secret must not create a second key. The
            # secret rides in the signed session to the next page view, which takes it out: it is shown once.
            session[NEW_SECRET] = secret
            return redirect(url_for("api_keys.index"))
    secret = session.pop(NEW_SECRET, None) if request.method == "GET" else None
    return render_template("payments/staff_keys.html", tenant=g.tenant, form=form, keys=accounts.list_api_keys(),
                           secret=secret, has_accounts=bool(payment_accounts)), (400 if form.is_submitted() else 200)


@bp.route("/<int:key_id>/revoke", methods=["POST"])
@commune_staff_required("commune_admin")
def revoke(key_id: int):
    key = accounts.revoke_api_key(key_id)  # NotFound (404) for another commune's key, like any record of theirs
    flash(_("API key %(prefix)s… revoked: it no longer works.", prefix=key.display_prefix), "success")
    return redirect(url_for("api_keys.index"))
