"""Administrative reorganisations: communes merge (and split), and their records go to their successors.

A reorganisation is an event (``Reorganisation``: effective date, legal basis) made of lines "predecessor ->
successor, whole or part" (``ReorganisationLine``). It is applied from a plan file by ``flask tenants reorganise
PLAN.json`` (``apply_plan``): one transaction, set-based (one UPDATE per table and line, whatever the number of
rows), safe to run twice (the plan's key and digest are recorded; a second run changes nothing). docs/decisions.md,
"Lineage", says why records move with their ids and codes, and README shows the plan format.

The core names no domain: it moves every table that has a ``tenant_id`` column (the mapper registry), and a domain
declares, from its own package, the tables that need another rule:

- ``stays(table, why)``: the predecessor keeps its rows (its own calendar, its settings of one row per commune);
- ``merges(table, key, combine)``: rows whose ``key`` the successor already has are combined (a counter: the
  larger; a tally: the sum), the others move;
- tables whose every unique constraint is on ``tenant_id`` alone stay (one row per commune: the successor has its
  own), and the audit trail always stays (each commune's chain is its own history).

Any other clash (two markets with the same slug in the predecessor and the successor...) is a decision the plan has
not made: ``--dry-run`` lists it and the run refuses before changing anything.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Table, and_, exists, func, select, text
from sqlalchemy.orm import aliased

from app import audit
from app.errors import DomainError
from app.extensions import db
from tenants.models import KINDS, Reorganisation, ReorganisationLine, Tenant
from tenants.scoping import all_tenants

NEVER_MOVED = ("audit_entries", "audit_heads")  # each commune's tamper-evident chain stays its own
MEMBERSHIPS = "memberships"  # staff: moved as the plan says (handled apart: a person may already serve the successor)

_STAYS: dict[str, str] = {}
_MERGES: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {}
_RENUMBERS: dict[str, tuple[str, str]] = {}
_OPEN: dict[str, tuple[str, tuple[str, ...]]] = {}
_COPIED: dict[str, str] = {}
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def stays(table: str, why: str) -> None:
    """Declare that a predecessor keeps its rows of ``table`` (``why`` is for the reader of the declaration)."""
    _STAYS[table] = why


def merges(table: str, key: tuple[str, ...], combine: dict[str, str]) -> None:
    """Declare that rows of ``table`` with the same ``key`` in predecessor and successor are combined, each column of
    ``combine`` by ``"max"`` or ``"sum"``."""
    if any(how not in ("max", "sum") for how in combine.values()):
        raise ValueError("combine columns by 'max' or 'sum'")
    _MERGES[table] = (tuple(key), dict(combine))


def renumbers(table: str, column: str, how: str) -> None:
    """Declare that a label numbered per commune (``column``, unique with tenant_id) is renumbered as it moves, so
    that it cannot clash in the successor: ``"after"`` continues an integer after the successor's largest,
    ``"prefix"`` puts the predecessor's statistics code before a text ("00538-HV-0001"). Only for labels that no
    address or printed code depends on."""
    if how not in ("after", "prefix"):
        raise ValueError("renumber 'after' the successor's largest, or with the predecessor's code as 'prefix'")
    _RENUMBERS[table] = (column, how)


def open_records(table: str, column: str, closed: tuple[str, ...]) -> None:
    """Declare which rows of ``table`` are still open (``column`` not in ``closed``): a split places its open ones as
    the plan says (``open_dossiers``), the closed ones go with the rest of its history to the default successor."""
    _OPEN[table] = (column, tuple(closed))


def copied_on_split(table: str, why: str) -> None:
    """Declare that a row of ``table`` that records going to another successor of a split refer to is copied there
    (a procedure the moved dossiers were filed under), the original staying with the rest."""
    _COPIED[table] = why


class PlanError(DomainError):
    """The plan cannot be applied as written (its message says why)."""


@dataclass(frozen=True)
class NewUnit:
    slug: str
    name: str
    kind: str
    code: str


#: What a part line may place with its successor (README "Reorganisations"): market slugs, payment accounts as
#: "BANK_BIN:ACCOUNT_NUMBER", open dossiers (true: all of them; or a list of procedure names), staff by e-mail.
PLACES = ("markets", "accounts", "open_dossiers", "staff")


@dataclass(frozen=True)
class Line:
    predecessor: str
    successor: str
    whole: bool
    default: bool = False  # a part line: this successor receives everything the plan does not send elsewhere
    places: dict = field(default_factory=dict, compare=False, hash=False)  # PLACES -> what goes with this line

    @property
    def stays(self) -> bool:
        """The default of a split is the predecessor itself: it stays in force, smaller (its other successors are
        outside the plan)."""
        return self.predecessor == self.successor


@dataclass
class Plan:
    key: str
    effective_date: date
    legal_basis: str
    digest: str
    new_units: list[NewUnit]
    lines: list[Line]
    applies_after: str | None = None  # the key of a plan that must have been applied first

    def successors_of(self, slug: str) -> list[str]:
        return [line.successor for line in self.lines if line.predecessor == slug]

    def split(self) -> dict[str, list[Line]]:
        """The predecessors split between successors: their part lines."""
        found: dict[str, list[Line]] = {}
        for line in self.lines:
            if not line.whole:
                found.setdefault(line.predecessor, []).append(line)
        return found


@dataclass
class Report:
    """What a run did (or, dry, would do)."""

    key: str
    dry_run: bool
    already_applied: bool = False
    created: list[str] = field(default_factory=list)
    moved: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)  # (pred, succ) -> table -> rows
    decisions: list[str] = field(default_factory=list)
    by_default: list[str] = field(default_factory=list)  # a split's records the plan does not place: to the default

    def lines(self) -> list[str]:
        if self.already_applied:
            return [f"{self.key}: already applied, nothing to do."]
        verb = "would" if self.dry_run else "did"
        out = [f"{self.key}: {'dry run' if self.dry_run else 'applied'}"]
        out += [f"  {verb} create {slug}" for slug in self.created]
        for (pred, succ), tables in self.moved.items():
            total = sum(tables.values())
            detail = ", ".join(f"{name} {n}" for name, n in sorted(tables.items()) if n)
            if pred == succ:
                out.append(f"  {pred} keeps the rest and stays in force, smaller")
                continue
            out.append(f"  {pred} -> {succ}: {verb} move {total} rows ({detail or 'none'})")
        if self.by_default:
            out.append("  not placed by the plan, so to the default successor:")
            out += [f"    - {d}" for d in self.by_default]
        if self.decisions:
            out.append("  needs a decision:")
            out += [f"    - {d}" for d in self.decisions]
        return out


def _text(value, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or any(ord(ch) < 32 for ch in value):
        raise PlanError(f"The plan's {what} must be a non-empty line of text.")
    return value.strip()


def parse_plan(raw: bytes) -> Plan:
    """Read and check a plan file's bytes (JSON, README "Reorganisations" documents the format)."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise PlanError(f"The plan is not JSON: {err}") from None
    if not isinstance(data, dict):
        raise PlanError("The plan is a JSON object.")
    try:
        effective = date.fromisoformat(_text(data.get("effective_date"), "effective_date"))
    except ValueError:
        raise PlanError("effective_date is a date, YYYY-MM-DD.") from None
    new_units = []
    for unit in data.get("new_units", []):
        if not isinstance(unit, dict):
            raise PlanError("Each new unit is an object with slug, name, kind and code.")
        new = NewUnit(_text(unit.get("slug"), "new unit's slug"), _text(unit.get("name"), "new unit's name"),
                      _text(unit.get("kind"), "new unit's kind"), _text(unit.get("code"), "new unit's code"))
        if new.kind not in KINDS or not (len(new.code) == 5 and new.code.isdigit()):
            raise PlanError(f"New unit {new.slug}: kind is xã, thị trấn or phường, and the code has 5 digits.")
        new_units.append(new)
    if not isinstance(data.get("lines", []), list):
        raise PlanError("The plan's lines are a list.")
    lines = [_line(line) for line in data.get("lines", [])]
    if not lines:
        raise PlanError("The plan has no lines.")
    plan = Plan(_text(data.get("key"), "key"), effective, _text(data.get("legal_basis"), "legal_basis"),
                hashlib.sha256(raw).hexdigest(), new_units, lines,
                _text(data["applies_after"], "applies_after") if "applies_after" in data else None)
    by_predecessor: dict[str, list[Line]] = {}
    for line in lines:
        by_predecessor.setdefault(line.predecessor, []).append(line)
    for pred, mine in by_predecessor.items():
        _check_split(pred, mine)
    if len({u.slug for u in new_units}) != len(new_units):
        raise PlanError("A new unit is listed twice.")
    return plan


