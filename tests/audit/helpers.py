"""Reading the trail back in tests (across every chain, as the district does)."""

from __future__ import annotations

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.extensions import db
from tenants.scoping import all_tenants


def entries(app, **where) -> list[dict]:
    """Every entry (oldest first), as dicts; ``where`` filters on columns (``table_name="notices"``)."""
    with app.app_context(), all_tenants():
        query = select(AuditEntry).order_by(AuditEntry.id)
        for name, value in where.items():
            column = getattr(AuditEntry, name)
            query = query.where(column.is_(None) if value is None else column == value)
        rows = [{c.name: getattr(e, c.name) for c in AuditEntry.__table__.columns} for e in db.session.scalars(query)]
        db.session.rollback()
    return rows


def row_entries(app, table: str) -> list[dict]:
    return entries(app, table_name=table)
