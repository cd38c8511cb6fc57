"""The person's page for one subscription (reached by the link in every message: choose a channel, or stop), and
development's local outbox (every message as it would arrive; absent in production)."""

from __future__ import annotations

import json

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import RadioField
from wtforms.validators import DataRequired

from app.extensions import db
from app.forms import BaseForm
from app.notify import sms
from app.notify.models import NotifyMessage, NotifySubscription
from tenants.scoping import all_tenants, tenant_context

bp = Blueprint("notify", __name__, template_folder="templates")


@bp.app_template_global("notify_messages")
def notify_messages(subject: str, keys: list[str] | None = None):
    """The messages about a record, for its staff page (templates: ``{% include "notify/_status.html" %}``)."""
    from app import notify

    return notify.status_of(subject, keys)

CHOICE_LABELS = {
    "email": _l("E-mail"),
    "sms": _l("SMS (text message)"),
    "zalo": _l("Zalo"),
    "none": _l("No messages"),
}


class ChoiceForm(BaseForm):
    channel = RadioField(_l("How should we tell you?"), validators=[DataRequired()])


def _mask(value: str) -> str:
    if "@" in value:
        name, domain = value.split("@", 1)
        return f"{name[:1]}***@{domain}"
    return f"{value[:3]}****{value[-3:]}" if len(value) > 6 else "***"


@bp.route("/thong-bao/<token>", methods=["GET", "POST"])
def preferences(token: str):
    if not 20 <= len(token) <= 64:
        abort(404)
    with all_tenants():
        row = db.session.scalar(
            select(NotifySubscription).where(NotifySubscription.token == token))
    if row is None:
        abort(404)
    with tenant_context(row.tenant_id):
        form = ChoiceForm()
        choices = [(c, CHOICE_LABELS[c]) for c in ("email", "sms", "zalo", "none")
                   if c == "none" or (c == "email" and row.email) or (c in ("sms", "zalo") and row.phone)]
        form.channel.choices = choices
        if request.method == "GET":
            form.channel.data = row.channel
        if form.validate_on_submit():
            from app import notify

            notify.subscribe(row.subject, phone=row.phone, email=row.email, channel=form.channel.data,
                             locale=row.locale)
            flash(_("Your choice is saved.") if form.channel.data != "none" else
                  _("You will get no more messages about this."), "success")
            return redirect(url_for("notify.preferences", token=token))
        status = 400 if request.method == "POST" else 200
        return render_template("notify/preferences.html", form=form, row=row,
                               contact=_mask(row.email) if row.channel == "email" else _mask(row.phone)), status


def outbox_enabled() -> bool:
    config = current_app.config
    return not config.get("PRODUCTION") and bool(config.get("DEBUG") or config.get("TESTING")
                                                 or config.get("NOTIFY_OUTBOX_PAGE"))


@bp.route("/dev/outbox")
def outbox():
    """Development only: the messages as they would arrive, newest first."""
    if not outbox_enabled():
        abort(404)
    with all_tenants():
        rows = db.session.scalars(
            select(NotifyMessage).order_by(NotifyMessage.id.desc()).limit(200)).all()
        items = [{
            "row": row,
            "segments": sms.segments(row.body) if row.channel == "sms" else None,
            "template_data": json.loads(row.template_data) if row.template_data else {},
        } for row in rows]
    return render_template("notify/outbox.html", items=items)
