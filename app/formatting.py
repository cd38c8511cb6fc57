"""Display helpers: money as "1.250.000 ₫", times in Asia/Ho_Chi_Minh as dd/mm/yyyy HH:MM, other numbers in the
reader's locale ("96,5 %", "5,06" in Vietnamese; "96.5 %", "5.06" in English) through Babel."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from flask_babel import format_decimal

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
    5.06 -> "5,06" in Vietnamese; 12345 -> "12.345"; None -> "–"."""
    if value is None:
        return "–"
    decimals = ("0" if fixed else "#") * digits
    return format_decimal(value, format="#,##0" + ("." + decimals if digits else ""))


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
