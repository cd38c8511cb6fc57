"""The dossier's one state machine (intake, every action, documents, ratings): every change of status goes through
``_transition`` (``TRANSITIONS`` says what each status allows; a refusal changes nothing) and lands on the control
sheet (Mẫu 06). Services flush; the boundary commits. Rules: docs/decisions.md, "One-stop office"."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app import locks, storage
from app.errors import Conflict, DomainError, NotFound, ValidationError
from app.extensions import db
from app.clock import as_utc, utcnow
from app.text import fold, normalize
from tenants.models import Tenant
from tenants.onestop import queries, statuses
from tenants.onestop import notify as notices
from tenants.onestop import worktime
from tenants.onestop.models import (
    Dossier,
    DossierCounter,
    DossierDocument,
    DossierEvent,
    Rating,
)
from tenants.onestop.statuses import (
    AWAITING_DOCUMENTS,
    AWAITING_FEE,
    PROCESSED,
    PROCESSING,
    RECEIVED,
    REFUSED,
    REGISTERED,
    RETURNED,
    STOPPED,
    WITHDRAWN,
)
from tenants.scoping import all_tenants, current_tenant_id

CITIZEN = "Công dân"
BANK = "Ngân hàng (VietQR)"
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_INTAKE_BYTES = 3 * MAX_DOCUMENT_BYTES  # a dossier's intake form carries several documents at once
# Content, not the name, decides what a file is: the first bytes of the formats an office accepts.
DOCUMENT_SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
)


class IllegalTransition(DomainError):
    """An action that the dossier's status does not allow; nothing was changed."""

    status = 409


# action -> (statuses it may start from, status it leads to; None = stays)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "receive": ((REGISTERED.value,), RECEIVED.value),
    "refuse": ((REGISTERED.value,), REFUSED.value),
    "process": ((RECEIVED.value, AWAITING_DOCUMENTS.value), PROCESSING.value),
    "request_documents": ((RECEIVED.value, PROCESSING.value), AWAITING_DOCUMENTS.value),
    "request_fee": ((RECEIVED.value, PROCESSING.value), AWAITING_FEE.value),
    "fee_paid": ((AWAITING_FEE.value,), PROCESSING.value),
    "record_result": ((RECEIVED.value, PROCESSING.value), PROCESSED.value),
    "return_result": ((PROCESSED.value,), RETURNED.value),
    "withdraw": ((REGISTERED.value, RECEIVED.value, PROCESSING.value, AWAITING_DOCUMENTS.value, AWAITING_FEE.value),
                 WITHDRAWN.value),
    "stop": ((RECEIVED.value, PROCESSING.value, AWAITING_DOCUMENTS.value, AWAITING_FEE.value), STOPPED.value),
    "apologise": ((RECEIVED.value, PROCESSING.value, AWAITING_FEE.value), None),
    # The citizen's additional documents, sent online: the clock stays stopped until the officer resumes.
    "supplement": ((AWAITING_DOCUMENTS.value,), None),
}
ACTIONS = tuple(TRANSITIONS)
ACTION_LABELS = {
    "submit": _l("Submitted online"),
    "receive": _l("Received"),
    "refuse": _l("Refused at reception"),
    "process": _l("Processing"),
    "request_documents": _l("Additional documents requested"),
    "request_fee": _l("Fee requested"),
    "fee_paid": _l("Fee paid"),
    "record_result": _l("Result recorded"),
    "return_result": _l("Result returned"),
    "withdraw": _l("Withdrawn"),
    "stop": _l("Stopped"),
    "apologise": _l("Apology and new appointment"),
    "supplement": _l("Additional documents sent online"),
}



def lock_dossier(dossier_id: int) -> Dossier:
    """The dossier, locked for this transaction and fresh from the database (two officers acting at once on
    PostgreSQL: the second waits and sees the first one's result), in the one lock order (app/locks.py)."""
    dossier = locks.lock_one(Dossier, Dossier.id == dossier_id)
    if dossier is None:
        raise NotFound(_l("No such dossier."))
    return dossier


