"""What the trail's pages read: a commune's entries (or, for the district, every chain's), filtered and paged."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.extensions import db
from app.formatting import local_midnight
from app.text import normalize

PER_PAGE = 50
CSV_LIMIT = 100_000  # a CSV of more entries than this would be narrowed by the filters first
DISTRICT = "district"  # the district's own chain in the commune filter


@dataclass(frozen=True)
class Filters:
    commune: int | str | None = None  # a tenant id, DISTRICT, or None (every chain: district pages only)
    who: str = ""
    table: str = ""
    action: str = ""
    record: str = ""
    since: date | None = None
    until: date | None = None


def _bounds(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """Days of the Vietnamese calendar, both included, as UTC instants."""
    start = local_midnight(since) if since else None
    end = local_midnight(until + timedelta(days=1)) if until else None
    return start, end


def _query(filters: Filters, columns=None):
    query = select(*(columns or (AuditEntry,)))
    if filters.commune == DISTRICT:
        query = query.where(AuditEntry.tenant_id.is_(None))
    elif filters.commune is not None:
        query = query.where(AuditEntry.tenant_id == filters.commune)
    who = normalize(filters.who).lower()
    if who:
        escaped = who.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(AuditEntry.actor_label).like(f"%{escaped}%", escape="\\"))
    if filters.table:
        query = query.where(AuditEntry.table_name == filters.table)
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if filters.record:
        query = query.where(AuditEntry.record_id == normalize(filters.record))
    start, end = _bounds(filters.since, filters.until)
    if start is not None:
        query = query.where(AuditEntry.at >= start)
    if end is not None:
        query = query.where(AuditEntry.at < end)
    return query


@dataclass(frozen=True)
class Page:
    entries: list[AuditEntry]
    total: int
    page: int
    pages: int


def page_of(filters: Filters, page: int = 1) -> Page:
    """Newest first, PER_PAGE a page (two queries whatever the page)."""
    total = db.session.scalar(_query(filters, (func.count(AuditEntry.id),)))
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(page, 1), pages)
    entries = list(db.session.scalars(_query(filters).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                                      .limit(PER_PAGE).offset((page - 1) * PER_PAGE)))
    return Page(entries, total, page, pages)


def all_of(filters: Filters) -> Iterator[AuditEntry]:
    """Every matching entry, oldest first per chain (for the CSV), at most CSV_LIMIT."""
    query = _query(filters).order_by(AuditEntry.tenant_id, AuditEntry.seq).limit(CSV_LIMIT)
    yield from db.session.scalars(query.execution_options(yield_per=2000))
