"""What the one-stop pages read: the catalogue, the office schedule, the work queue, search, a dossier's control
sheet. Metrics (Decision 766) are in ``metrics.py``. Queries carry no tenant filter: tenants/scoping.py adds it."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, or_, select

from app.errors import NotFound
from app.extensions import db
from app.text import fold, normalize
from tenants.onestop import statuses
from tenants.onestop.models import DayOff, Dossier, DossierDocument, DossierEvent, OfficeSchedule, Procedure, Rating
from tenants.onestop.worktime import DEFAULT_SCHEDULE, Schedule
from tenants.scoping import all_tenants

QUEUE_PAGE = 50
DUE_SOON = timedelta(hours=4)  # marked "due soon" this long before the due time


def procedures(active_only: bool = True) -> list[Procedure]:
    query = select(Procedure).order_by(Procedure.sector, Procedure.name, Procedure.id)
    if active_only:
        query = query.where(Procedure.active.is_(True))
    return list(db.session.scalars(query))


def get_procedure(procedure_id: int) -> Procedure:
    procedure = db.session.scalar(select(Procedure).where(Procedure.id == procedure_id))
    if procedure is None:
        raise NotFound(_l("No such procedure."))
    return procedure


def office_schedule() -> OfficeSchedule | None:
    return db.session.scalar(select(OfficeSchedule))


def days_off() -> list[DayOff]:
    return list(db.session.scalars(select(DayOff).order_by(DayOff.day)))


def schedule() -> Schedule:
    """The active commune's working-time schedule: its office hours (or the defaults) and its days off."""
    row = office_schedule()
    own_days = frozenset(db.session.scalars(select(DayOff.day)))
    if row is None:
        return Schedule(periods=DEFAULT_SCHEDULE.periods, weekdays=DEFAULT_SCHEDULE.weekdays,
                        same_day_cutoff=DEFAULT_SCHEDULE.same_day_cutoff, days_off=own_days)
    return Schedule.from_settings((row.morning_start, row.morning_end), (row.afternoon_start, row.afternoon_end),
                                  row.weekdays, row.same_day_cutoff, own_days)


def get_dossier(dossier_id: int) -> Dossier:
    # A query, not Session.get: the scoping must see it (another commune's dossier does not exist here).
    dossier = db.session.scalar(select(Dossier).where(Dossier.id == dossier_id))
    if dossier is None:
        raise NotFound(_l("No such dossier."))
    return dossier


def get_by_code(code: str) -> Dossier:
    code = normalize(code).upper()[:32]
    dossier = db.session.scalar(select(Dossier).where(Dossier.code == code)) if code else None
    if dossier is None:
        raise NotFound(_l("No dossier has this code."))
    return dossier


def find_by_code_anywhere(code: str) -> Dossier | None:
    """The public look-up by code: across communes, since a citizen's code names its unit but not its slug."""
    code = normalize(code).upper()[:32]
    if not code:
        return None
    with all_tenants():
        return db.session.scalar(select(Dossier).where(Dossier.code == code).order_by(Dossier.id.desc()).limit(1))


def work_queue(now: datetime, search: str = "", status: str | None = None, limit: int = QUEUE_PAGE) -> list[Dossier]:
    """Open dossiers (and those waiting for reception) by due time, the soonest first; a search looks at the code
    and the folded applicant name, in every state."""
    query = select(Dossier)
    search = normalize(search)
    if search:
        folded = fold(search)
        query = query.where(or_(Dossier.code == search.upper(),
                                Dossier.applicant_name_folded.contains(folded, autoescape=True)))
    elif status in statuses.BY_VALUE:
        query = query.where(Dossier.status == status)
    else:
        query = query.where(Dossier.status.in_(statuses.OPEN + (statuses.REGISTERED.value, statuses.PROCESSED.value)))
    never = case((Dossier.due_at.is_(None), 1), else_=0)
    query = query.order_by(never, Dossier.due_at, Dossier.id).limit(limit)
    return list(db.session.scalars(query))


def mark(dossier: Dossier, now: datetime) -> str | None:
    """'overdue', 'due_soon' or None, for an open dossier whose clock runs."""
    from app.payments.intents import as_utc

    if dossier.status not in statuses.OPEN or dossier.due_at is None or dossier.clock_paused_at is not None:
        return None
    due = as_utc(dossier.due_at)
    if due < now:
        return "overdue"
    if due - now <= DUE_SOON:
        return "due_soon"
    return None


def events(dossier_id: int) -> list[DossierEvent]:
    return list(db.session.scalars(select(DossierEvent).where(DossierEvent.dossier_id == dossier_id)
                                   .order_by(DossierEvent.at, DossierEvent.id)))


def documents(dossier_id: int) -> list[DossierDocument]:
    return list(db.session.scalars(select(DossierDocument).where(DossierDocument.dossier_id == dossier_id)
                                   .order_by(DossierDocument.id)))


def get_document(dossier_id: int, document_id: int) -> DossierDocument:
    document = db.session.scalar(select(DossierDocument).where(DossierDocument.id == document_id,
                                                               DossierDocument.dossier_id == dossier_id))
    if document is None:
        raise NotFound(_l("No such document."))
    return document


def rating_of(dossier_id: int) -> Rating | None:
    return db.session.scalar(select(Rating).where(Rating.dossier_id == dossier_id))
