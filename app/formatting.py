"""Display helpers: money as "1.250.000 ₫", times in Asia/Ho_Chi_Minh as dd/mm/yyyy HH:MM, other numbers in the
reader's locale ("96,5 %", "5,06" in Vietnamese; "96.5 %", "5.06" in English) through Babel."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.numbers import get_decimal_symbol, get_group_symbol
from flask_babel import format_decimal, get_locale

from app.clock import as_utc
from app.text import fold

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def format_vnd(amount: int | None) -> str:
    """Integer đồng with dot thousands separators and the đồng sign: 1250000 -> "1.250.000 ₫"."""
    if amount is None:
        return ""
    if isinstance(amount, float) or isinstance(amount, bool):
        raise TypeError("money is integer đồng")
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(int(amount)):,}".replace(",", ".") + " ₫"


def to_local(value: datetime) -> datetime:
    return as_utc(value).astimezone(VN_TZ)


def local_midnight(day: date) -> datetime:
    """The instant a day of the Vietnamese calendar starts, in UTC: what stored times are compared with (SQLite
    compares them as text, so a bound in another zone would be off by seven hours there)."""
    return datetime.combine(day, time.min, tzinfo=VN_TZ).astimezone(timezone.utc)


def format_datetime(value: datetime | None) -> str:
    return to_local(value).strftime("%d/%m/%Y %H:%M") if value else ""


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value).date()
    return value.strftime("%d/%m/%Y")


def format_number(value: float | int | None, digits: int = 2, fixed: bool = False) -> str:
    """A number in the locale's format with at most ``digits`` decimals (exactly ``digits`` when ``fixed``):
    5.06 -> "5,06" in Vietnamese; 12345 -> "12.345"; None -> "–".

    Babel's answer (``format_decimal`` with the pattern "#,##0.##" / "#,##0.00"), computed here with the locale's
    two symbols: Babel parses the pattern and looks the symbols up on every call, about 30 µs, and the district
    dashboard formats 700 numbers a page (issue #17). tests/test_text_and_formatting.py keeps the two answers equal."""
    if value is None:
        return "–"
    number = _fast_decimal(value, digits, fixed, _symbols())
    if number is not None:
        return number
    decimals = ("0" if fixed else "#") * digits
    return format_decimal(value, format="#,##0" + ("." + decimals if digits else ""))


_SYMBOLS: dict[str, tuple[str, str]] = {}  # locale -> (group, decimal): a handful of locales, never more


def _symbols() -> tuple[str, str]:
    """The request's locale's group and decimal symbols ("." and "," in Vietnamese)."""
    key = str(get_locale())
    symbols = _SYMBOLS.get(key)
    if symbols is None:
        symbols = _SYMBOLS[key] = (get_group_symbol(key), get_decimal_symbol(key))
    return symbols


def number_formatters():
    """``(format_number, format_percent)`` with the locale looked up once, for a page that formats hundreds of
    numbers in one locale (the district dashboard): the same answers as the module's functions."""
    symbols = _symbols()

    def number(value, digits: int = 2, fixed: bool = False) -> str:
        if value is None:
            return "–"
        text = _fast_decimal(value, digits, fixed, symbols)
        return format_number(value, digits, fixed) if text is None else text

    def percent(ratio, digits: int = 1) -> str:
        return "–" if ratio is None else number(ratio * 100, digits, fixed=True) + " %"

    return number, percent


def _fast_decimal(value, digits: int, fixed: bool, symbols: tuple[str, str]) -> str | None:
    """Babel's NumberPattern.apply for "#,##0[.##|.00]" in the request's locale, or None where it would take another
    road (infinities, NaN, something not a number): the same Decimal of ``str(value)``, rounded the same way (the
    decimal context's, half-even), the same sign (of the value before rounding: -0.001 -> "-0")."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not number.is_finite():
        return None
    group, point = symbols
    negative = number.is_signed()
    rounded = abs(number).normalize().quantize(Decimal(10) ** -digits)
    whole, _sep, fraction = f"{rounded:f}".partition(".")
    text = f"{int(whole):,}".replace(",", group) if len(whole) > 3 else whole
    if digits:
        fraction = (fraction or "0").ljust(digits if fixed else 0, "0")
        if not fixed:
            fraction = fraction.rstrip("0")
        if fraction:
            text += point + fraction
    return "-" + text if negative else text


def format_percent(ratio: float | None, digits: int = 1) -> str:
    """A ratio as a percentage in the locale's format, the sign spaced as Vietnamese writes it: 0.965 -> "96,5 %".
    ``digits`` decimals exactly, so a column of rates lines up; None (no denominator) -> "–"."""
    if ratio is None:
        return "–"
    return format_number(ratio * 100, digits, fixed=True) + " %"


def init_app(app) -> None:
    app.add_template_filter(format_vnd, "vnd")
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(format_date, "date")
    app.add_template_filter(fold, "fold")
    app.add_template_filter(format_number, "number")
    app.add_template_filter(format_percent, "percent")
