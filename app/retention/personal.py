"""What the platform holds about a person, found by a phone number, an e-mail address, an ID number or a name in the
columns the domains declared personal (app/audit/registry.py), and erasing what may be erased: the columns of the
anonymising retention rules, in rows the rule is done with, whatever their age (docs/operations.md)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import func, or_, select

from app.audit import registry
from app.extensions import db
from app.retention import apply, rules

KINDS = ("phone", "email", "id_number", "name")


def normalise(kind: str, value: str) -> str:
    value = unicodedata.normalize("NFC", value or "").strip()
    if kind in ("phone", "id_number"):
        digits = re.sub(r"\D", "", value)
        return "0" + digits[2:] if kind == "phone" and digits.startswith("84") and len(digits) > 10 else digits
    return value.lower() if kind == "email" else value


def _columns(kind: str) -> dict[str, list[str]]:
    found = {}
    for table, columns in registry.personal_columns().items():
        names = sorted(c for c in columns if c.endswith(kind) and not c.endswith("_folded"))
        if names:
            found[table] = names
    return found


def match(table, columns: list[str], kind: str, value: str):
    if kind in ("email", "name"):
        return or_(*(func.lower(table.c[name]) == value.lower() for name in columns))
    return or_(*(table.c[name] == value for name in columns))


@dataclass(frozen=True)
class Found:
    table: str
    label: object
    record_id: object
    tenant_id: int | None
    columns: tuple[str, ...]


def find(kind: str, value: str) -> list[Found]:
    """Every row holding the value in a declared personal column (across communes: run inside all_tenants())."""
    value = normalise(kind, value)
    if not value:
        return []
    found = []
    for name, columns in _columns(kind).items():
        table = db.metadata.tables[name]
        key = list(table.primary_key.columns)[0]
        commune = table.c.tenant_id if "tenant_id" in table.c else None
        query = select(key, *([commune] if commune is not None else [])).where(match(table, columns, kind, value))
        for row in db.session.execute(query.order_by(key)):
            found.append(Found(name, registry.label_of(name), row[0], row[1] if commune is not None else None,
                               tuple(columns)))
    return found


def erasable(kind: str, value: str, do: bool) -> list[tuple[object, dict]]:
    """(rule, {commune: rows}) for each anonymising rule that reaches the person's rows; ``do`` erases them."""
    value = normalise(kind, value)
    columns = _columns(kind)
    outcome = []
    for declared in rules():
        if declared.deletes or declared.table not in columns or not value:
            continue
        table = db.metadata.tables[declared.table]
        person = match(table, columns[declared.table], kind, value)
        counts = apply.apply(declared, None, person) if do else apply.due(declared, None, person).by_commune
        if counts:
            outcome.append((declared, counts))
    return outcome
