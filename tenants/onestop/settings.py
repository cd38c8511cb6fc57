"""The commune's own settings of the office (commune admins): its procedures, office hours and days off. Services
flush; the boundary commits (app/transactions.py)."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.errors import Conflict, NotFound, ValidationError
from app.extensions import db
from app.text import normalize
from tenants.onestop import queries
from tenants.onestop.models import TIME_UNITS, DayOff, OfficeSchedule, Procedure

def save_procedure(procedure_id: int | None, *, name: str, sector: str, time_unit: str, time_amount: int,
                   same_day: bool, fee: int, required_documents: str, online: bool, active: bool = True) -> Procedure:
    name, sector, required_documents = normalize(name), normalize(sector), normalize(required_documents)
    if not name or len(name) > 300:
        raise ValidationError(_l("Enter the procedure's name (300 characters at most)."), field="name")
    if not sector or len(sector) > 120:
        raise ValidationError(_l("Enter the sector (120 characters at most)."), field="sector")
    if time_unit not in TIME_UNITS:
        raise ValidationError(_l("The time is counted in working days or working hours."), field="time_unit")
    for value, field in ((time_amount, "time_amount"), (fee, "fee")):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 10**10:
            raise ValidationError(_l("Enter a whole number of at least 0."), field=field)
    if not same_day and time_amount == 0:
        raise ValidationError(_l("Enter the processing time, or mark the procedure same-day."), field="time_amount")
    procedure = Procedure() if procedure_id is None else queries.get_procedure(procedure_id)
    if procedure_id is None:
        db.session.add(procedure)
    procedure.name, procedure.sector, procedure.time_unit = name, sector, time_unit
    procedure.time_amount, procedure.same_day, procedure.fee = time_amount, same_day, fee
    procedure.required_documents, procedure.online, procedure.active = required_documents, online, active
    db.session.flush()
    return procedure


_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def save_schedule(morning_start: str, morning_end: str, afternoon_start: str, afternoon_end: str,
                  weekdays: list[int], same_day_cutoff: str) -> OfficeSchedule:
    times = [normalize(t) for t in (morning_start, morning_end, afternoon_start, afternoon_end, same_day_cutoff)]
    if not all(_HHMM.match(t) for t in times):
        raise ValidationError(_l("Enter times as HH:MM (24 hours)."), field="morning_start")
    if not (times[0] < times[1] <= times[2] < times[3]):
        raise ValidationError(_l("The morning must end before the afternoon starts, each after it begins."),
                              field="morning_start")
    days = sorted({d for d in weekdays if isinstance(d, int) and 0 <= d <= 6})
    if not days:
        raise ValidationError(_l("Choose at least one working day."), field="weekdays")
    row = queries.office_schedule()
    if row is None:
        row = OfficeSchedule()
        db.session.add(row)
    row.morning_start, row.morning_end, row.afternoon_start, row.afternoon_end, row.same_day_cutoff = times
    row.weekdays = ",".join(str(d) for d in days)
    db.session.flush()
    return row


def add_day_off(day: date | None, reason: str) -> DayOff:
    if not isinstance(day, date):
        raise ValidationError(_l("Enter a date."), field="day")
    reason = normalize(reason)[:200]
    if db.session.scalar(select(DayOff).where(DayOff.day == day)) is not None:
        raise Conflict(_l("This day is already a day off."), field="day")
    row = DayOff(day=day, reason=reason)
    db.session.add(row)
    db.session.flush()
    return row


def remove_day_off(day_off_id: int) -> None:
    row = db.session.scalar(select(DayOff).where(DayOff.id == day_off_id))
    if row is None:
        raise NotFound(_l("No such day off."))
    db.session.delete(row)
    db.session.flush()