def allowed(dossier: Dossier, action: str) -> bool:
    starts, _to = TRANSITIONS[action]
    return dossier.status in starts


def _step_on_time(dossier: Dossier, at: datetime) -> bool | None:
    if dossier.due_at is None or dossier.clock_paused_at is not None:
        return None
    return at <= as_utc(dossier.due_at)


def _log(dossier: Dossier, action: str, from_status: str | None, actor, at: datetime, note: str = "",
         actor_label: str | None = None) -> DossierEvent:
    event = DossierEvent(dossier_id=dossier.id, at=at, action=action, from_status=from_status,
                         to_status=dossier.status, actor_id=getattr(actor, "id", None),
                         actor_label=actor_label or getattr(actor, "name", "") or "", note=note,
                         on_time=_step_on_time(dossier, at))
    db.session.add(event)
    return event


def _transition(dossier: Dossier, action: str, actor, now: datetime, note: str = "",
                actor_label: str | None = None, change=None) -> Dossier:
    """Check, apply ``change(dossier)``, set the new status, log. Refused: nothing changed."""
    starts, to = TRANSITIONS[action]
    if dossier.status not in starts:
        raise IllegalTransition(_l("A dossier that is “%(status)s” cannot be given this action: %(action)s.",
                                   status=statuses.get(dossier.status).label, action=ACTION_LABELS[action]),
                                field="action")
    before = dossier.status
    if change is not None:
        change(dossier)
    if to is not None:
        dossier.status = to
    _log(dossier, action, before, actor, now, note, actor_label)
    db.session.flush()
    notices.dossier_changed(dossier, action)  # the applicant hears of it, in this transaction (issue #20)
    return dossier


def _finish(dossier: Dossier, now: datetime) -> None:
    """Fix the on-time judgement of a dossier that has ended. On time: no later than its due time, asked for
    additional documents at most once, and never apologised for (an apology admits the statutory time was missed)."""
    dossier.finished_at = now
    if dossier.received_at is None:
        dossier.finished_on_time = True  # refused or withdrawn before reception: no clock ever ran
        return
    paused = dossier.clock_paused_at is not None
    within = paused or dossier.due_at is None or now <= as_utc(dossier.due_at)
    dossier.finished_on_time = bool(within and dossier.supplement_requests <= 1 and dossier.apology_at is None)
    schedule = queries.schedule()
    end = as_utc(dossier.clock_paused_at) if paused else now
    dossier.processing_minutes = max(0, worktime.working_minutes_between(schedule, as_utc(dossier.received_at), end)
                                     - (dossier.paused_minutes or 0))


# --- intake -----------------------------------------------------------------------------------------------------

_ID_NUMBER = re.compile(r"^(\d{9}|\d{12})$")
_PHONE = re.compile(r"^\+?[0-9 .-]{8,20}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def clean_applicant(name: str, id_number: str, phone: str = "", address: str = "", email: str = "",
                    require_contact: bool = False) -> dict:
    """The applicant's details, checked. Online (``require_contact``), a phone number or an e-mail address is
    required: the office must be able to reach an applicant it has never met."""
    name, address = normalize(name), normalize(address)
    id_number = normalize(id_number).replace(" ", "")
    phone, email = normalize(phone), normalize(email).lower()
    if not name:
        raise ValidationError(_l("Enter the applicant's name."), field="applicant_name")
    if len(name) > 120:
        raise ValidationError(_l("The name is too long (120 characters at most)."), field="applicant_name")
    if not _ID_NUMBER.match(id_number):
        raise ValidationError(_l("The ID number has 12 digits (citizen ID) or 9 (old ID card)."),
                              field="applicant_id_number")
    if require_contact and not phone and not email:
        raise ValidationError(_l("Enter a phone number or an e-mail address, so that the office can reach you."),
                              field="applicant_phone")
    if phone and not _PHONE.match(phone):
        raise ValidationError(_l("Enter a phone number of digits only."), field="applicant_phone")
    if email and (len(email) > 254 or not _EMAIL.match(email)):
        raise ValidationError(_l("Enter a valid e-mail address."), field="applicant_email")
    if len(address) > 300:
        raise ValidationError(_l("The address is too long (300 characters at most)."), field="applicant_address")
    return {"applicant_name": name, "applicant_name_folded": fold(name)[:120], "applicant_id_number": id_number,
            "applicant_phone": phone, "applicant_address": address, "applicant_email": email}


