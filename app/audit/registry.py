"""Which tables the audit trail records, and which columns hold secrets or personal data: declared by the domains.

Each domain declares its own tables once, from its package (as the district figures are, app/district/figures.py)::

    from app import audit
    audit.track("onestop_dossiers", _l("Dossier"), personal=("applicant_phone", "applicant_email"))

Tables and columns are named, not imported: the core knows no domain. ``check(metadata)`` (run by
``app.audit.init_app``) refuses a name that is not in the schema, so a renamed column cannot silently leave the trail.

- ``secret``: recorded as changed, never with its value (password hashes, keys, signing secrets).
- ``personal``: likewise, because the trail is append-only and kept for years, while personal data must be erasable
  (retention, a person's request); the trail says who changed a citizen's phone number and when, the record says
  what it is (docs/operations.md, "Personal data").
- ``ignore``: bookkeeping written by machines (``updated_at``, ``last_used_at``); a change of these alone is no entry.
- ``when``: a predicate on the changed row; only rows for which it is true are recorded (bank transfers: only those a
  person recorded or decided, not the bank's own notifications).
- ``commune``: the column naming the commune whose trail gets the entry (``tenant_id``; ``id`` for the tenants
  table itself). A row without one goes to the trail of the commune in whose pages it was changed, else the
  district's.

``personal_data(table, *columns)`` declares personal columns of a table the trail does not record (the shoppers'
contact details on orders), for the personal-data search and retention (app/retention).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

MASK = "***"  # what the trail keeps of a secret or personal value that was set (None stays None)


@dataclass(frozen=True)
class Tracked:
    table: str
    label: object  # a (lazy) translated name for the pages: "Dossier"
    secret: frozenset[str]
    personal: frozenset[str]
    ignore: frozenset[str]
    when: Callable[[object], bool] | None
    commune: str | None

    def hidden(self, column: str) -> bool:
        return column in self.secret or column in self.personal


_TRACKED: dict[str, Tracked] = {}
_PERSONAL: dict[str, tuple[frozenset[str], object]] = {}


def track(table: str, label=None, *, secret: Iterable[str] = (), personal: Iterable[str] = (),
          ignore: Iterable[str] = (), when: Callable[[object], bool] | None = None,
          commune: str | None = "tenant_id") -> None:
    """Record every insert, update and delete of ``table`` (or replace its declaration)."""
    _TRACKED[table] = Tracked(table, label or table, frozenset(secret), frozenset(personal), frozenset(ignore), when,
                              commune)
    if personal:
        personal_data(table, *personal, label=label)


def personal_data(table: str, *columns: str, label=None) -> None:
    known, _label = _PERSONAL.get(table, (frozenset(), None))
    _PERSONAL[table] = (known | frozenset(columns), label or _label or table)


def untrack(table: str) -> None:
    _TRACKED.pop(table, None)


def tracked(table: str) -> Tracked | None:
    return _TRACKED.get(table)


def tracked_tables() -> list[Tracked]:
    return sorted(_TRACKED.values(), key=lambda t: t.table)


def personal_columns() -> dict[str, frozenset[str]]:
    """Every declared table with personal data: {table: columns}."""
    return {table: columns for table, (columns, _label) in _PERSONAL.items()}


def label_of(table: str | None):
    if table is None:
        return ""
    declared = _TRACKED.get(table)
    if declared is not None:
        return declared.label
    return _PERSONAL.get(table, (None, table))[1]


def check(metadata) -> list[str]:
    """Names declared here that the schema does not have (empty when every declaration is sound)."""
    problems = []
    for table, declared in _TRACKED.items():
        columns = metadata.tables[table].c if table in metadata.tables else None
        if columns is None:
            problems.append(f"audit.track: no table {table!r}")
            continue
        # "tenant_id" is the default: a table without it (users) goes by the pages it was changed in.
        wanted = declared.secret | declared.personal | declared.ignore | ({declared.commune} - {None, "tenant_id"})
        problems += [f"audit.track({table!r}): no column {name!r}" for name in sorted(wanted) if name not in columns]
    for table, (columns, _label) in _PERSONAL.items():
        if table not in metadata.tables:
            problems.append(f"audit.personal_data: no table {table!r}")
            continue
        problems += [f"audit.personal_data({table!r}): no column {name!r}" for name in sorted(columns)
                     if name not in metadata.tables[table].c]
    return problems
