"""Festival days: a day of the Vietnamese lunar calendar (âm lịch) and its date in the solar calendar.

The conversion is lunar-vn's (Hồ Ngọc Đức's algorithm at UTC+7, Vietnam's own calendar: it differs from the Chinese
one in some years, e.g. Tết 1985 fell on 21 January in Vietnam and on 20 February in China). A festival is held in
the regular month, not in a leap month of the same number; one set on the 30th of a month that has 29 days that year
is held on the 29th, its last day.
"""

from __future__ import annotations

from datetime import date, timedelta

from lunar_vn import LunarDate, lunar_to_solar, solar_to_lunar

# lunar-vn computes years 1900-2100; the next festival of a date near the end is looked for within that range.
LAST_YEAR = 2100


def solar_date(lunar_year: int, month: int, day: int) -> date:
    """The solar date of ``day``/``month`` of the lunar year ``lunar_year`` (the 30th of a short month: the 29th)."""
    solar = lunar_to_solar(LunarDate(min(day, 30), month, lunar_year))
    if day == 30 and solar_to_lunar(solar).month != month:  # the month has 29 days this year
        solar -= timedelta(days=1)
    return solar


def next_date(month: int, day: int, today: date, days: int = 1) -> date | None:
    """The first day of the festival's next occurrence that has not ended by ``today`` (a festival of several days
    still going on today is the current one); None past the calendar's range."""
    this_year = solar_to_lunar(today).year
    for lunar_year in (this_year - 1, this_year, this_year + 1):
        if lunar_year > LAST_YEAR:
            return None
        start = solar_date(lunar_year, month, day)
        if start + timedelta(days=max(days, 1) - 1) >= today:
            return start
    return None  # pragma: no cover - one of three consecutive lunar years always holds it


def lunar_today(today: date) -> LunarDate:
    return solar_to_lunar(today)
