"""Applying the retention rules: what is due (a dry run), and doing it, in batches, each batch its own transaction.

The statements are Core UPDATE/DELETE on the tables (across every commune, inside ``all_tenants()``), which the audit
trail's row hooks do not see: the command records one entry per commune and rule instead (which rule, how many
rows), so the trail tells that personal data was erased without keeping it.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import JSON, Text, and_, cast, delete, func, or_, select, update

from app.extensions import db
from app.retention import Rule

BATCH = 1000


def _value(value, table):
    return value(table) if callable(value) else value


def _differs(column, value):
    """``column`` does not hold ``value`` yet (JSON has no equality in PostgreSQL: compared as text)."""
    if isinstance(column.type, JSON):
        return cast(column, Text) != json.dumps(value, separators=(",", ":"))
    return column != value


def condition(rule: Rule, table, now: datetime | None, person=None):
    """Rows the rule applies to: past the period (or, with ``person``, that person's rows whatever their age), done
    with (``where``), and not already anonymised."""
    clock = table.c[rule.clock] if isinstance(rule.clock, str) else rule.clock(table)
    parts = [person if person is not None else clock < now - timedelta(days=rule.days)]
    if rule.where is not None:
        parts.append(rule.where(table))
    plain = [_differs(table.c[name], value) for name, value in rule.anonymise.items() if not callable(value)]
    if plain:
        parts.append(or_(*plain))
    return and_(*parts)


@dataclass(frozen=True)
class Due:
    rule: Rule
    by_commune: dict[int | None, int]

    @property
    def total(self) -> int:
        return sum(self.by_commune.values())


def due(rule: Rule, now: datetime | None, person=None) -> Due:
    """How many rows the rule would change, per commune (None: rows of no commune)."""
    table = db.metadata.tables[rule.table]
    where = condition(rule, table, now, person)
    if "tenant_id" in table.c:
        rows = db.session.execute(select(table.c.tenant_id, func.count()).where(where)
                                  .group_by(table.c.tenant_id)).all()
        return Due(rule, {tenant_id: count for tenant_id, count in rows})
    count = db.session.execute(select(func.count()).select_from(table).where(where)).scalar()
    return Due(rule, {None: count} if count else {})


def apply(rule: Rule, now: datetime | None, person=None) -> dict[int | None, int]:
    """Anonymise (or delete) what the rule applies to, BATCH rows a transaction; {commune: rows changed}."""
    from app import transactions

    table = db.metadata.tables[rule.table]
    key = list(table.primary_key.columns)[0]
    where = condition(rule, table, now, person)
    columns = [key] + ([table.c.tenant_id] if "tenant_id" in table.c else [])
    done: Counter = Counter()

    def batch() -> Counter:
        rows = db.session.execute(select(*columns).where(where).order_by(key).limit(BATCH)).all()
        ids = [row[0] for row in rows]
        if ids and rule.deletes:
            db.session.execute(delete(table).where(key.in_(ids)))
        elif ids:
            values = {name: _value(value, table) for name, value in rule.anonymise.items()}
            db.session.execute(update(table).where(key.in_(ids)).values(**values))
        return Counter(row[1] if len(row) > 1 else None for row in rows)

    while True:
        changed = transactions.run(batch)
        done.update(changed)
        if sum(changed.values()) < BATCH:
            return dict(done)
