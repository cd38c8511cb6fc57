"""Input bounded in one place (docs/security.md, "Bounded input"): the days of a period, page numbers, and text
without control characters in every request.

- ``period(args, ...)`` reads ``?from=YYYY-MM-DD&to=YYYY-MM-DD`` for every page and API that shows a period: days
  between FIRST_DAY and LAST_DAY (a year 1 or 9999 overflowed the date arithmetic into a 500), start before end,
  at most the page's length. A ``ValidationError`` (400) otherwise, which each page answers its own way.
- ``page_number(args)`` is ``?page=N`` clamped to 1..LAST_PAGE: never an error, never an offset the database cannot
  hold ("bigint out of range").
- ``init_app`` refuses, before any view runs, a request whose query, form fields (names and values) or uploaded
  file names hold a control character (app/text.py): 400 with a clear message (the /v1 API's own error shape
  there), and nothing changed. A URL whose values hold one names nothing: 404.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l

from app.errors import NotFound, ValidationError
from app.text import has_control_characters

FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)
LAST_PAGE = 10_000

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WHOLE = re.compile(r"^[+-]?\d{1,30}$")


def day(value: str | None, field: str) -> date:
    """A day written YYYY-MM-DD, between FIRST_DAY and LAST_DAY."""
    value = (value or "").strip()
    if not _DAY.match(value):
        raise ValidationError(_l("The %(name)s date must be written YYYY-MM-DD.", name=field), field=field)
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise ValidationError(_l("The %(name)s date does not exist.", name=field), field=field) from None
    if not FIRST_DAY <= parsed <= LAST_DAY:
        raise ValidationError(_l("The %(name)s date must be between %(first)s and %(last)s.", name=field,
                                first=FIRST_DAY.strftime("%d/%m/%Y"), last=LAST_DAY.strftime("%d/%m/%Y")),
                              field=field)
    return parsed


def period(args, *, today: date, max_days: int, default_days: int = 30) -> tuple[date, date]:
    """(start, end), both included, from ``?from=&to=``; by default the ``default_days`` up to ``today``. At most
    ``max_days`` days from start to end."""
    raw_from, raw_to = (args.get("from") or "").strip(), (args.get("to") or "").strip()
    end = day(raw_to, "to") if raw_to else today
    start = day(raw_from, "from") if raw_from else max(end - timedelta(days=default_days - 1), FIRST_DAY)
    if start > end:
        raise ValidationError(_l("The period must start before it ends."), field="from")
    if (end - start).days >= max_days:
        raise ValidationError(_l("The period cannot be longer than %(years)s years.", years=max_days // 365),
                              field="from")
    return start, end


def page_number(args, name: str = "page", last: int = LAST_PAGE) -> int:
    """``?page=N`` as a whole number from 1 to ``last``: anything else is the nearest of those (1 when unreadable)."""
    raw = (args.get(name) or "").strip()
    number = int(raw) if raw.isascii() and _WHOLE.match(raw) else 1
    return min(max(number, 1), max(last, 1))


# ------------------------------------------------------------------------------------------------ control characters

class ControlCharacter(ValidationError):
    """A request's field or file name holds a control character."""


def _refuse(where: str, name: str) -> None:
    if where == "file":
        message = _l("The file name contains an invisible control character. Rename the file and send it again.")
    else:
        message = _l("What was sent contains an invisible control character (such as NUL). Remove it and try again.")
    raise ControlCharacter(message, field=name[:100])


def _refuse_in_url(endpoint, values) -> None:
    """Before the tenant is resolved from the URL (a NUL in a commune's slug must not reach its query): an address
    with a control character names nothing, a 404 like any other record that does not exist (the API's too)."""
    for name, value in (values or {}).items():
        if isinstance(value, str) and has_control_characters(value):
            raise NotFound(_l("There is nothing at this address."), field=name[:100])


_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def _refuse_in_fields() -> None:
    """Before any view and before CSRF protection, but after the view's upload limit is in place (app/uploads.py):
    the query, the form's field names and values, and uploaded file names. Another body (JSON, a bank's
    notification) is left unread: its view reads it, under the limit it sets itself."""
    fields = [("query", request.args)]
    if request.mimetype in _FORM_TYPES:
        fields.append(("form", request.form))
    for where, values in fields:
        for name, value in values.items(multi=True):
            if has_control_characters(name) or has_control_characters(value):
                _refuse(where, name)
    if request.mimetype == "multipart/form-data":
        for name, upload in request.files.items(multi=True):
            if has_control_characters(name) or has_control_characters(upload.filename or ""):
                _refuse("file", name)


def _answer(err: ControlCharacter):
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return {"error": {"status": 400, "message": str(err.message)}}, 400
    return render_template("errors/400.html", status=400, message=str(err.message)), 400


def init_app(app: Flask) -> None:
    """Call after app/uploads.py's init_app and before the extensions and the tenant resolution are registered, so
    that these checks run first. The /v1 API's handlers give the error its own shape (a DomainError there)."""
    app.url_value_preprocessor(_refuse_in_url)
    app.before_request(_refuse_in_fields)
    app.register_error_handler(ControlCharacter, _answer)
