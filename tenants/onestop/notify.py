"""What the one-stop office tells the applicant (issue #20), and its officers' daily digest: the one module through
which this domain reaches app.notify. ``services._transition`` calls ``dossier_changed`` in the transaction of the
change; the message is written with it or not at all.

Events: received (with the appointment), supplement requested (the list), fee requested (the amount and the pay
link), result ready, late (the apology and the new appointment). Officers: each morning, a digest of their dossiers
due within two working days (``notify.periodic``; one per officer and day).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from app import notify
from app.auth.models import User
from app.clock import as_utc
from app.formatting import format_datetime, format_vnd, to_local
from tenants.models import Tenant
from tenants.onestop.models import Dossier
from tenants.onestop.statuses import AWAITING_FEE, PROCESSING, RECEIVED

EVENTS = {
    "receive": "received",
    "request_documents": "supplement_requested",
    "request_fee": "fee_requested",
    "record_result": "result_ready",
    "apologise": "late",
}
# Zalo ZNS templates are approved per Official Account: their ids come with the commune's OA (README).
ZNS_TEMPLATE = "onestop_status"


def subject(dossier: Dossier) -> str:
    return f"dossier:{dossier.id}"


def choose(dossier: Dossier, channel: str | None, locale: str | None = None) -> None:
    """The applicant's choice of channel (or "none") when giving a phone or e-mail."""
    notify.subscribe(subject(dossier), phone=dossier.applicant_phone, email=dossier.applicant_email,
                     channel=channel, locale=locale)


def _lookup_url(dossier: Dossier) -> str:
    from app.extensions import db

    slug = db.session.get(Tenant, dossier.tenant_id).slug
    return notify.public_url("onestop_lookup.dossier", tenant_slug=slug, code=dossier.code)


def _pay_url(dossier: Dossier) -> str:
    from tenants.onestop import payments

    intent = payments.fee_intent(dossier)
    return notify.public_url("payments.hosted", public_id=intent.public_id) if intent is not None else ""


def text(dossier: Dossier, event: str) -> notify.Text:
    code = dossier.code
    due = format_datetime(to_local(as_utc(dossier.due_at))) if dossier.due_at else ""
    reason = _("you gave this contact with dossier %(code)s.", code=code)
    link = _lookup_url(dossier)
    data = {"ma_ho_so": code, "trang_thai": event, "hen_tra": due}
    if event == "received":
        title = _("Dossier %(code)s received", code=code)
        body = _("Your dossier %(code)s was received. Appointment for the result: %(due)s.", code=code, due=due)
    elif event == "supplement_requested":
        title = _("Dossier %(code)s: documents needed", code=code)
        body = _("Your dossier %(code)s needs more documents: %(items)s", code=code,
                 items=dossier.supplement_items[:300])
    elif event == "fee_requested":
        title = _("Dossier %(code)s: fee to pay", code=code)
        body = _("The fee for dossier %(code)s is %(amount)s. Pay by VietQR:", code=code,
                 amount=format_vnd(dossier.fee_amount))
        link = _pay_url(dossier) or link
        data["so_tien"] = str(dossier.fee_amount)
    elif event == "result_ready":
        title = _("Dossier %(code)s: result ready", code=code)
        body = _("The result of your dossier %(code)s is ready.", code=code)
    else:  # late
        title = _("Dossier %(code)s: new appointment", code=code)
        body = _("We apologise: dossier %(code)s will be late (%(reason)s). New appointment: %(due)s.", code=code,
                 reason=dossier.apology_reason[:200], due=due)
    return notify.Text(title=title, body=body, link=link, reason=reason, zns_template=ZNS_TEMPLATE, zns_data=data)


def dossier_submitted(dossier: Dossier) -> None:
    """At intake: the applicant's choice, as the form gave it (``notify_channel``), else the default."""
    if dossier.applicant_phone or dossier.applicant_email:
        choose(dossier, None)


def dossier_changed(dossier: Dossier, action: str) -> None:
    event = EVENTS.get(action)
    if event is None or not (dossier.applicant_phone or dossier.applicant_email):
        return
    if notify.subscription(subject(dossier)) is None:
        choose(dossier, None)  # the default: e-mail when given, else SMS; the message's link changes it
    notify.send(subject(dossier), event, lambda _locale: text(dossier, event))


# ---------------------------------------------------------------------------------------------- officers' digest

NEAR = timedelta(days=2)


def officers_digest(now: datetime) -> int:
    """Each officer with open dossiers due within two days gets one digest a day (``notify.daily_to_staff``)."""
    from app.extensions import db

    def recipients():
        rows = db.session.execute(
            select(Dossier.tenant_id, Dossier.officer_id, Dossier.code, Dossier.due_at)
            .where(Dossier.status.in_((RECEIVED.value, PROCESSING.value, AWAITING_FEE.value)),
                   Dossier.officer_id.is_not(None), Dossier.clock_paused_at.is_(None), Dossier.due_at <= now + NEAR)
            .order_by(Dossier.tenant_id, Dossier.officer_id, Dossier.due_at)).all()
        by_officer: dict[tuple[int, int], list] = {}
        for row in rows:
            by_officer.setdefault((row.tenant_id, row.officer_id), []).append(row)
        for (tenant_id, officer_id), items in by_officer.items():
            officer = db.session.get(User, officer_id)
            if officer is None:
                continue

            def build(_locale, items=items):
                lines = [f"- {r.code}: {format_datetime(to_local(as_utc(r.due_at)))}" for r in items[:50]]
                return notify.Text(
                    title=_("%(n)s dossiers due within two days", n=len(items)),
                    body="\n".join([_("Dossiers you handle that are due soon or late:")] + lines),
                    reason=_("you are the officer of these dossiers."))

            yield tenant_id, officer, build

    return notify.daily_to_staff(now, event="deadline_digest", who="officer", key="onestop-digest",
                                 recipients=recipients)


notify.periodic("onestop.officers_digest", officers_digest)