def next_code(tenant_id: int, now: datetime) -> str:
    """``<unit code>-YYMMDD-NNNN``: the per-day counter row of the commune is upserted and stays locked until this
    transaction ends, so concurrent intakes get consecutive numbers, and a rolled-back intake gives its number back
    (no gap, no duplicate)."""
    day = worktime.local(now).date()
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(DossierCounter).values(tenant_id=tenant_id, day=day, last=1)
    statement = statement.on_conflict_do_update(
        index_elements=["tenant_id", "day"], set_={"last": DossierCounter.last + 1}
    ).returning(DossierCounter.last)
    with all_tenants():  # an upsert is a Core INSERT: it names its tenant itself
        sequence = db.session.execute(statement).scalar_one()
        unit = db.session.get(Tenant, tenant_id).code
    return f"{unit}-{day:%y%m%d}-{sequence:04d}"


def intake(procedure_id: int, applicant: dict, *, channel: str = "counter", officer=None, note: str = "",
           sets: int = 1, refuse_reason: str | None = None, now: datetime | None = None,
           submitted_from: str = "") -> Dossier:
    """A new dossier. At the counter an officer receives it at once (the clock starts), or, with
    ``refuse_reason``, refuses it at reception (status 3, Mẫu 03: it is still numbered and recorded, as the
    circular requires); online or by post it waits, "registered", for an officer to receive it."""
    now = now or utcnow()
    procedure = queries.get_procedure(procedure_id)
    if not procedure.active:
        raise ValidationError(_l("This procedure is no longer offered."), field="procedure_id")
    if channel not in statuses.CHANNELS:
        raise ValidationError(_l("Unknown channel."), field="channel")
    if channel == "online" and not procedure.online:
        raise ValidationError(_l("This procedure cannot be submitted online."), field="procedure_id")
    if channel == "counter" and officer is None:
        raise ValidationError(_l("Only an officer receives a dossier at the counter."), field="channel")
    if isinstance(sets, bool) or not isinstance(sets, int) or not 1 <= sets <= 20:
        raise ValidationError(_l("The number of sets is between 1 and 20."), field="sets")
    note = normalize(note)
    if len(note) > 2000:
        raise ValidationError(_l("The request is too long (2000 characters at most)."), field="request_note")
    tenant_id = current_tenant_id()
    dossier = Dossier(code=next_code(tenant_id, now), procedure_id=procedure.id, channel=channel,
                      status=REGISTERED.value, submitted_at=now, request_note=note, sets=sets,
                      fee_amount=procedure.fee, submitted_from=submitted_from, **applicant)
    db.session.add(dossier)
    db.session.flush()
    dossier.procedure = procedure
    _log(dossier, "submit", None, officer, now, actor_label=None if officer else CITIZEN)
    notices.dossier_submitted(dossier)  # the applicant's choice of channel, from the form (issue #20)
    if officer is not None and refuse_reason is not None:
        refuse(dossier, officer, refuse_reason, now=now)
    elif officer is not None:
        receive(dossier, officer, now=now)
    db.session.flush()
    return dossier


def _start_clock(dossier: Dossier, now: datetime) -> None:
    procedure = dossier.procedure
    dossier.received_at = now
    dossier.due_at = worktime.due_time(queries.schedule(), now, time_unit=procedure.time_unit,
                                       time_amount=procedure.time_amount, same_day=procedure.same_day)


