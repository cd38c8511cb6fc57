"""Time as the application keeps it: UTC, timezone-aware. Shown in Vietnam's time by app/formatting.py."""

from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    """Every time is stored in UTC; SQLite hands it back naive. The one place that says so."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
