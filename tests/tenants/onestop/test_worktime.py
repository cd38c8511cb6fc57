"""Due times in working time: office hours, lunch, evenings, weekends, Tết, a commune's own day off."""

from __future__ import annotations

from datetime import date, time

import pytest

from tenants.onestop.worktime import (
    DEFAULT_SCHEDULE,
    Schedule,
    add_working_minutes,
    due_time,
    local,
    next_opening,
    working_minutes_between,
)
from tests.tenants.onestop.conftest import vn

DAY_OFF = Schedule(days_off=frozenset({date(2026, 3, 4)}))  # the commune's own day off, a Wednesday

# (received, unit, amount, same_day, schedule, expected due) - 2026-03-02 is a Monday; Tết 2026 is 16-20 February.
CASES = [
    ("2 hours in the morning", vn(2026, 3, 2, 8, 0), "hours", 2, False, DEFAULT_SCHEDULE, vn(2026, 3, 2, 10, 0)),
    ("2 hours across lunch", vn(2026, 3, 2, 10, 30), "hours", 2, False, DEFAULT_SCHEDULE, vn(2026, 3, 2, 14, 30)),
    ("ends exactly at lunch", vn(2026, 3, 2, 10, 30), "hours", 1, False, DEFAULT_SCHEDULE, vn(2026, 3, 2, 11, 30)),
    ("received at lunch", vn(2026, 3, 2, 12, 0), "hours", 1, False, DEFAULT_SCHEDULE, vn(2026, 3, 2, 14, 30)),
    ("received in the evening", vn(2026, 3, 2, 19, 0), "hours", 2, False, DEFAULT_SCHEDULE, vn(2026, 3, 3, 9, 0)),
    ("2 hours across the evening", vn(2026, 3, 2, 16, 0), "hours", 2, False, DEFAULT_SCHEDULE, vn(2026, 3, 3, 8, 0)),
    ("1 day from Friday afternoon", vn(2026, 3, 6, 14, 0), "days", 1, False, DEFAULT_SCHEDULE, vn(2026, 3, 9, 14, 0)),
    ("received on Saturday", vn(2026, 3, 7, 9, 0), "days", 1, False, DEFAULT_SCHEDULE, vn(2026, 3, 9, 17, 0)),
    ("3 days across Tết", vn(2026, 2, 13, 16, 0), "days", 3, False, DEFAULT_SCHEDULE, vn(2026, 2, 25, 16, 0)),
    ("received during Tết", vn(2026, 2, 17, 9, 0), "hours", 1, False, DEFAULT_SCHEDULE, vn(2026, 2, 23, 8, 0)),
    ("commune day off skipped", vn(2026, 3, 3, 9, 0), "days", 1, False, DAY_OFF, vn(2026, 3, 5, 9, 0)),
    ("National Day skipped", vn(2026, 8, 28, 10, 0), "days", 1, False, DEFAULT_SCHEDULE, vn(2026, 9, 3, 10, 0)),
    ("same day before 15:00", vn(2026, 3, 2, 14, 59), "days", 0, True, DEFAULT_SCHEDULE, vn(2026, 3, 2, 17, 0)),
    ("same day after 15:00", vn(2026, 3, 2, 15, 1), "days", 0, True, DEFAULT_SCHEDULE, vn(2026, 3, 3, 17, 0)),
    ("same day on Friday after 15:00", vn(2026, 3, 6, 15, 30), "days", 0, True, DEFAULT_SCHEDULE,
     vn(2026, 3, 9, 17, 0)),
    ("same day on a Sunday", vn(2026, 3, 8, 9, 0), "days", 0, True, DEFAULT_SCHEDULE, vn(2026, 3, 9, 17, 0)),
    ("same day before the commune's day off", vn(2026, 3, 3, 16, 0), "days", 0, True, DAY_OFF,
     vn(2026, 3, 5, 17, 0)),
]


@pytest.mark.parametrize("received, unit, amount, same_day, schedule, expected", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_due_time(received, unit, amount, same_day, schedule, expected):
    due = due_time(schedule, received, time_unit=unit, time_amount=amount, same_day=same_day)
    assert due.utcoffset().total_seconds() == 0  # stored in UTC
    assert local(due) == expected


def test_a_commune_with_other_hours_counts_its_own_day():
    saturday_mornings = Schedule.from_settings(("08:00", "12:00"), ("13:00", "17:00"), "0,1,2,3,4,5")
    assert saturday_mornings.minutes_per_day == 480
    # Friday 16:00 + 1 working day = Saturday 16:00 where Saturday is worked
    assert local(due_time(saturday_mornings, vn(2026, 3, 6, 16, 0), time_unit="days", time_amount=1,
                          same_day=False)) == vn(2026, 3, 7, 16, 0)


WORKING_MINUTES = [
    (vn(2026, 3, 2, 10, 0), vn(2026, 3, 2, 14, 0), 90 + 30),  # lunch does not count
    (vn(2026, 3, 6, 16, 0), vn(2026, 3, 9, 8, 0), 60 + 60),  # nor the weekend
    (vn(2026, 2, 13, 7, 0), vn(2026, 2, 23, 17, 0), 480 * 2),  # nor Tết
    (vn(2026, 3, 2, 18, 0), vn(2026, 3, 2, 20, 0), 0),
    (vn(2026, 3, 3, 9, 0), vn(2026, 3, 2, 9, 0), 0),  # end before start
]


@pytest.mark.parametrize("start, end, minutes", WORKING_MINUTES)
def test_working_minutes_between(start, end, minutes):
    assert working_minutes_between(DEFAULT_SCHEDULE, start, end) == minutes


def test_adding_then_measuring_working_minutes_agree():
    start = vn(2026, 2, 12, 9, 17)
    for minutes in (1, 59, 270, 480, 481, 2000):
        end = add_working_minutes(DEFAULT_SCHEDULE, start, minutes)
        assert working_minutes_between(DEFAULT_SCHEDULE, start, end) == minutes


def test_next_opening():
    assert next_opening(DEFAULT_SCHEDULE, vn(2026, 3, 2, 12, 0)) == vn(2026, 3, 2, 13, 30)
    assert next_opening(DEFAULT_SCHEDULE, vn(2026, 3, 6, 17, 0)) == vn(2026, 3, 9, 7, 0)
    assert next_opening(DEFAULT_SCHEDULE, vn(2026, 3, 2, 9, 5)) == vn(2026, 3, 2, 9, 5)


def test_default_hours_are_the_usual_ones():
    assert DEFAULT_SCHEDULE.periods == ((time(7), time(11, 30)), (time(13, 30), time(17)))
    assert DEFAULT_SCHEDULE.minutes_per_day == 480