def _line(line) -> Line:
    if not isinstance(line, dict) or not isinstance(line.get("whole", True), bool) \
            or not isinstance(line.get("default", False), bool):
        raise PlanError("Each line is an object: predecessor, successor, whole (true or false), and for a part line "
                        "default (true or false) and what it places (markets, accounts, open_dossiers, staff).")
    unknown = set(line) - {"predecessor", "successor", "whole", "default", "note", *PLACES}
    if unknown:
        raise PlanError(f"A line has keys the plan format does not know: {', '.join(sorted(unknown))}.")
    pred = _text(line.get("predecessor"), "line's predecessor")
    succ = _text(line.get("successor"), "line's successor")
    whole = line.get("whole", True)
    places = {}
    for kind in PLACES:
        if kind not in line:
            continue
        value = line[kind]
        if kind == "open_dossiers" and value is True:
            places[kind] = True
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise PlanError(f"{pred} -> {succ}: {kind} is a list of names"
                            + (" (or true: all of them)." if kind == "open_dossiers" else "."))
        if kind == "accounts" and not all(re.fullmatch(r"\d{6}:\d{4,19}", v) for v in value):
            raise PlanError(f"{pred} -> {succ}: an account is written BANK_BIN:ACCOUNT_NUMBER (970415:113000574).")
        places[kind] = [v.strip() for v in value]
    if whole and (places or line.get("default")):
        raise PlanError(f"{pred} -> {succ}: a whole line moves everything; what goes where belongs on part lines "
                        "(whole: false).")
    return Line(pred, succ, whole, bool(line.get("default", False)), places)


def _check_split(pred: str, mine: list[Line]) -> None:
    """The lines of one predecessor: one whole line, or part lines with one default and nothing placed twice."""
    if any(line.whole for line in mine):
        if len(mine) > 1:
            raise PlanError(f"{pred} has a whole line and other lines: a unit goes whole to one successor, or in "
                            "parts (whole: false), each part line saying what it takes, one of them the default.")
        if mine[0].stays:
            raise PlanError(f"{pred} cannot be its own successor.")
        return
    defaults = [line.successor for line in mine if line.default]
    if len(defaults) != 1:
        raise PlanError(f"{pred} is split: exactly one of its part lines is the default (the successor of "
                        f"everything the plan does not place), not {len(defaults)} ({', '.join(defaults) or 'none'}).")
    successors = [line.successor for line in mine]
    if len(set(successors)) != len(successors):
        raise PlanError(f"{pred} has two part lines to the same successor: put what goes there on one line.")
    if any(line.stays and not line.default for line in mine):
        raise PlanError(f"{pred}: only the default line may name the predecessor itself (what stays with it).")
    for kind in PLACES:
        seen: dict[str, str] = {}
        alls = [line.successor for line in mine if line.places.get(kind) is True]
        if alls and (len(alls) > 1 or any(isinstance(line.places.get(kind), list) for line in mine)):
            raise PlanError(f"{pred}: open_dossiers is either true on one line (all of them) or procedure names.")
        for line in mine:
            for name in line.places.get(kind, []) if isinstance(line.places.get(kind), list) else []:
                if name in seen:
                    raise PlanError(f"{pred}: {kind} {name} is placed twice ({seen[name]} and {line.successor}).")
                seen[name] = line.successor


def load_plan(path: str | Path) -> Plan:
    return parse_plan(Path(path).read_bytes())


# --- the tables ---------------------------------------------------------------------------------------------------

def _tenant_tables() -> list[Table]:
    """Every table with a tenant_id, parents before children (the mapper registry's order)."""
    return [t for t in db.metadata.sorted_tables
            if "tenant_id" in t.c and t.name not in NEVER_MOVED and t.name != MEMBERSHIPS]


def _one_per_commune(table: Table) -> bool:
    return any([c.name for c in u.columns] == ["tenant_id"] for u in _uniques(table))


def _uniques(table: Table) -> list:
    found = [c for c in table.constraints if c.__class__.__name__ in ("UniqueConstraint", "PrimaryKeyConstraint")]
    found += [i for i in table.indexes if i.unique and len(i.columns)]
    return found


def _clash_keys(table: Table) -> list[list[str]]:
    """The unique keys of a table that hold tenant_id and something that is not unique across communes already."""
    globally_unique = {tuple(c.name for c in u.columns) for u in _uniques(table) if "tenant_id" not in u.columns}
    keys = []
    for u in _uniques(table):
        cols = [c.name for c in u.columns]
        rest = tuple(c for c in cols if c != "tenant_id")
        renumbered = _RENUMBERS.get(table.name, ("",))[0]
        if "tenant_id" in cols and rest and not any(set(g) <= set(rest) for g in globally_unique) \
                and renumbered not in rest:
            keys.append(list(rest))
    return keys


def _rule(table: Table) -> str:
    if table.name in _STAYS or _one_per_commune(table):
        return "stays"
    if table.name in _MERGES:
        return "merges"
    return "moves"


def _ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(name)
    return name


# --- applying -----------------------------------------------------------------------------------------------------

def _on_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _lock_what_moves() -> None:
    """Before the plan reads anything (PostgreSQL): the tenants, the staff and every table the plan may move rows of,
    locked against writes until its commit (SHARE ROW EXCLUSIVE: reads go on; an INSERT, UPDATE or DELETE waits for
    the plan, and the plan waits for the writers already under way), taken in one order: ``app.locks.ORDER``'s
    tables first (money, then the domain rows), then the others by name. A payment confirmation racing the plan thus
    ends before it (the move sees every row it wrote, a new bank transfer included) or starts writing after it (it
    finds its intent in the successor). Row locks would not do: they cannot hold back the rows inserted meanwhile,
    which the move's snapshot does not see. A writer that holds one of these tables and then asks for one the plan
    holds is a deadlock PostgreSQL ends by rolling one back whole (the bank sends again; the plan is run again, it
    is idempotent). SQLite needs none: its one writer at a time holds the file from the plan's first write, and
    every move statement reads what was committed before it. docs/decisions.md, "Second read, #17 session"."""
    if not _on_postgres():
        return
    from app.locks import ORDER

    names = {t.name for t in _tenant_tables()} | {"tenants", MEMBERSHIPS}
    first = [name for name in ORDER if name in names]
    ordered = first + sorted(names - set(first))
    db.session.execute(text(f"LOCK TABLE {', '.join(_ident(n) for n in ordered)} IN SHARE ROW EXCLUSIVE MODE"))


def _defer_foreign_keys() -> None:
    """SQLite: composite foreign keys (tenant_id, x_id) are checked at commit for the rest of this transaction.
    (PostgreSQL moves every table in one statement instead: ``_move_all``.)"""
    if not _on_postgres():
        db.session.execute(text("PRAGMA defer_foreign_keys = ON"))


def _pairs(pairs: list[tuple[int, int]]) -> str:
    """The plan's lines as a CTE ``m(pred, succ)``: ids written as integer literals (int() makes them so), so a
    plan of thousands of lines is one statement whatever the driver's limit on parameters."""
    return "m(pred, succ) AS (VALUES " + ", ".join(f"({int(p)}, {int(s)})" for p, s in pairs) + ")"


def _counts(table: Table, pairs: list[tuple[int, int]]) -> dict[int, int]:
    """Rows of each predecessor in ``table``, in one query."""
    name = _ident(table.name)
    rows = db.session.execute(text(
        f"WITH {_pairs(pairs)} SELECT t.tenant_id, count(*) FROM {name} t JOIN m ON t.tenant_id = m.pred "
        "GROUP BY t.tenant_id"))
    return {int(tenant_id): int(n) for tenant_id, n in rows}


def _clashes(table: Table, pairs: list[tuple[int, int]], names: dict[int, str]) -> list[str]:
    """Keys that two of the communes joining into one successor hold each (one query per key of the table)."""
    found = []
    name = _ident(table.name)
    for key in _clash_keys(table):
        cols = ", ".join(f"t.{_ident(k)}" for k in key)
        rows = db.session.execute(text(
            f"WITH {_pairs(pairs)}, g(tenant, grp) AS (SELECT pred, succ FROM m UNION SELECT succ, succ FROM m) "
            f"SELECT g.grp, {cols} FROM {name} t JOIN g ON t.tenant_id = g.tenant GROUP BY g.grp, {cols} "
            "HAVING count(DISTINCT t.tenant_id) > 1 LIMIT 20"))
        for grp, *values in rows:
            found.append(f"{table.name}: {', '.join(f'{k}={v}' for k, v in zip(key, values, strict=True))} exists in more than one "
                         f"of the communes joining {names.get(int(grp), grp)}")
    return found