def receive(dossier: Dossier, officer, now: datetime | None = None) -> Dossier:
    now = now or utcnow()

    def change(d):
        _start_clock(d, now)
        d.officer_id = officer.id

    return _transition(dossier, "receive", officer, now, change=change)


def _reason(text: str, what) -> str:
    text = normalize(text)
    if not text:
        raise ValidationError(what, field="reason")
    if len(text) > 2000:
        raise ValidationError(_l("The reason is too long (2000 characters at most)."), field="reason")
    return text


def refuse(dossier: Dossier, officer, reason: str, now: datetime | None = None) -> Dossier:
    now = now or utcnow()
    if allowed(dossier, "refuse"):
        reason = _reason(reason, _l("Say why the dossier is refused."))

    def change(d):
        d.reason = reason
        d.officer_id = d.officer_id or officer.id
        _finish(d, now)

    return _transition(dossier, "refuse", officer, now, reason, change=change)


def process(dossier: Dossier, officer, now: datetime | None = None) -> Dossier:
    """Start (or, after additional documents arrived, resume) processing: a stopped clock starts again with the
    working time that was left."""
    now = now or utcnow()

    def change(d):
        if d.clock_paused_at is not None:
            schedule = queries.schedule()
            d.paused_minutes = (d.paused_minutes or 0) + worktime.working_minutes_between(
                schedule, as_utc(d.clock_paused_at), now)
            if d.paused_remaining_minutes is not None:
                d.due_at = worktime.add_working_minutes(schedule, now, d.paused_remaining_minutes).astimezone(
                    timezone.utc)
            d.clock_paused_at = None
            d.paused_remaining_minutes = None

    return _transition(dossier, "process", officer, now, change=change)


def request_documents(dossier: Dossier, officer, items: str, now: datetime | None = None) -> Dossier:
    """Ask for additional documents (Mẫu 02): the clock stops. A second request makes the dossier late."""
    now = now or utcnow()
    if allowed(dossier, "request_documents"):
        items = _reason(items, _l("List the documents to add."))

    def change(d):
        due = as_utc(d.due_at)
        d.paused_remaining_minutes = (worktime.working_minutes_between(queries.schedule(), now, due)
                                      if due > now else None)
        d.clock_paused_at = now
        d.supplement_requests += 1
        d.supplement_items = items

    return _transition(dossier, "request_documents", officer, now, items, change=change)


def request_fee(dossier: Dossier, officer, now: datetime | None = None) -> Dossier:
    """Ask for the fee: a VietQR payment intent on the commune's fee account, in this same transaction."""
    from tenants.onestop import payments

    now = now or utcnow()
    if allowed(dossier, "request_fee"):
        if dossier.fee_amount <= 0:
            raise ValidationError(_l("This procedure has no fee."), field="action")
        if dossier.fee_paid_at is not None:
            raise Conflict(_l("The fee has already been paid."), field="action")
    return _transition(dossier, "request_fee", officer, now, change=lambda d: payments.request_fee(d))


def record_fee_paid(dossier: Dossier, method: str, actor=None, now: datetime | None = None,
                    reference: str = "") -> Dossier:
    """The fee arrived: by VietQR (the bank's notification, through onestop/payments.py) or in cash at the counter;
    the electronic fee receipt is issued with it (receipts.py)."""
    now = now or utcnow()
    if method not in statuses.FEE_METHODS:
        raise ValidationError(_l("Unknown payment method."), field="method")

    def change(d):
        from tenants.onestop import receipts

        d.fee_method = method
        d.fee_paid_at = now
        receipts.issue(d, method, reference, now)

    note = "VietQR" if method == "vietqr" else "Tiền mặt"
    return _transition(dossier, "fee_paid", actor, now, note, actor_label=None if actor else BANK, change=change)


def pay_cash(dossier: Dossier, officer, now: datetime | None = None) -> Dossier:
    from tenants.onestop import payments

    record_fee_paid(dossier, "cash", officer, now)
    payments.cancel_fee(dossier)  # the QR must not take the money a second time
    return dossier


