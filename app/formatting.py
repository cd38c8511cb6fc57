"""Display helpers: money as "1.250.000 ₫", times in Asia/Ho_Chi_Minh as dd/mm/yyyy HH:MM."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

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


def format_datetime(value: datetime | None) -> str:
    return to_local(value).strftime("%d/%m/%Y %H:%M") if value else ""


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value).date()
    return value.strftime("%d/%m/%Y")


def init_app(app) -> None:
    app.add_template_filter(format_vnd, "vnd")
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(format_date, "date")
    app.add_template_filter(fold, "fold")