def _move_all(tables: list[Table], pairs: list[tuple[int, int]]) -> None:
    """Every row of every predecessor in ``tables`` to its successor, set-based: one UPDATE per table for the whole
    plan. The composite foreign keys (a stall's market is in the stall's commune) are checked at the end of a
    statement, so on PostgreSQL all the tables move in one statement of data-modifying CTEs (no constraint needs to
    be deferrable); on SQLite one UPDATE per table, the keys deferred to commit."""
    if not tables:
        return
    if _on_postgres():
        ctes = ", ".join(f"u{i} AS (UPDATE {_ident(t.name)} SET tenant_id = m.succ{_origin(t)} FROM m "
                         f"WHERE {_ident(t.name)}.tenant_id = m.pred RETURNING 1)" for i, t in enumerate(tables))
        db.session.execute(text(f"WITH {_pairs(pairs)}, {ctes} SELECT 1"))
        return
    for t in tables:
        name = _ident(t.name)
        db.session.execute(text(
            f"WITH {_pairs(pairs)} UPDATE {name} SET tenant_id = (SELECT succ FROM m WHERE m.pred = {name}.tenant_id)"
            f"{_origin(t)} WHERE tenant_id IN (SELECT pred FROM m)"))


ORIGIN = "origin_tenant_id"  # tenants.scoping.RemembersOrigin


def _origin(table: Table) -> str:
    """For a table whose records carry figures (it has ``origin_tenant_id``): the SET clause that remembers the
    commune the record came from, in the same statement that moves it (the right-hand side reads the row as it was).
    A record moved twice keeps its first origin: the lineage leads from there (app/district/figures.py)."""
    if ORIGIN not in table.c:
        return ""
    name = _ident(table.name)
    return f", {ORIGIN} = COALESCE({name}.{ORIGIN}, {name}.tenant_id)"


def _merge_rows(table: Table, pred: int, succ: int) -> None:
    key, combine = _MERGES[table.name]
    name = _ident(table.name)
    same_key = " AND ".join(f"p.{_ident(k)} = {name}.{_ident(k)}" for k in key)
    sets = []
    for column, how in combine.items():
        column = _ident(column)
        other = f"(SELECT p.{column} FROM {name} p WHERE p.tenant_id = :pred AND {same_key})"
        sets.append(f"{column} = CASE WHEN {other} > {column} THEN {other} ELSE {column} END" if how == "max"
                    else f"{column} = {column} + {other}")
    exists_pred = f"EXISTS (SELECT 1 FROM {name} p WHERE p.tenant_id = :pred AND {same_key})"
    params = {"pred": pred, "succ": succ}
    db.session.execute(text(f"UPDATE {name} SET {', '.join(sets)} WHERE tenant_id = :succ AND {exists_pred}"), params)
    same_in_succ = " AND ".join(f"s.{_ident(k)} = {name}.{_ident(k)}" for k in key)
    db.session.execute(text(
        f"DELETE FROM {name} WHERE tenant_id = :pred AND EXISTS (SELECT 1 FROM {name} s WHERE s.tenant_id = :succ "
        f"AND {same_in_succ})"), params)
    db.session.execute(table.update().where(table.c.tenant_id == pred).values(tenant_id=succ))


def _renumber(table: Table, pred: int, succ: int, before: list[int]) -> None:
    """Renumber ``pred``'s labels of ``table`` so they cannot clash in ``succ``, nor with those of the predecessors
    renumbered ``before`` it for the same successor."""
    column, how = _RENUMBERS[table.name]
    col = table.c[column]
    if how == "after":
        largest = (select(func.coalesce(func.max(col), 0)).where(table.c.tenant_id.in_([succ, *before]))
                   .scalar_subquery())
        db.session.execute(table.update().where(table.c.tenant_id == pred).values({column: col + largest}))
    else:
        code = db.session.scalar(select(Tenant.code).where(Tenant.id == pred))
        db.session.execute(table.update().where(table.c.tenant_id == pred).values({column: code + "-" + col}))


def _move_memberships(pred: int, succ: int) -> int:
    """Staff follow the plan's successor; a person who already holds the same role there keeps it, and their
    membership of the predecessor stays with its history."""
    table = db.metadata.tables[MEMBERSHIPS]
    other = table.alias("other")
    already = exists().where(and_(other.c.tenant_id == succ, other.c.user_id == table.c.user_id,
                                  other.c.role == table.c.role))
    return db.session.execute(
        table.update().where(table.c.tenant_id == pred, ~already).values(tenant_id=succ)).rowcount


def _what_moves(pairs: list[tuple[int, int]]) -> dict[int, dict[str, int]]:
    """Per predecessor, the rows of each table that move (one grouped count per table)."""
    moved: dict[int, dict[str, int]] = {p: {} for p, _ in pairs}
    tables = [t for t in _tenant_tables() if _rule(t) != "stays"] + [db.metadata.tables[MEMBERSHIPS]]
    for table in tables:
        for pred, n in _counts(table, pairs).items():
            moved[pred][table.name] = n
    return moved


def _move(pairs: list[tuple[int, int]], counts: dict[int, dict[str, int]]) -> None:
    """Renumber, combine, then move everything, then the staff. The few per-line statements run only for the
    predecessors that have rows in those tables."""
    together = []
    renumbered: dict[tuple[str, int], list[int]] = {}
    for table in _tenant_tables():
        rule = _rule(table)
        if rule == "stays":
            continue
        for pred, succ in pairs:
            if not counts[pred].get(table.name):
                continue
            if rule == "merges":
                _merge_rows(table, pred, succ)
            elif table.name in _RENUMBERS:
                before = renumbered.setdefault((table.name, succ), [])
                _renumber(table, pred, succ, before)
                before.append(pred)
        if rule == "moves":
            together.append(table)
    _move_all(together, pairs)
    for pred, succ in pairs:
        if counts[pred].get(MEMBERSHIPS):
            counts[pred][MEMBERSHIPS] = _move_memberships(pred, succ)


# --- splits -------------------------------------------------------------------------------------------------------
# A predecessor split between successors: its part lines place markets (with their stalls, the vendors at them, the
# vendors' accounts, sales and sign-ins), payment accounts, open dossiers and staff; everything else goes to the
# default line's successor. Every other row follows the rows it refers to (its foreign keys: a sale follows its
# market, vendor and payment; a document its dossier), so a row is never split from what it belongs with; a row
# whose parents go to different successors is a decision the plan has not made, and the run refuses.

_MAX_SAID = 20  # decisions said per kind: the dry run stays readable

# The routes live in temporary tables (per connection; on PostgreSQL dropped at commit), filled and read set-based:
# split_routes (pred, tbl, id, succ): a split predecessor's row going elsewhere than its default;
# split_remaps (pred, tbl, id, col, ptbl, pid, succ, new_id): a row whose ``col`` refers to a copied row (ptbl, pid)
# that a copy in ``succ`` replaces (new_id: the copy, once made). split_goes and split_verdict hold one table's
# routing while ``_follow`` decides it.
_TEMP = {
    "split_places": "pred BIGINT, kind VARCHAR(63), name TEXT, succ BIGINT",
    "split_accounts": "id BIGINT, number TEXT, vendor BIGINT, stalled INTEGER, vendor_goes BIGINT, "
                      "placed BIGINT",
    "split_routes": "pred BIGINT, tbl VARCHAR(63), id BIGINT, succ BIGINT",
    "split_remaps": "pred BIGINT, tbl VARCHAR(63), id BIGINT, col VARCHAR(63), ptbl VARCHAR(63), pid BIGINT, "
                    "succ BIGINT, new_id BIGINT",
    "split_defaults": "pred BIGINT, succ BIGINT",
    "split_rows": "pred BIGINT, id BIGINT",
    "split_goes": "pred BIGINT, id BIGINT, col VARCHAR(63), ptbl VARCHAR(63), ref BIGINT, dest BIGINT, copied INTEGER",
    "split_verdict": "pred BIGINT, id BIGINT, placed BIGINT, own BIGINT, bad INTEGER",
}


SCRATCH = ("split_rows", "split_goes", "split_verdict")  # one table's routing, emptied before the next