def log_supplement(dossier: Dossier, files: int, now: datetime) -> Dossier:
    """The citizen sent additional documents online (online.add_supplement stores them): on the control sheet."""
    return _transition(dossier, "supplement", None, now, f"{files} tệp", actor_label=CITIZEN)


def check_document(filename: str, data: bytes) -> tuple[str, str, str]:
    """(clean name, content type, extension) of an acceptable file: checked by its content and size."""
    if not data:
        raise ValidationError(_l("The file is empty."), field="file")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise ValidationError(_l("The file is larger than 10 MB."), field="file")
    for signature, content_type, extension in DOCUMENT_SIGNATURES:
        if data.startswith(signature):
            name = normalize(filename).replace("/", "_").replace("\\", "_")[-150:] or f"document.{extension}"
            return name, content_type, extension
    raise ValidationError(_l("Only PDF, PNG and JPEG files are accepted."), field="file")


def add_document(dossier: Dossier, filename: str, data: bytes, uploader=None, kind: str = "submitted",
                 now: datetime | None = None) -> DossierDocument:
    name, content_type, extension = check_document(filename, data)
    if dossier.status in statuses.FINISHED and kind == "submitted":
        raise ValidationError(_l("This dossier is closed."), field="file")
    key = f"onestop/{dossier.tenant_id}/dossier-{dossier.id}/{kind}-{secrets.token_hex(8)}.{extension}"
    document = DossierDocument(dossier_id=dossier.id, kind=kind, filename=name, content_type=content_type,
                               size=len(data), storage_key=key, uploaded_by=getattr(uploader, "id", None),
                               uploaded_at=now or utcnow())
    db.session.add(document)
    db.session.flush()
    storage.save(key, data)  # after the row: a failed flush leaves no file; a failed commit leaves an orphan file
    return document


def record_result(dossier: Dossier, officer, filename: str, data: bytes, note: str = "",
                  now: datetime | None = None) -> Dossier:
    """The result, as an electronic file (every result is digitised)."""
    now = now or utcnow()
    note = normalize(note)[:2000]
    if allowed(dossier, "record_result"):
        check_document(filename, data)

    def change(d):
        document = add_document(d, filename, data, officer, kind="result", now=now)
        d.result_file_key = document.storage_key
        d.result_note = note
        _finish(d, now)

    return _transition(dossier, "record_result", officer, now, note, change=change)


def return_result(dossier: Dossier, officer, now: datetime | None = None) -> Dossier:
    now = now or utcnow()

    def change(d):
        d.returned_at = now

    return _transition(dossier, "return_result", officer, now, change=change)


def withdraw(dossier: Dossier, officer, reason: str = "", now: datetime | None = None) -> Dossier:
    now = now or utcnow()
    reason = normalize(reason)[:2000]

    def change(d):
        d.reason = reason
        _finish(d, now)

    return _transition(dossier, "withdraw", officer, now, reason, change=change)


def stop(dossier: Dossier, officer, reason: str, now: datetime | None = None) -> Dossier:
    now = now or utcnow()
    if allowed(dossier, "stop"):
        reason = _reason(reason, _l("Say why processing stops."))

    def change(d):
        d.reason = reason
        _finish(d, now)

    return _transition(dossier, "stop", officer, now, reason, change=change)


