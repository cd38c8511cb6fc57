"""Vietnamese text folding for search, and display of money and time."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta, timezone

import pytest

from app.formatting import format_date, format_datetime, format_vnd, to_local
from app.text import fold, normalize, slugify, strip_diacritics

# --- text ------------------------------------------------------------------------------------------------------


def test_fold_maps_d_with_stroke_which_has_no_unicode_decomposition():
    assert fold("Đường") == "duong"
    assert fold("đường") == "duong"


def test_fold_drops_diacritics_and_case():
    assert fold("Bát Tràng") == "bat trang"
    assert fold("Kiêu Kỵ") == "kieu ky"
    assert fold("NINH HIỆP") == "ninh hiep"


def test_fold_gives_the_same_key_for_composed_and_decomposed_input():
    decomposed = unicodedata.normalize("NFD", "Bát Tràng")
    assert decomposed != "Bát Tràng"
    assert fold(decomposed) == fold("Bát Tràng") == "bat trang"


def test_fold_collapses_whitespace_and_handles_empty_input():
    assert fold("  Bát   Tràng \n") == "bat trang"
    assert fold("") == ""
    assert fold(None) == ""


def test_folded_query_finds_the_accented_name():
    assert fold("duong") in fold("Phố Đường Xá")
    assert fold("bat trang") == fold("BÁT TRÀNG")


def test_strip_diacritics_keeps_case():
    assert strip_diacritics("Đường Bát Tràng") == "Duong Bat Trang"


def test_normalize_is_nfc_and_stripped():
    decomposed = unicodedata.normalize("NFD", "  Gia Lâm ")
    assert normalize(decomposed) == "Gia Lâm"
    assert unicodedata.is_normalized("NFC", normalize(decomposed))
    assert normalize(None) == ""


@pytest.mark.parametrize(
    "text, slug",
    [("Thị trấn Yên Viên", "thi-tran-yen-vien"), ("Đặng Xá", "dang-xa"), ("  Bát   Tràng! ", "bat-trang"), ("!!!", "")],
)
def test_slugify(text, slug):
    assert slugify(text) == slug


# --- money -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "amount, shown",
    [(1250000, "1.250.000 ₫"), (0, "0 ₫"), (999, "999 ₫"), (1000, "1.000 ₫"), (-50000, "-50.000 ₫"),
     (12_345_678_900, "12.345.678.900 ₫")],
)
def test_format_vnd(amount, shown):
    assert format_vnd(amount) == shown


def test_format_vnd_refuses_floats_money_is_integer_dong():
    with pytest.raises(TypeError):
        format_vnd(1250000.0)
    with pytest.raises(TypeError):
        format_vnd(True)


def test_format_vnd_of_nothing_is_empty():
    assert format_vnd(None) == ""


# --- time ------------------------------------------------------------------------------------------------------

def test_format_datetime_converts_utc_to_ho_chi_minh_time():
    assert format_datetime(datetime(2025, 7, 1, 2, 30, tzinfo=timezone.utc)) == "01/07/2025 09:30"


def test_format_datetime_crosses_midnight_into_the_next_local_day():
    assert format_datetime(datetime(2024, 12, 31, 20, 5, tzinfo=timezone.utc)) == "01/01/2025 03:05"


def test_format_datetime_treats_naive_values_as_utc():
    """SQLite returns naive datetimes for what was stored in UTC."""
    assert format_datetime(datetime(2025, 1, 31, 18, 0)) == "01/02/2025 01:00"


def test_format_datetime_accepts_other_offsets():
    paris = timezone(timedelta(hours=2))
    assert format_datetime(datetime(2025, 6, 1, 12, 0, tzinfo=paris)) == "01/06/2025 17:00"


def test_format_datetime_uses_24_hours_and_of_nothing_is_empty():
    assert format_datetime(datetime(2025, 3, 9, 10, 45, tzinfo=timezone.utc)) == "09/03/2025 17:45"
    assert format_datetime(None) == ""


def test_format_date():
    assert format_date(date(2025, 1, 1)) == "01/01/2025"
    assert format_date(datetime(2024, 12, 31, 18, 0, tzinfo=timezone.utc)) == "01/01/2025"
    assert format_date(None) == ""


def test_to_local_is_utc_plus_7():
    assert to_local(datetime(2025, 1, 1, tzinfo=timezone.utc)).utcoffset() == timedelta(hours=7)


def test_template_filters_are_registered(app):
    with app.test_request_context():
        from flask import render_template_string

        out = render_template_string(
            "{{ 1250000|vnd }}|{{ t|datetime }}|{{ t|date }}|{{ 'Đường'|fold }}",
            t=datetime(2025, 7, 1, 2, 30, tzinfo=timezone.utc),
        )
    assert out == "1.250.000 ₫|01/07/2025 09:30|01/07/2025|duong"


@pytest.mark.parametrize("locale, number, percent, big", [("vi", "5,06", "96,5 %", "12.345"),
                                                           ("en", "5.06", "96.5 %", "12,345")])
def test_numbers_and_percentages_follow_the_locale(app, locale, number, percent, big):
    from app.formatting import format_number, format_percent

    with app.test_request_context(f"/?lang={locale}"):
        assert format_number(5.06) == number and format_number(12345, 0) == big
        assert format_percent(0.965) == percent and format_percent(None) == "–"
        assert format_percent(0.75, 0) == "75 %" and format_number(5.0) == "5"


def test_a_vietnamese_day_starts_at_17_00_utc_the_day_before():
    """Bounds of a local day are compared with stored UTC times (as text on SQLite): they must be UTC instants."""
    from datetime import date, datetime, timezone

    from app.formatting import local_midnight

    start = local_midnight(date(2026, 12, 8))
    assert start == datetime(2026, 12, 7, 17, 0, tzinfo=timezone.utc)
    assert start.utcoffset().total_seconds() == 0


# --- the one tax-code rule (app/text.py) -----------------------------------------------------------------------

@pytest.mark.parametrize("typed, stored", [
    ("0101234567", "0101234567"),
    (" 0101 234 567 ", "0101234567"),
    ("0101234567-001", "0101234567-001"),
    ("0101234567001", "0101234567-001"),  # a branch's 13 digits typed without the hyphen: stored with it
    ("0101.234.567-001", "0101234567-001"),
    ("", None),
    (None, None),
])
def test_a_tax_code_is_stored_in_one_form(typed, stored):
    from app.text import clean_tax_code

    assert clean_tax_code(typed) == stored


@pytest.mark.parametrize("typed", ["123", "01012345678", "0101234567-01", "0101234567--001", "01O1234567",
                                   "0101234567-0011", "-0101234567"])
def test_what_is_not_a_tax_code_is_refused_at_its_field(app, typed):
    from app.errors import ValidationError
    from app.text import clean_tax_code

    with app.test_request_context(), pytest.raises(ValidationError) as err:
        clean_tax_code(typed)
    assert err.value.field == "tax_code"


def test_a_required_tax_code_refuses_nothing_given(app):
    from app.errors import ValidationError
    from app.text import clean_tax_code

    with app.test_request_context(), pytest.raises(ValidationError):
        clean_tax_code("  ", required=True)


def _edge_numbers():
    import random
    from decimal import Decimal

    rng = random.Random(17)
    values = [0, 1, -1, 999, 1000, -1000, 999_999, 1_000_000, 12345, -12345678, 10**15, 0.0, -0.0, 0.004, -0.004,
              0.005, 0.015, 0.125, 2.675, 1.005, 99.995, 999.995, -999.995, 5.06, 96.5, 1e-7, 123456.789,
              Decimal("2.675"), Decimal("-0.0049"), Decimal("1234.5000"), 100.0, 1e16]
    values += [rng.randint(-10**12, 10**12) for _ in range(300)]
    values += [rng.uniform(-1e7, 1e7) for _ in range(300)] + [rng.random() for _ in range(300)]
    values += [round(rng.uniform(-1000, 1000), rng.randint(0, 4)) for _ in range(300)]
    return values


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_format_number_is_babels_answer(app, locale):
    """format_number computes Babel's pattern by hand (issue #17, the district dashboard's 700 numbers): the same text
    as flask_babel.format_decimal for every kind of value, rounding (half-even on the decimal text) and sign
    included; infinities and NaN go to Babel itself."""
    from flask_babel import format_decimal

    from app.formatting import format_number

    with app.test_request_context(f"/?lang={locale}"):
        for value in _edge_numbers():
            for digits in (0, 1, 2, 3):
                for fixed in (False, True):
                    pattern = "#,##0" + ("." + ("0" if fixed else "#") * digits if digits else "")
                    assert format_number(value, digits, fixed) == format_decimal(value, format=pattern), \
                        (value, digits, fixed)
        for value in (float("inf"), float("-inf"), float("nan")):
            assert format_number(value) == format_decimal(value, format="#,##0.##")
