"""The market's pages for people without a commune role: the vendor's invitation (choose a password) and the
commune's public figures as JSON."""

from __future__ import annotations

from datetime import timedelta

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_user

from app.cache import cached_for_visitors
from app.errors import DomainError
from app.extensions import db
from tenants.market import api_bp, bp, queries
from tenants.market.forms import SetPasswordForm
from tenants.market.models import Market, MarketSale, Stall
from tenants.vendors import invitations
from tenants.vendors import payments as vendor_payments
from tenants.vendors.models import Vendor

MAX_STATS_DAYS = 366
# The public figures JSON is the same for every visitor: stored whole by the response cache (app/cache.py) until a
# commit writes what it counts (a sale, a vendor or its bank account, a market, a stall). The period ends today: just
# after midnight it can lag by up to RESPONSE_CACHE_SECONDS (10 minutes), the cache's bound on staleness.
SHOWN = (MarketSale, Vendor, vendor_payments.ACCOUNT_MODEL, Market, Stall)  # what the public market figures count


@bp.route("/welcome/<token>", methods=["GET", "POST"])
def welcome(token: str):
    """The one-time link of a vendor's invitation: choose a password, and you are signed in at your sales page."""
    try:
        user = invitations.user_for(token)
    except DomainError as err:
        return render_template("market/welcome.html", error=str(err.message), form=None), 400
    if not any(m.tenant_id == g.tenant.id and m.role == "vendor" for m in user.memberships):
        return render_template("market/welcome.html", error=_("This invitation link is not valid."), form=None), 400
    form = SetPasswordForm()
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                invitations.accept(token, form.password.data, form.confirm.data)
                db.session.commit()
            except DomainError as err:
                db.session.rollback()
                flash(str(err.message), "error")
            else:
                login_user(user)
                flash(_("Welcome! Your password is set."), "success")
                return redirect(url_for("market.sales"))
        status = 400
    return render_template("market/welcome.html", form=form, user=user, error=None), status


@api_bp.route("/stats")
@cached_for_visitors(*SHOWN)
def stats():
    """The commune's public market figures: ``?days=N`` (1-366, default 30) up to today."""
    raw = request.args.get("days", "30")
    days = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 4 else 0
    if not 1 <= days <= MAX_STATS_DAYS:
        return {"error": {"status": 400, "message": _("days must be a whole number from 1 to 366.")}}, 400
    end = queries.today()
    start = end - timedelta(days=days - 1)
    return {"commune": g.tenant.slug, **queries.public_stats(start, end)}, 200, {
        "Cache-Control": "public, max-age=60", "Access-Control-Allow-Origin": "*"}
