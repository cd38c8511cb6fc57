"""Working time: a dossier's due time counted in its commune's office hours, as pure functions over a ``Schedule``
(times in Hà Nội, given back in UTC). The rules: docs/decisions.md, "One-stop office" (Working time)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache

import holidays

from app.formatting import VN_TZ

MAX_DAYS_AHEAD = 3660  # a guard against a schedule with no working day at all


@lru_cache(maxsize=64)
def public_holidays(year: int) -> frozenset[date]:
    """Vietnam's public holidays of ``year`` (Tết included, with the substitute days off)."""
    return frozenset(holidays.country_holidays("VN", years=year).keys())


def parse_hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class Schedule:
    periods: tuple[tuple[time, time], ...] = ((time(7, 0), time(11, 30)), (time(13, 30), time(17, 0)))
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    same_day_cutoff: time = time(15, 0)
    days_off: frozenset[date] = field(default_factory=frozenset)  # the commune's own

    @classmethod
    def from_settings(cls, morning: tuple[str, str], afternoon: tuple[str, str], weekdays: str,
                      cutoff: str = "15:00", days_off=()) -> Schedule:
        return cls(
            periods=((parse_hhmm(morning[0]), parse_hhmm(morning[1])),
                     (parse_hhmm(afternoon[0]), parse_hhmm(afternoon[1]))),
            weekdays=frozenset(int(d) for d in weekdays.split(",") if d.strip()),
            same_day_cutoff=parse_hhmm(cutoff),
            days_off=frozenset(days_off),
        )

    @property
    def minutes_per_day(self) -> int:
        return sum(_minutes(end) - _minutes(start) for start, end in self.periods)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.weekdays and day not in self.days_off and day not in public_holidays(day.year)


DEFAULT_SCHEDULE = Schedule()


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(VN_TZ)


def _at(day: date, t: time) -> datetime:
    return datetime.combine(day, t, tzinfo=VN_TZ)


def _working_days_from(schedule: Schedule, day: date):
    for offset in range(MAX_DAYS_AHEAD):
        candidate = day + timedelta(days=offset)
        if schedule.is_working_day(candidate):
            yield candidate
    raise ValueError("the schedule has no working day in ten years")


def next_opening(schedule: Schedule, moment: datetime) -> datetime:
    """The first working instant at or after ``moment`` (local time)."""
    moment = local(moment)
    for day in _working_days_from(schedule, moment.date()):
        for start, end in schedule.periods:
            if day > moment.date() or moment < _at(day, end):
                return max(moment, _at(day, start)) if day == moment.date() else _at(day, start)
    raise AssertionError("unreachable")


def add_working_minutes(schedule: Schedule, start: datetime, minutes: int) -> datetime:
    """The instant ``minutes`` working minutes after ``start`` (local time). Ends at a period's end rather than at
    the next opening: 60 minutes from 10:30 is 11:30, before lunch."""
    moment = local(start)
    remaining = max(0, int(minutes))
    if remaining == 0:
        return next_opening(schedule, moment)
    for day in _working_days_from(schedule, moment.date()):
        for period_start, period_end in schedule.periods:
            begin, end = _at(day, period_start), _at(day, period_end)
            if end <= moment:
                continue
            begin = max(begin, moment)
            available = int((end - begin).total_seconds() // 60)
            if remaining <= available:
                return begin + timedelta(minutes=remaining)
            remaining -= available
    raise AssertionError("unreachable")


def working_minutes_between(schedule: Schedule, start: datetime, end: datetime) -> int:
    """Working minutes from ``start`` to ``end`` (0 when end is not after start)."""
    start, end = local(start), local(end)
    if end <= start:
        return 0
    total = 0
    day = start.date()
    while day <= end.date():
        if schedule.is_working_day(day):
            for period_start, period_end in schedule.periods:
                begin, finish = max(_at(day, period_start), start), min(_at(day, period_end), end)
                if finish > begin:
                    total += int((finish - begin).total_seconds() // 60)
        day += timedelta(days=1)
    return total


def closing_time(schedule: Schedule, day: date) -> datetime:
    return _at(day, schedule.periods[-1][1])


def due_time(schedule: Schedule, received_at: datetime, *, time_unit: str, time_amount: int,
             same_day: bool) -> datetime:
    """When a dossier received at ``received_at`` is due, in UTC."""
    received = local(received_at)
    if same_day:
        today = received.date()
        if schedule.is_working_day(today) and received.time() < schedule.same_day_cutoff:
            due = closing_time(schedule, today)
        else:
            following = next(_working_days_from(schedule, today + timedelta(days=1)))
            due = closing_time(schedule, following)
    else:
        per_unit = schedule.minutes_per_day if time_unit == "days" else 60
        due = add_working_minutes(schedule, received, time_amount * per_unit)
    return due.astimezone(timezone.utc)