def _temp_tables() -> None:
    """Create (or empty) the routes' temporary tables."""
    after = " ON COMMIT DROP" if _on_postgres() else ""
    for name, columns in _TEMP.items():
        db.session.execute(text(f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} ({columns}){after}"))
        db.session.execute(text(f"DELETE FROM {name}"))
    db.session.execute(text("CREATE INDEX IF NOT EXISTS split_routes_row ON split_routes (tbl, id)"))
    db.session.execute(text("CREATE INDEX IF NOT EXISTS split_remaps_row ON split_remaps (tbl, id)"))
    db.session.execute(text("CREATE INDEX IF NOT EXISTS split_remaps_copy ON split_remaps (ptbl, pid)"))


def _analyze(temp: str) -> None:
    """PostgreSQL: statistics for a temporary table (autovacuum never sees one), so the joins on it are planned for
    its real size."""
    if _on_postgres():
        db.session.execute(text(f"ANALYZE {_ident(temp)}"))


@dataclass
class Routes:
    """Where one split predecessor's rows go when not to its default. The placements are gathered in ``rows``
    (table -> primary key -> successor id), then ``store``d in split_routes, where following and moving read them."""

    pred: int
    default: int
    rows: dict[str, dict[int, int]] = field(default_factory=dict)
    tables: list[str] = field(default_factory=list)  # the tables with rows in split_routes, in routing order

    def to(self, table: str, key: int, succ: int) -> None:
        if succ != self.default:
            self.rows.setdefault(table, {})[key] = succ

    def store(self) -> None:
        """The placements to split_routes (one statement)."""
        params = [{"pred": self.pred, "tbl": table, "id": key, "succ": succ}
                  for table, rows in self.rows.items() for key, succ in rows.items()]
        if params:
            db.session.execute(text("INSERT INTO split_routes (pred, tbl, id, succ) VALUES (:pred, :tbl, :id, :succ)"),
                               params)
        self.tables += [table for table, rows in self.rows.items() if rows and table not in self.tables]
        self.rows = {}

    def renamed(self, ids: dict[int, int]) -> Routes:
        """The same routes with the stand-in ids of new units replaced by their real ids (one UPDATE per new unit)."""
        for stand_in, real in ids.items():
            if stand_in != real and stand_in < 0:
                for name in ("split_routes", "split_remaps"):
                    db.session.execute(text(f"UPDATE {name} SET succ = {_literal(real)} WHERE pred = "
                                            f"{_literal(self.pred)} AND succ = {_literal(stand_in)}"))
        return Routes(ids.get(self.pred, self.pred), ids.get(self.default, self.default), tables=self.tables)


def _pk(table: Table):
    cols = list(table.primary_key.columns)
    return cols[0] if len(cols) == 1 else None


def _parents(table: Table) -> list[tuple[str, str]]:
    """(column, parent table) of each reference to another commune-scoped row."""
    found = []
    for fk in table.foreign_key_constraints:
        parent = fk.referred_table
        cols = [c.name for c in fk.columns if c.name != "tenant_id"]
        if parent.name != "tenants" and "tenant_id" in parent.c and len(cols) == 1:
            found.append((cols[0], parent.name))
    return found


def _route_split(pred_slug: str, lines: list[Line], ids: dict[str, int], names: dict[int, str],
                 report: Report, decisions: list[str], routed: list[str]) -> Routes:
    """Where each of a split predecessor's rows goes, from its part lines; unplaced markets are said in
    ``report.by_default``, what the plan cannot be applied with in ``report.decisions``."""
    tables = db.metadata.tables
    pred = ids[pred_slug]
    default = next(line for line in lines if line.default)
    routes = Routes(pred, ids[default.successor], tables=routed)
    place: dict[str, dict[str, int]] = {kind: {} for kind in PLACES}
    for line in lines:
        for kind, values in line.places.items():
            for value in (["*"] if values is True else values):
                place[kind][value] = ids[line.successor]
    said = decisions.append

    markets = tables["markets"]
    held = dict(db.session.execute(select(markets.c.slug, markets.c.id).where(markets.c.tenant_id == pred)).all())
    for slug, succ in place["markets"].items():
        if slug not in held:
            said(f"{pred_slug}: has no market {slug}")
        else:
            routes.to("markets", held[slug], succ)
    report.by_default += [f"{pred_slug}: market {slug} -> {default.successor}" for slug in sorted(held)
                          if slug not in place["markets"]]

    routes.store()
    p, d = _literal(pred), _literal(routes.default)
    if any(place[kind] for kind in ("accounts", "open_dossiers", "staff")):
        db.session.execute(text("INSERT INTO split_places (pred, kind, name, succ) VALUES (:pred, :kind, :name, :succ)"),
                           [{"pred": pred, "kind": kind, "name": name, "succ": succ}
                            for kind in ("accounts", "open_dossiers", "staff") for name, succ in place[kind].items()])

    def go(table: str, select_id_succ: str) -> None:
        """Route the rows ``select_id_succ`` yields (id, successor), those not to the default (one INSERT)."""
        added = db.session.execute(text(
            f"INSERT INTO split_routes (pred, tbl, id, succ) SELECT {p}, '{table}', x.id, x.succ FROM "
            f"({select_id_succ}) x WHERE x.succ <> {d}")).rowcount
        if added and table not in routes.tables:
            routes.tables.append(table)

    def route(table: str, column: str) -> str:
        return f"LEFT JOIN split_routes r ON r.pred = {p} AND r.tbl = '{table}' AND r.id = {column}"

    # Vendors go with the market of their stalls; a vendor at markets going to two successors is a decision.
    stalled = f"SELECT s.vendor_id FROM stalls s WHERE s.tenant_id = {p} AND s.vendor_id IS NOT NULL"
    vendor_dest = (f"SELECT s.vendor_id AS id, COALESCE(r.succ, {d}) AS succ FROM stalls s {route('markets', 's.market_id')} "
                   f"WHERE s.tenant_id = {p} AND s.vendor_id IS NOT NULL")
    torn: dict[int, set[int]] = {}
    for vendor_id, dest in db.session.execute(text(
            f"SELECT v.id, v.succ FROM ({vendor_dest}) v WHERE v.id IN (SELECT id FROM ({vendor_dest}) w GROUP BY id "
            "HAVING count(DISTINCT succ) > 1)")):
        torn.setdefault(int(vendor_id), set()).add(int(dest))
    for vendor_id, dests in sorted(torn.items()):
        said(f"{pred_slug}: vendor {vendor_id} has stalls in markets going to "
             f"{' and '.join(sorted(names.get(d, str(d)) for d in dests))}: place those markets together")
    go("vendors", f"SELECT id, min(succ) AS succ FROM ({vendor_dest}) v GROUP BY id HAVING count(DISTINCT succ) = 1")

    # Payment accounts: where the plan says; a vendor's account goes with its vendor. split_accounts: per account,
    # its number, its vendor, whether the vendor has a stall, where the vendor goes then, where the plan places it.
    db.session.execute(text("DELETE FROM split_accounts"))
    db.session.execute(text(
        "INSERT INTO split_accounts (id, number, vendor, stalled, vendor_goes, placed) "
        f"SELECT a.id, a.bank_bin || ':' || a.account_number, l.vendor_id, "
        f"CASE WHEN l.vendor_id IN ({stalled}) THEN 1 ELSE 0 END, "
        f"CASE WHEN l.vendor_id IN ({stalled}) THEN COALESCE(r.succ, {d}) END, pl.succ "
        f"FROM payment_accounts a LEFT JOIN vendor_accounts l ON l.account_id = a.id AND l.tenant_id = {p} "
        f"{route('vendors', 'l.vendor_id')} LEFT JOIN split_places pl ON pl.pred = {p} AND pl.kind = 'accounts' "
        f"AND pl.name = a.bank_bin || ':' || a.account_number WHERE a.tenant_id = {p}"))
    for number, vendor, vendor_goes, placed in db.session.execute(text(
            "SELECT number, vendor, vendor_goes, placed FROM split_accounts WHERE placed IS NOT NULL "
            "AND vendor_goes IS NOT NULL AND placed <> vendor_goes ORDER BY id")):
        said(f"{pred_slug}: account {number} is vendor {vendor}'s, who goes with its market to "
             f"{names.get(vendor_goes)}, not {names.get(placed)}")
    go("payment_accounts", f"SELECT id, COALESCE(placed, vendor_goes, {d}) AS succ FROM split_accounts")
    # A vendor with no stall (a producer of the marketplace) goes with its account when the plan places it.
    free = f"SELECT vendor, COALESCE(placed, {d}) AS succ FROM split_accounts WHERE vendor IS NOT NULL AND stalled = 0"
    for (vendor,) in db.session.execute(text(
            f"SELECT vendor FROM ({free}) f GROUP BY vendor HAVING count(DISTINCT succ) > 1 ORDER BY vendor")):
        said(f"{pred_slug}: vendor {vendor}'s accounts are placed with different successors")
    go("vendors", f"SELECT vendor AS id, min(succ) AS succ FROM ({free}) f GROUP BY vendor "
                  "HAVING count(DISTINCT succ) = 1")
    if place["accounts"]:
        held_numbers = set(db.session.scalars(text("SELECT number FROM split_accounts WHERE placed IS NOT NULL")))
        for number in place["accounts"]:
            if number not in held_numbers:
                said(f"{pred_slug}: has no payment account {number}")
    report.by_default += [
        f"{pred_slug}: vendor {slug} (no stall, no account placed) -> {default.successor}"
        for (slug,) in db.session.execute(text(
            f"SELECT v.slug FROM vendors v {route('vendors', 'v.id')} WHERE v.tenant_id = {p} AND r.id IS NULL "
            f"AND v.id NOT IN ({stalled}) ORDER BY v.slug LIMIT {_MAX_SAID}"))]

    # Open dossiers: all to one successor, or by procedure name; the closed ones stay with the history.
    if place["open_dossiers"]:
        procedures = tables["onestop_procedures"]
        column, closed = _OPEN["onestop_dossiers"]
        known = set(db.session.scalars(select(procedures.c.name).where(
            procedures.c.tenant_id == pred, procedures.c.name.in_(list(place["open_dossiers"])))))
        for name in place["open_dossiers"]:
            if name != "*" and name not in known:
                said(f"{pred_slug}: has no procedure named {name}")
        everything = place["open_dossiers"].get("*")
        succ = _literal(everything) if everything is not None else "pl.succ"
        params = {f"closed{i}": value for i, value in enumerate(closed)}
        not_closed = f" AND dd.{_ident(column)} IS NOT NULL AND dd.{_ident(column)} NOT IN " \
            f"({', '.join(':' + k for k in params)})" if closed else ""
        added = db.session.execute(text(
            f"INSERT INTO split_routes (pred, tbl, id, succ) SELECT {p}, 'onestop_dossiers', dd.id, {succ} "
            f"FROM onestop_dossiers dd LEFT JOIN onestop_procedures pr ON pr.id = dd.procedure_id "
            f"LEFT JOIN split_places pl ON pl.pred = {p} AND pl.kind = 'open_dossiers' AND pl.name = pr.name "
            f"WHERE dd.tenant_id = {p}{not_closed} AND {succ} IS NOT NULL "
            f"AND {succ} <> {d}"), params).rowcount
        if added and "onestop_dossiers" not in routes.tables:
            routes.tables.append("onestop_dossiers")

    # Staff by e-mail (every role the person holds); vendors' sign-ins go with their vendor.
    if place["staff"]:
        serving = set(db.session.scalars(text(
            f"SELECT u.email FROM {MEMBERSHIPS} m JOIN users u ON u.id = m.user_id JOIN split_places pl "
            f"ON pl.pred = {p} AND pl.kind = 'staff' AND pl.name = u.email WHERE m.tenant_id = {p}")))
        for email in place["staff"]:
            if email not in serving:
                said(f"{pred_slug}: nobody with the e-mail {email} serves it")
        go(MEMBERSHIPS, f"SELECT m.id, pl.succ FROM {MEMBERSHIPS} m JOIN users u ON u.id = m.user_id "
                        f"JOIN split_places pl ON pl.pred = {p} AND pl.kind = 'staff' AND pl.name = u.email "
                        f"WHERE m.tenant_id = {p}")
    signs = (f"SELECT vm.membership_id AS id, r.succ FROM vendor_memberships vm JOIN split_routes r ON r.pred = {p} "
             f"AND r.tbl = 'vendors' AND r.id = vm.vendor_id WHERE vm.tenant_id = {p}")
    db.session.execute(text(f"DELETE FROM split_routes WHERE pred = {p} AND tbl = '{MEMBERSHIPS}' "
                            f"AND id IN (SELECT id FROM ({signs}) s)"))
    go(MEMBERSHIPS, signs)
    return routes


def _follow_all(routes: dict[str, Routes], names: dict[int, str], said: dict[str, list[str]]) -> None:
    """Everything else follows what it refers to: table by table (the mapper registry's order, parents first), for
    every split predecessor of the plan at once (split_defaults: each one's default successor)."""
    if not routes:
        return
    db.session.execute(text("INSERT INTO split_defaults (pred, succ) VALUES (:pred, :succ)"),
                       [{"pred": r.pred, "succ": r.default} for r in routes.values()])
    _analyze("split_routes")
    slugs = {r.pred: slug for slug, r in routes.items()}
    tables = next(iter(routes.values())).tables  # shared by every split's Routes
    scratch = False
    for table in _tenant_tables():
        if _rule(table) == "moves":
            scratch = _follow(table, tables, slugs, names, said, scratch)
    if scratch:
        for temp in SCRATCH:
            db.session.execute(text(f"DELETE FROM {temp}"))


def _follow(table: Table, tables: list[str], slugs: dict[int, str], names: dict[int, str],
            said: dict[str, list[str]], scratch: bool) -> bool:
    """Route the rows of ``table`` that refer to a row going elsewhere (or that the plan placed): each goes where
    what it refers to goes; a row whose parents go to different successors is a decision, except a parent that is
    copied (``copied_on_split``). Set-based, for every split at once: one statement gathers where each such row's
    parents go (split_goes), one decides per row (split_verdict, GROUP BY), one adds the routes and one the copies
    it needs. Returns whether split_goes and split_verdict hold rows (``scratch``: emptied before the next use)."""
    parents = _parents(table)
    routed = [(col, parent) for col, parent in parents if parent in tables]
    placed = table.name in tables
    if not routed and not placed:
        return scratch
    pk = _pk(table)
    if pk is None:
        concerned = [t for _col, t in routed] + ([table.name] if placed else [])
        for (pred,) in db.session.execute(text(
                "SELECT DISTINCT pred FROM split_routes WHERE tbl IN "
                f"({', '.join(repr(_ident(t)) for t in concerned)}) ORDER BY pred")):
            said[slugs[int(pred)]].append(f"{slugs[int(pred)]}: {table.name} refers to records going elsewhere and "
                                          "has no single key")
        return scratch
    name, key, tbl = _ident(table.name), _ident(pk.name), _ident(table.name)

    def routed_row(parent: str, column: str) -> str:
        return (f"EXISTS (SELECT 1 FROM split_routes x WHERE x.tbl = '{_ident(parent)}' AND x.id = t.{column} "
                "AND x.pred = t.tenant_id)")

    near = [routed_row(parent, _ident(col)) for col, parent in routed]
    if placed:
        near.append(routed_row(tbl, key))
    rows = (f"SELECT t.{key} AS id, t.tenant_id AS pred FROM {name} t "
            f"WHERE t.tenant_id IN (SELECT pred FROM split_defaults) AND ({' OR '.join(near)})")
    if scratch:  # what the previous table left in split_rows, split_goes and split_verdict
        for temp in SCRATCH:
            db.session.execute(text(f"DELETE FROM {temp}"))
    found = db.session.execute(text(f"INSERT INTO split_rows (id, pred) {rows}")).rowcount
    if not found:  # no row of the table refers to a routed row (the usual case): one statement
        return False
    rows = "SELECT id, pred FROM split_rows"
    goes = " UNION ALL ".join(
        f"SELECT c.pred, t.{key}, '{_ident(col)}', '{_ident(parent)}', t.{_ident(col)}, COALESCE(r.succ, sd.succ), "
        f"{1 if parent in _COPIED else 0} FROM {name} t JOIN ({rows}) c ON c.id = t.{key} "
        f"JOIN split_defaults sd ON sd.pred = c.pred LEFT JOIN split_routes r "
        f"ON r.pred = c.pred AND r.tbl = '{_ident(parent)}' AND r.id = t.{_ident(col)} "
        f"WHERE t.{_ident(col)} IS NOT NULL" for col, parent in parents)
    gathered = db.session.execute(text(
        f"INSERT INTO split_goes (pred, id, col, ptbl, ref, dest, copied) {goes}")).rowcount \
        if goes else 0
    if not gathered and not placed:
        return True
    fixed = "CASE WHEN g.copied = 0 THEN g.dest END"
    # (No WITH before INSERT: the SQLite driver gives no row count for a statement that starts with one.)
    v = (f"SELECT c.pred, c.id, p.succ AS placed, count(DISTINCT {fixed}) AS n, min({fixed}) AS one "
         f"FROM ({rows}) c LEFT JOIN split_goes g ON g.id = c.id LEFT JOIN split_routes p "
         f"ON p.pred = c.pred AND p.tbl = '{tbl}' AND p.id = c.id GROUP BY c.pred, c.id, p.succ")
    w = f"SELECT pred, id, placed, COALESCE(placed, CASE WHEN n = 1 THEN one END) AS own, n, one FROM ({v}) v"
    decided = db.session.execute(text(
        f"INSERT INTO split_verdict (pred, id, placed, own, bad) SELECT pred, id, placed, own, "
        f"CASE WHEN own IS NULL OR n > 1 OR (n = 1 AND one <> own) THEN 1 ELSE 0 END FROM ({w}) w")).rowcount
    if not decided:
        return True
    bad = db.session.execute(text(
        "SELECT pred, id, own FROM (SELECT pred, id, own, row_number() OVER (PARTITION BY pred ORDER BY id) AS k "
        f"FROM split_verdict WHERE bad = 1) b WHERE k <= {_MAX_SAID} ORDER BY pred, id")).all()
    if bad:
        dests: dict[int, set[int]] = {int(i): ({int(own)} if own else set()) for _p, i, own in bad}
        for i, dest in db.session.execute(text(
                "SELECT g.id, g.dest FROM split_goes g WHERE g.copied = 0 AND g.id IN "
                f"({', '.join(_literal(i) for i in dests)})")):
            dests[int(i)].add(int(dest))
        for pred, i, _own in bad:
            where = sorted({names.get(d, str(d)) for d in dests[int(i)]})
            said[slugs[int(pred)]].append(f"{slugs[int(pred)]}: {table.name} {i} belongs with records going to "
                                          f"{' and '.join(where)}: place them with one successor")
    added = db.session.execute(text(
        f"INSERT INTO split_routes (pred, tbl, id, succ) SELECT v.pred, '{tbl}', v.id, v.own FROM split_verdict v "
        "JOIN split_defaults sd ON sd.pred = v.pred WHERE v.bad = 0 AND v.placed IS NULL AND v.own <> sd.succ"
    )).rowcount
    if added and table.name not in tables:
        tables.append(table.name)
    if any(parent in _COPIED for _col, parent in parents):
        db.session.execute(text(
            f"INSERT INTO split_remaps (pred, tbl, id, col, ptbl, pid, succ) SELECT v.pred, '{tbl}', g.id, g.col, "
            f"g.ptbl, g.ref, v.own FROM split_goes g JOIN split_verdict v ON v.id = g.id "
            f"WHERE v.bad = 0 AND g.copied = 1 AND g.dest <> v.own"))
    return True


def _routed_counts(routes: Routes) -> dict[int, dict[str, int]]:
    """Per successor, the rows routed to it per table, and the rows copied there (two grouped counts)."""
    out: dict[int, dict[str, int]] = {}
    pred = _literal(routes.pred)
    for succ, table, n in db.session.execute(text(
            f"SELECT succ, tbl, count(*) FROM split_routes WHERE pred = {pred} GROUP BY succ, tbl")):
        out.setdefault(int(succ), {})[table] = int(n)
    for succ, table, n in db.session.execute(text(
            f"SELECT succ, ptbl, count(DISTINCT pid) FROM split_remaps WHERE pred = {pred} GROUP BY succ, ptbl")):
        out.setdefault(int(succ), {})[table + " (copied)"] = int(n)
    return out


def _routed_clashes(routes: Routes, names: dict[int, str], pred_slug: str) -> list[str]:
    """Keys of the rows a split sends to a successor that the successor holds already (one query per key)."""
    found = []
    same = "IS NOT DISTINCT FROM" if _on_postgres() else "IS"
    pred = _literal(routes.pred)
    for name in routes.tables:
        table = db.metadata.tables[name]
        pk = _ident(_pk(table).name)
        for key in _clash_keys(table) if name != MEMBERSHIPS else []:
            cols = ", ".join(f"g.{_ident(k)}" for k in key)
            match = " AND ".join(f"s.{_ident(k)} {same} g.{_ident(k)}" for k in key)
            rows = db.session.execute(text(
                f"SELECT DISTINCT r.succ, {cols} FROM {_ident(name)} g JOIN split_routes r ON r.pred = {pred} "
                f"AND r.tbl = '{_ident(name)}' AND r.id = g.{pk} WHERE EXISTS (SELECT 1 FROM {_ident(name)} s "
                f"WHERE s.tenant_id = r.succ AND {match})")).all()
            by_succ: dict[int, list[tuple]] = {}
            for succ, *values in rows:
                by_succ.setdefault(int(succ), []).append(tuple(values))
            for succ, values in by_succ.items():
                found += [f"{name}: {', '.join(f'{k}={v}' for k, v in zip(key, one, strict=True))} of {pred_slug} "
                          f"exists in {names.get(succ, succ)} already" for one in sorted(values)[:_MAX_SAID]]
    return found


def _literal(value: int) -> str:
    return str(int(value))


def _move_routed(routed: list[str]) -> dict[tuple[str, int, int], int]:
    """Move the routed rows of every split of the plan (split_routes: ``routed`` lists its tables) to their
    successors (the rest goes to the default by ``_move``).
    Copies first (a procedure for the dossiers that leave: one INSERT per copied row, a few per split), then every
    routed table in one statement on PostgreSQL (``UPDATE ... FROM split_routes``; the composite foreign keys are
    checked at its end), one UPDATE per table on SQLite (deferred keys), then the staff. Returns, per copied row,
    the copy's id."""
    tables = db.metadata.tables
    _analyze("split_routes")
    copied: dict[tuple[str, int, int], int] = {}
    for name, row_id, succ in db.session.execute(text(
            "SELECT DISTINCT ptbl, pid, succ FROM split_remaps ORDER BY ptbl, pid, succ")).all():
        table = tables[name]
        pk = _pk(table)
        row = dict(db.session.execute(select(table).where(pk == row_id)).mappings().one())
        row.pop(pk.name)
        row["tenant_id"] = succ
        new_id = db.session.execute(table.insert().values(**row)).inserted_primary_key[0]
        copied[(name, int(row_id), int(succ))] = new_id
        db.session.execute(text(
            f"UPDATE split_remaps SET new_id = {_literal(new_id)} WHERE ptbl = '{_ident(name)}' "
            f"AND pid = {_literal(row_id)} AND succ = {_literal(succ)}"))
    remapped: dict[str, list[str]] = {}
    for name, col in db.session.execute(text("SELECT DISTINCT tbl, col FROM split_remaps")):
        remapped.setdefault(name, []).append(_ident(col))
    statements = []
    for table in _tenant_tables():
        if table.name not in routed:
            continue
        name, pk = _ident(table.name), _ident(_pk(table).name)
        sets = [f"{c} = COALESCE((SELECT m.new_id FROM split_remaps m WHERE m.tbl = '{name}' "
                f"AND m.id = {name}.{pk} AND m.col = '{c}'), {name}.{c})" for c in sorted(remapped.get(name, []))]
        statements.append((name, pk, sets, _origin(table)))
    if _on_postgres() and statements:
        ctes = [f"u_{name} AS (UPDATE {name} SET {', '.join(['tenant_id = r.succ', *sets])}{origin} "
                f"FROM split_routes r WHERE r.tbl = '{name}' AND {name}.{pk} = r.id RETURNING 1)"
                for name, pk, sets, origin in statements]
        db.session.execute(text("WITH " + ", ".join(ctes) + " SELECT 1"))
    else:
        for name, pk, sets, origin in statements:
            route = f"SELECT r.succ FROM split_routes r WHERE r.tbl = '{name}' AND r.id = {name}.{pk}"
            db.session.execute(text(
                f"UPDATE {name} SET {', '.join([f'tenant_id = ({route})', *sets])}{origin} "
                f"WHERE {pk} IN (SELECT id FROM split_routes WHERE tbl = '{name}')"))
    if MEMBERSHIPS in routed:
        route = f"SELECT r.succ FROM split_routes r WHERE r.tbl = '{MEMBERSHIPS}' AND r.id = m.id"
        db.session.execute(text(
            f"UPDATE {MEMBERSHIPS} AS m SET tenant_id = ({route}) WHERE m.id IN (SELECT id FROM split_routes WHERE "
            f"tbl = '{MEMBERSHIPS}') AND NOT EXISTS (SELECT 1 FROM {MEMBERSHIPS} o WHERE "
            f"o.tenant_id = ({route}) AND o.user_id = m.user_id AND o.role = m.role)"))
    return copied


def apply_plan(plan: Plan, dry_run: bool = False) -> Report:
    """Apply ``plan`` in the caller's unit of work (flushes only; ``transactions.run`` commits), or, with
    ``dry_run``, say what it would move and what needs a decision, changing nothing. Raises PlanError when the plan
    cannot be applied (nothing is changed: the caller rolls back)."""
    report = Report(plan.key, dry_run)
    with all_tenants():
        if not dry_run:
            _lock_what_moves()
        done = db.session.scalar(select(Reorganisation).where(Reorganisation.key == plan.key))
        if done is not None:
            if done.digest != plan.digest:
                raise PlanError(f"A reorganisation named {plan.key} was applied from another plan: give this one "
                                "its own key.")
            report.already_applied = True
            return report
        tenants = {t.slug: t for t in db.session.scalars(select(Tenant))}
        if plan.applies_after and db.session.scalar(
                select(Reorganisation.id).where(Reorganisation.key == plan.applies_after)) is None:
            report.decisions.append(f"applies after {plan.applies_after}, which has not been applied")
        new = {u.slug: u for u in plan.new_units}
        predecessors = {line.predecessor for line in plan.lines}
        for unit in plan.new_units:
            if unit.slug in tenants:
                report.decisions.append(f"new unit {unit.slug}: a commune with this slug exists already")
        for line in plan.lines:
            pred = tenants.get(line.predecessor)
            if pred is None:
                report.decisions.append(f"{line.predecessor}: no such commune")
            elif pred.status != "active":
                report.decisions.append(f"{line.predecessor}: is {pred.status}, not in force")
            if line.successor not in new and line.successor not in tenants:
                report.decisions.append(f"{line.successor}: neither a commune nor a new unit of the plan")
            elif line.successor in tenants and tenants[line.successor].status != "active":
                report.decisions.append(f"{line.successor}: is {tenants[line.successor].status}, not in force")
            if line.successor in predecessors and not line.stays:
                report.decisions.append(f"{line.successor}: both a successor and a predecessor in one plan")
        if report.decisions:
            if dry_run:
                return report
            raise PlanError("; ".join(report.decisions))
        # New units have no id yet: a negative stand-in for the clash check and the dry run.
        ids = {slug: t.id for slug, t in tenants.items()}
        ids.update({u.slug: -i for i, u in enumerate(plan.new_units, start=1) if u.slug not in ids})
        names = {i: slug for slug, i in ids.items()}
        split = plan.split()
        if split:
            _temp_tables()
        said: dict[str, list[str]] = {pred: [] for pred in split}
        shared: list[str] = []  # the tables with routed rows, in routing order
        routes = {pred: _route_split(pred, lines, ids, names, report, said[pred], shared)
                  for pred, lines in split.items()}
        _follow_all(routes, names, said)  # everything else follows what it refers to
        for pred in split:
            report.decisions += said[pred]
        for pred, route in routes.items():
            report.decisions += _routed_clashes(route, names, pred)
        # Whole lines, and each split's default line when the rest leaves the predecessor: moved by ``_move``.
        bulk = [line for line in plan.lines if line.whole or (line.default and not line.stays)]
        pairs = [(ids[line.predecessor], ids[line.successor]) for line in bulk]
        for table in _tenant_tables():
            if _rule(table) == "moves" and pairs:
                report.decisions += _clashes(table, pairs, names)
        counts = _what_moves(pairs) if pairs else {}
        if dry_run:
            report.created = [u.slug for u in plan.new_units]
            _report_moves(report, plan, ids, counts, routes, tenants_rows=None)
            return report
        if report.decisions:
            raise PlanError("; ".join(report.decisions))
        _defer_foreign_keys()
        event = Reorganisation(key=plan.key, effective_date=plan.effective_date, legal_basis=plan.legal_basis,
                               digest=plan.digest)
        db.session.add(event)
        models = {line.successor: tenants[line.predecessor] for line in plan.lines}
        for unit in plan.new_units:
            model = models[unit.slug]
            tenants[unit.slug] = Tenant(
                slug=unit.slug, name=unit.name, kind=unit.kind, code=unit.code, status="active",
                district_name=model.district_name, district_code=model.district_code,
                province_name=model.province_name, valid_from=plan.effective_date)
            db.session.add(tenants[unit.slug])
            report.created.append(unit.slug)
        db.session.flush()
        real = {ids[slug]: tenants[slug].id for slug in ids}
        routes = {pred: route.renamed(real) for pred, route in routes.items()}
        if routes:
            _move_routed(next(iter(routes.values())).tables)
        ids = {slug: t.id for slug, t in tenants.items()}
        pairs = [(ids[line.predecessor], ids[line.successor]) for line in bulk]
        if routes and pairs:  # after the routed rows left: what the bulk move takes (recounted only for splits;
            counts = _what_moves(pairs)  # the counts are per predecessor, whose ids were never stand-ins)
        if pairs:
            _move(pairs, counts)
        _report_moves(report, plan, ids, counts, routes, tenants_rows=tenants)
        for line in plan.lines:
            if line.stays:
                continue
            pred_id, succ_id = ids[line.predecessor], ids[line.successor]
            moved = report.moved[(line.predecessor, line.successor)]
            db.session.add(ReorganisationLine(reorganisation=event, predecessor_id=pred_id, successor_id=succ_id,
                                              whole=line.whole, is_default=line.whole or line.default, moved=moved))
            # The moves are set-based statements the audit hooks do not see row by row: one summary entry in each
            # commune's trail, as the other bulk commands do.
            for trail in (pred_id, succ_id):
                audit.record("reorganise", table="tenants", tenant_id=trail, details={
                    "reorganisation": plan.key, "predecessor": line.predecessor, "successor": line.successor,
                    "moved": moved})
            if line.whole or line.default:  # a split closes unless its default is itself (it stays, smaller)
                pred = tenants[line.predecessor]
                pred.status = "merged"
                pred.successor_id = succ_id
                pred.valid_until = plan.effective_date - timedelta(days=1)
        db.session.flush()
    return report


def _report_moves(report: Report, plan: Plan, ids: dict[str, int], counts: dict[int, dict[str, int]],
                  routes: dict[str, Routes], tenants_rows) -> None:
    """What each line moved (or would move): the bulk counts for whole and default lines, the routed rows for the
    other part lines. Dry, the default line's count still includes the routed rows: they are taken off here."""
    for line in plan.lines:
        pred, succ = ids[line.predecessor], ids[line.successor]
        route = routes.get(line.predecessor)
        routed = _routed_counts(route) if route is not None else {}
        if line.whole or (line.default and not line.stays):
            moved = dict(counts.get(pred, {}))
            if route is not None and tenants_rows is None:
                for table_counts in routed.values():
                    for table, n in table_counts.items():
                        if table in moved:
                            moved[table] -= n
        elif line.stays:
            moved = {}
        else:
            moved = routed.get(succ, {})
        report.moved[(line.predecessor, line.successor)] = {k: v for k, v in moved.items() if v}


# --- reading the lineage ------------------------------------------------------------------------------------------

def in_force_where(on: date) -> tuple:
    """The conditions of the units in force on a day (``in_force``; /api/communes pages through them)."""
    return (
        Tenant.status != "inactive",
        (Tenant.valid_from.is_(None)) | (Tenant.valid_from <= on),
        (Tenant.valid_until.is_(None)) | (Tenant.valid_until >= on),
    )


def in_force(on: date) -> list[Tenant]:
    """The units in force on a day: created by then (or always there) and not yet ended."""
    return list(db.session.scalars(select(Tenant).where(*in_force_where(on)).order_by(Tenant.code, Tenant.id)))


def neighbours(tenant_ids: list[int]) -> tuple[dict[int, list[Tenant]], dict[int, list[Tenant]]]:
    """For each tenant id: its predecessors and its successors (Tenant rows), in one query."""
    pred, succ = aliased(Tenant), aliased(Tenant)
    rows = db.session.execute(
        select(ReorganisationLine.predecessor_id, ReorganisationLine.successor_id, pred, succ)
        .join(pred, pred.id == ReorganisationLine.predecessor_id)
        .join(succ, succ.id == ReorganisationLine.successor_id)
        .where(ReorganisationLine.predecessor_id.in_(tenant_ids) | ReorganisationLine.successor_id.in_(tenant_ids))
        .order_by(ReorganisationLine.id)).all()
    predecessors: dict[int, list[Tenant]] = {i: [] for i in tenant_ids}
    successors: dict[int, list[Tenant]] = {i: [] for i in tenant_ids}
    for pred_id, succ_id, p, s in rows:
        if succ_id in predecessors:
            predecessors[succ_id].append(p)
        if pred_id in successors:
            successors[pred_id].append(s)
    return predecessors, successors


def lines_of(tenant: Tenant) -> list[ReorganisationLine]:
    """Every line where ``tenant`` is predecessor or successor, oldest first (the lineage page)."""
    return list(db.session.scalars(
        select(ReorganisationLine).join(Reorganisation)
        .where((ReorganisationLine.predecessor_id == tenant.id) | (ReorganisationLine.successor_id == tenant.id))
        .order_by(Reorganisation.effective_date, ReorganisationLine.id)))


def record_successor(tenant: Tenant, named: list[tuple[str, str, object]]) -> Tenant | None:
    """For a unit split between successors: the unit in force that holds the record an old address names
    (``named``: table, column, value), or None (the address names no record, or the record is not found)."""
    if not named:
        return None
    split = list(db.session.scalars(select(ReorganisationLine.successor_id).where(
        ReorganisationLine.predecessor_id == tenant.id, ReorganisationLine.whole.is_(False))))
    if not split:
        return None
    tables = db.metadata.tables
    with all_tenants():
        for table_name, column, value in named:
            table = tables.get(table_name)
            if table is None:
                continue
            holder = db.session.scalar(select(table.c.tenant_id).where(
                table.c[column] == value, table.c.tenant_id.in_(split)).limit(1))
            if holder is not None:
                return current_successor(db.session.get(Tenant, holder))
    return None


def later_units(tenant_id: int) -> set[int]:
    """Every unit that received records from ``tenant_id``, directly or through later reorganisations (one query per
    generation: a unit is reorganised a few times at most)."""
    found: set[int] = set()
    todo = {tenant_id}
    while todo:
        todo = set(db.session.scalars(select(ReorganisationLine.successor_id).where(
            ReorganisationLine.predecessor_id.in_(todo)))) - found - {tenant_id}
        found |= todo
    return found


def moved_holder(commune_slug: str, table_name: str, **match) -> Tenant | None:
    """For a public address outside ``/c/`` that names a commune by its slug and a record by ``match`` (the
    marketplace's ``/p/<commune>/<product>``, ``/shop/<commune>/<vendor>``): the unit in force that now holds the
    record, when the commune gave it away in a reorganisation (merged, or split: found by the record, not by the
    slug), else None. Records keep their slugs when they move (a clash is a decision of the plan), and a record
    that came from that commune (``origin_tenant_id``) is preferred over a namesake of the successor's own."""
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == commune_slug))
    if tenant is None:
        return None
    later = later_units(tenant.id)
    if not later:
        return None
    table = db.metadata.tables[table_name]
    query = select(table.c.tenant_id).where(table.c.tenant_id.in_(later),
                                            *(table.c[column] == value for column, value in match.items()))
    if "origin_tenant_id" in table.c:
        query = query.order_by((table.c.origin_tenant_id == tenant.id).desc())
    with all_tenants():
        holder_id = db.session.scalar(query.limit(1))
    holder = db.session.get(Tenant, holder_id) if holder_id is not None else None
    return holder if holder is not None and holder.status == "active" else None


