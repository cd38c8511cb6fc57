"""Lunar festival days convert to the solar calendar as Vietnam's calendar has them, for known years."""

from __future__ import annotations

from datetime import date

import pytest

from tenants.heritage.festivals import next_date, solar_date


@pytest.mark.parametrize("lunar_year, solar", [
    (1985, date(1985, 1, 21)),  # Vietnam's Tết; China's fell on 20 February (UTC+7 against UTC+8)
    (2007, date(2007, 2, 17)),  # Vietnam 17 February, China 18 February
    (1968, date(1968, 1, 29)),  # the North's calendar (UTC+7) since 1968
    (2024, date(2024, 2, 10)),
    (2025, date(2025, 1, 29)),
    (2026, date(2026, 2, 17)),
])
def test_tet_falls_on_vietnams_date(lunar_year, solar):
    assert solar_date(lunar_year, 1, 1) == solar


@pytest.mark.parametrize("lunar_year, month, day, solar", [
    (2024, 1, 15, date(2024, 2, 24)),  # Rằm tháng Giêng
    (2025, 3, 10, date(2025, 4, 7)),  # Giỗ Tổ Hùng Vương
    (2024, 3, 10, date(2024, 4, 18)),
    (2023, 3, 10, date(2023, 4, 29)),  # 2023 had a leap second month: the festival stays in the regular third
    (2025, 8, 15, date(2025, 10, 6)),  # Tết Trung thu
    (2024, 4, 6, date(2024, 5, 13)),  # Hội Gióng at Phù Đổng (6-12 of the fourth month)
])
def test_festival_days_of_known_years(lunar_year, month, day, solar):
    assert solar_date(lunar_year, month, day) == solar


def test_the_thirtieth_of_a_short_month_is_its_last_day():
    # The first month of 2024 had 29 days (the 2nd month began on 10 March 2024).
    assert solar_date(2024, 1, 30) == date(2024, 3, 9)
    # The twelfth month of Giáp Thìn (2024) had 29 days: Tất niên on the 30th is the eve of Tết 2025.
    assert solar_date(2024, 12, 30) == date(2025, 1, 28)


def test_the_next_date_is_this_years_until_it_has_passed_then_next_years():
    assert next_date(1, 15, today=date(2025, 1, 1)) == date(2025, 2, 12)
    assert next_date(1, 15, today=date(2025, 2, 12)) == date(2025, 2, 12)
    assert next_date(1, 15, today=date(2025, 2, 13)) == date(2026, 3, 3)


def test_a_festival_of_several_days_is_current_until_its_last_day():
    # Hội Gióng, 6th to 12th of the fourth month: on the 9th it is still this year's.
    assert next_date(4, 6, today=date(2024, 5, 16), days=7) == date(2024, 5, 13)
    assert next_date(4, 6, today=date(2024, 5, 20), days=7) == date(2025, 5, 3)  # Phật đản, the 15th: 12 May


def test_a_date_in_the_last_weeks_of_the_solar_year_belongs_to_the_lunar_year_before():
    # 10 January 2026 is still in the eleventh lunar month of 2025: the twelfth month's festival is weeks away.
    assert next_date(12, 23, today=date(2026, 1, 10)) == date(2026, 2, 10)
