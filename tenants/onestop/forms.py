"""Reading the one-stop forms. The pages post plain HTML forms (CSRF-protected globally by Flask-WTF); values are
parsed here and every rule is checked by services, which answer a clear message for each field."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l

from app.errors import ValidationError
from app.formatting import VN_TZ


def whole_number(value: str | None, field: str, default: int | None = None) -> int:
    text = (value or "").strip().replace(".", "").replace(" ", "")
    if not text and default is not None:
        return default
    if not text.isdigit() or len(text) > 12:
        raise ValidationError(_l("Enter a whole number of at least 0."), field=field)
    return int(text)


def a_date(value: str | None, field: str) -> date:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        raise ValidationError(_l("Enter a date."), field=field) from None


def local_datetime(day: str | None, clock: str | None, field: str) -> datetime:
    """A date and an HH:MM entered in Hà Nội time."""
    moment = a_date(day, field)
    try:
        hours, minutes = (clock or "").strip().split(":")
        return datetime(moment.year, moment.month, moment.day, int(hours), int(minutes), tzinfo=VN_TZ)
    except ValueError:
        raise ValidationError(_l("Enter the time as HH:MM."), field=field) from None


def checked(form, name: str) -> bool:
    return form.get(name) in ("on", "1", "true", "y")


def applicant_fields(form) -> dict:
    return {"name": form.get("applicant_name", ""), "id_number": form.get("applicant_id_number", ""),
            "phone": form.get("applicant_phone", ""), "address": form.get("applicant_address", ""),
            "email": form.get("applicant_email", "")}