def current_successor(tenant: Tenant) -> Tenant:
    """Follow the successor links to the unit in force (a unit merged twice points on)."""
    seen = set()
    while tenant.status == "merged" and tenant.successor is not None and tenant.id not in seen:
        seen.add(tenant.id)
        tenant = tenant.successor
    return tenant


# --- figures across a reorganisation ------------------------------------------------------------------------------

@dataclass
class History:
    """The lineage as the district's figures read it (``history()``: one query): which unit a record counts under for
    a period, from the commune it came from (``origin_tenant_id``, else its tenant) and the one that holds it now.
    docs/decisions.md, "Figures that stay true"."""

    until: dict[int, date | None] = field(default_factory=dict)  # unit -> its last day in force (None: still)
    successors: dict[int, list[int]] = field(default_factory=dict)  # the default successor first
    predecessors: dict[int, list[int]] = field(default_factory=dict)
    _ancestors: dict[int, frozenset[int]] = field(default_factory=dict)

    def in_force(self, unit: int, day: date) -> bool:
        until = self.until.get(unit)
        return until is None or until >= day

    def ancestors(self, unit: int) -> frozenset[int]:
        """``unit`` and every unit whose records could have come to it."""
        if unit not in self._ancestors:
            seen, todo = {unit}, [unit]
            while todo:
                for pred in self.predecessors.get(todo.pop(), ()):
                    if pred not in seen:
                        seen.add(pred)
                        todo.append(pred)
            self._ancestors[unit] = frozenset(seen)
        return self._ancestors[unit]

    def unit_at(self, origin: int, holder: int, day: date) -> int:
        """The unit in force on ``day`` that a record from ``origin``, held by ``holder`` today, counts under: the
        origin while it was in force, else its successor on the way to the holder (for a split unit, the successor
        the record went to; the default one when the holder is not downstream)."""
        unit, seen = origin, set()
        while unit not in seen and not self.in_force(unit, day):
            seen.add(unit)
            after = self.successors.get(unit)
            if not after:
                break
            unit = after[0] if len(after) == 1 else next(
                (s for s in after if s in self.ancestors(holder)), after[0])
        return unit

    def merged_during(self, start: date, end: date) -> dict[int, list[tuple[int, date]]]:
        """For a period: the units in force at its end that hold the history of units that ended during it, each
        with (that unit, the day it ended + 1: the reorganisation's effective date). (The module's ``merged_into``
        answers another question: every ended predecessor of one unit, whenever it ended.)"""
        out: dict[int, list[tuple[int, date]]] = {}
        for unit, until in self.until.items():
            if until is None or not (start <= until < end):
                continue
            todo, seen = list(self.successors.get(unit, ())), set()
            while todo:
                succ = todo.pop(0)
                if succ in seen:
                    continue
                seen.add(succ)
                if self.in_force(succ, end):
                    out.setdefault(succ, []).append((unit, until + timedelta(days=1)))
                else:
                    todo += self.successors.get(succ, [])
        return out