def apologise(dossier: Dossier, officer, reason: str, new_due: datetime, now: datetime | None = None) -> Dossier:
    """Mẫu 04: apologise with a new appointment, once, and at least one working day before the due time."""
    now = now or utcnow()
    if allowed(dossier, "apologise"):
        if dossier.apology_at is not None:
            raise Conflict(_l("The appointment has already been moved once."), field="action")
        reason = _reason(reason, _l("Say why the dossier will be late."))
        due = as_utc(dossier.due_at)
        schedule = queries.schedule()
        if worktime.working_minutes_between(schedule, now, due) < schedule.minutes_per_day:
            raise ValidationError(_l("An apology must be sent at least one working day before the due time."),
                                  field="new_due")
        if new_due.tzinfo is None:
            raise ValidationError(_l("Enter the new appointment."), field="new_due")
        if new_due <= due:
            raise ValidationError(_l("The new appointment must be later than the current due time."),
                                  field="new_due")

    def change(d):
        d.apology_at = now
        d.apology_reason = reason
        d.original_due_at = d.due_at
        d.due_at = new_due.astimezone(timezone.utc)

    return _transition(dossier, "apologise", officer, now, reason, change=change)


def act(dossier: Dossier, action: str, officer, **values) -> Dossier:
    """Dispatch an officer's action by name (the staff page's buttons)."""
    handlers = {
        "receive": lambda: receive(dossier, officer),
        "refuse": lambda: refuse(dossier, officer, values.get("reason", "")),
        "process": lambda: process(dossier, officer),
        "request_documents": lambda: request_documents(dossier, officer, values.get("reason", "")),
        "request_fee": lambda: request_fee(dossier, officer),
        "pay_cash": lambda: pay_cash(dossier, officer),
        "return_result": lambda: return_result(dossier, officer),
        "withdraw": lambda: withdraw(dossier, officer, values.get("reason", "")),
        "stop": lambda: stop(dossier, officer, values.get("reason", "")),
    }
    if action not in handlers:
        raise ValidationError(_l("Unknown action."), field="action")
    return handlers[action]()


# --- ratings ----------------------------------------------------------------------------------------------------

RATING_CHANGE_DAYS = 7  # the applicant may change their rating for a week after giving it


def rate(dossier: Dossier, level: str, reason: str = "", *, key: str | None = None, id_number: str | None = None,
         counter_officer_id: int | None = None, now: datetime | None = None) -> Rating:
    """The applicant's rating of their dossier (issue 16, item 2): only with the proof of being the applicant (the
    key of the receipt's QR or the ID number, tenants/onestop/proof.py), one per dossier, which its applicant may
    change for RATING_CHANGE_DAYS after giving it (``rated_at`` stays the time it was first given). Credited to the
    officer of the counter QR the citizen scanned if that officer worked on this dossier, else to the officer who
    served it: a counter QR cannot credit anyone for a dossier they never touched."""
    from tenants.onestop import proof

    if not proof.is_applicant(dossier, key=key, id_number=id_number):
        raise ValidationError(_l("Only the applicant can rate a dossier: scan the QR code of your receipt or enter "
                                 "your ID number."), field="id_number")
    reason = normalize(reason)
    if level not in statuses.RATINGS:
        raise ValidationError(_l("Choose a rating."), field="level")
    if level == "unsatisfied" and not reason:
        raise ValidationError(_l("Tell us why you are not satisfied."), field="reason")
    if len(reason) > 1000:
        raise ValidationError(_l("The reason is too long (1000 characters at most)."), field="reason")
    if dossier.status == REGISTERED.value:
        raise ValidationError(_l("A dossier can be rated once it has been received."), field="level")
    now = (now or utcnow()).astimezone(timezone.utc)
    rating = queries.rating_of(dossier.id)
    if rating is None:
        rating = Rating(dossier_id=dossier.id, rated_at=now)
        db.session.add(rating)
    elif (now - as_utc(rating.rated_at)).total_seconds() > RATING_CHANGE_DAYS * 86400:
        raise ValidationError(_l("This rating was given more than %(days)d days ago: it can no longer be changed.",
                                 days=RATING_CHANGE_DAYS), field="level")
    rating.level, rating.reason = level, reason
    served = counter_officer_id is not None and (
        counter_officer_id == dossier.officer_id or queries.officer_acted_on(dossier.id, counter_officer_id))
    rating.officer_id = counter_officer_id if served else dossier.officer_id
    db.session.flush()
    return rating