def history() -> History:
    """The lineage for the figures, in one query (every line with both units' last day in force)."""
    pred, succ = aliased(Tenant), aliased(Tenant)
    rows = db.session.execute(
        select(ReorganisationLine.predecessor_id, ReorganisationLine.successor_id, pred.valid_until,
               succ.valid_until)
        .join(pred, pred.id == ReorganisationLine.predecessor_id)
        .join(succ, succ.id == ReorganisationLine.successor_id)
        .order_by(ReorganisationLine.is_default.desc(), ReorganisationLine.id)).all()
    found = History()
    for pred_id, succ_id, pred_until, succ_until in rows:
        found.until[pred_id], found.until[succ_id] = pred_until, succ_until
        found.successors.setdefault(pred_id, []).append(succ_id)
        found.predecessors.setdefault(succ_id, []).append(pred_id)
    return found


@dataclass
class OwnFigures:
    """What a commune's own public figures count for a period (``own_figures``): a merged (closed) unit its own
    records, read where they went (by origin) up to its last day; a unit in force the records it holds, but not yet
    those of a predecessor still in force at the period's end; and whose history they include."""

    tenant: Tenant
    end: date  # the period's end, for a merged unit no later than its last day
    closed: bool
    not_yet: list[int]
    includes: list[tuple[Tenant, date]]

    def where(self, model) -> list:
        """The criteria on ``model`` (a ``RemembersOrigin``) that keep this unit's own records."""
        if self.closed:
            return [model.origin_tenant_id == self.tenant.id]
        if self.not_yet:
            return [model.origin_tenant_id.is_(None) | model.origin_tenant_id.not_in(self.not_yet)]
        return []

    def reading(self):
        """A merged unit's records are in its successors' books: an explicit read across communes."""
        from contextlib import nullcontext

        return all_tenants() if self.closed else nullcontext()

    @property
    def note(self) -> dict:
        return {"includes_history_of": [t.slug for t, _day in self.includes],
                "merged_on": sorted({day.isoformat() for _t, day in self.includes})}


def own_figures(tenant: Tenant, start: date, end: date) -> OwnFigures:
    """The rule of docs/decisions.md "Figures that stay true" for one commune's own figures (one query)."""
    found = history()
    closed = tenant.status == "merged"
    if closed and tenant.valid_until is not None:
        end = max(start, min(end, tenant.valid_until))
    not_yet = [p for p in found.ancestors(tenant.id) if p != tenant.id and found.in_force(p, end)]
    merged = [] if closed else found.merged_during(start, end).get(tenant.id, [])
    names = {t.id: t for t in db.session.scalars(select(Tenant).where(Tenant.id.in_([p for p, _d in merged])))} \
        if merged else {}
    return OwnFigures(tenant, end, closed, not_yet, [(names[p], day) for p, day in merged])


def merged_into(tenant_id: int) -> list[Tenant]:
    """The units merged into ``tenant_id`` (its predecessors that have ended), in the order of ``neighbours``: the
    desk asks on every request, so one plain join without the aliases neighbours builds (issue #17)."""
    return list(db.session.scalars(
        select(Tenant).join(ReorganisationLine, ReorganisationLine.predecessor_id == Tenant.id)
        .where(ReorganisationLine.successor_id == tenant_id, Tenant.valid_until.is_not(None))
        .order_by(ReorganisationLine.id)))
