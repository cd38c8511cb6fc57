"""Recording: one place sees every change of an audited row, and writes the entries in the same transaction.

- ``after_flush`` notes each insert, update and delete of a tracked table (registry.py), with the changed columns'
  values before and after; ``do_orm_execute`` does the same for ORM bulk ``update(Model)``/``delete(Model)``
  statements (reading the rows they touch before and after). Core statements on tables (bulk seeding, COPY, the
  retention command) are not seen: the commands that run them record what they did with ``record``.
- ``record(action, ...)`` notes an action that changes no row: a sign-in, a download of a citizen's document, a CSV
  of personal data.
- ``before_commit`` merges what the transaction noted (one entry per row changed, however many flushes touched it;
  a row inserted and deleted again leaves none), and appends the entries to each commune's chain (chain.py), taking
  the chain's lock last of all. What a savepoint rolled back is forgotten with it; a rolled-back transaction writes
  nothing: the trail holds what happened, and only that.
"""

from __future__ import annotations

import enum
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import and_, event, inspect, or_, select
from sqlalchemy.orm import Session

from app.audit import registry
from app.audit.context import Actor, current_actor
from app.clock import utcnow
from tenants.scoping import all_tenants, current_tenant_id

_PENDING = "audit_pending"
ACTIVE = object()  # record(): the commune of the current request or tenant_context


@dataclass
class Observation:
    tx: object  # the innermost transaction (savepoint or root) it was noted in
    action: str
    table: str | None = None
    key: tuple | None = None  # (table, primary key values) of a row change; None for a named action
    record_id: str | None = None
    chain: int | None = None
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)
    actor: Actor | None = None  # named actions keep the actor of the moment; row changes take the request's
    dropped: bool = False


def jsonable(value):
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, datetime):
        from app.audit.chain import instant

        return instant(value)
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).hex()
    if isinstance(value, (dict, list, tuple)):
        return json.loads(json.dumps(value, default=str))
    return str(value)


def _pending(session) -> list[Observation]:
    return session.info.setdefault(_PENDING, [])


def _current_tx(session):
    return session.get_nested_transaction() or session.get_transaction()


def _columns(mapper):
    """(attribute key, column name) of every column of the model."""
    return [(prop.key, prop.columns[0].name) for prop in mapper.column_attrs]


def _record_id(values) -> str:
    return "/".join(str(v) for v in values)[:100]


def _chain_of(declared, values: dict) -> int | None:
    """The commune whose trail gets the entry: the row's, else the active one (the pages it was changed in)."""
    chain = values.get(declared.commune) if declared.commune else None
    if chain is None:
        chain = current_tenant_id()
    return chain if isinstance(chain, int) else None


def _note(session, declared, mapper, action: str, before: dict, after: dict, values: dict) -> None:
    pk = tuple(values.get(column.name) for column in mapper.primary_key)
    _pending(session).append(Observation(
        tx=_current_tx(session), action=action, table=declared.table, key=(declared.table, pk),
        record_id=_record_id(pk), chain=_chain_of(declared, values), before=before, after=after))


def _state_values(state, mapper, original: dict | None = None) -> dict:
    loaded = state.dict
    values = {name: jsonable(loaded[key]) for key, name in _columns(mapper) if key in loaded}
    if original:
        values.update(original)
    return values


@event.listens_for(Session, "after_flush")
def _observe_flush(session, flush_context) -> None:
    """The flush's inserts, updates and deletes (the session still shows them as before the flush, with the new
    primary keys already assigned)."""
    for obj in session.new:
        declared = registry.tracked(getattr(type(obj), "__tablename__", ""))
        if declared is None or (declared.when is not None and not declared.when(obj)):
            continue
        state = inspect(obj)
        values = _state_values(state, state.mapper)
        after = {name: value for name, value in values.items() if name not in declared.ignore and value is not None}
        _note(session, declared, state.mapper, "insert", {}, after, values)
    for obj in session.dirty:
        declared = registry.tracked(getattr(type(obj), "__tablename__", ""))
        if declared is None or (declared.when is not None and not declared.when(obj)):
            continue
        state = inspect(obj)
        before, after = {}, {}
        for key, name in _columns(state.mapper):
            if name in declared.ignore:
                continue
            history = state.attrs[key].history
            if not history.has_changes():
                continue
            old = jsonable(history.deleted[0]) if history.deleted else None
            new = jsonable(history.added[0]) if history.added else None
            if old != new:
                before[name], after[name] = old, new
        if after:
            _note(session, declared, state.mapper, "update", before, after, _state_values(state, state.mapper))
    for obj in session.deleted:
        declared = registry.tracked(getattr(type(obj), "__tablename__", ""))
        if declared is None or (declared.when is not None and not declared.when(obj)):
            continue
        state = inspect(obj)
        original = {}
        for key, name in _columns(state.mapper):
            history = state.attrs[key].history
            if history.deleted:
                original[name] = jsonable(history.deleted[0])
        values = _state_values(state, state.mapper, original)
        before = {name: value for name, value in values.items() if name not in declared.ignore and value is not None}
        _note(session, declared, state.mapper, "delete", before, {}, values)


def _set_columns(statement) -> set[str]:
    pairs = list((getattr(statement, "_values", None) or {}).keys())
    pairs += [pair[0] for pair in (getattr(statement, "_ordered_values", None) or ())]
    names = set()
    for key in pairs:
        names.add(getattr(key, "name", None) or getattr(key, "key", None) or str(key))
    return names


@event.listens_for(Session, "do_orm_execute")
def _observe_bulk(state):
    """ORM bulk UPDATE/DELETE of a tracked table: the rows it touches, read before and after."""
    if not (state.is_update or state.is_delete) or not state.is_orm_statement:
        return None
    table = getattr(state.statement, "table", None)
    declared = registry.tracked(getattr(table, "name", ""))
    mapper = state.bind_mapper
    if declared is None or mapper is None:
        return None
    if state.is_update and not (_set_columns(state.statement) - declared.ignore):
        return None  # only bookkeeping columns change
    session, cls = state.session, mapper.class_
    columns = _columns(mapper)
    attrs = [getattr(cls, key) for key, _name in columns]
    query = select(*attrs)
    if state.statement.whereclause is not None:
        query = query.where(state.statement.whereclause)
    before_rows = [dict(zip([name for _key, name in columns], (jsonable(v) for v in row), strict=True))
                   for row in session.execute(query)]
    result = state.invoke_statement()
    if not before_rows:
        return result
    pk_names = [column.name for column in mapper.primary_key]
    after_rows = {}
    if state.is_update:
        pk_attrs = [getattr(cls, mapper.get_property_by_column(column).key) for column in mapper.primary_key]
        conditions = [and_(*(attr == row[name] for attr, name in zip(pk_attrs, pk_names, strict=True)))
                      for row in before_rows]
        for start in range(0, len(conditions), 500):
            for row in session.execute(select(*attrs).where(or_(*conditions[start:start + 500]))):
                values = dict(zip([name for _key, name in columns], (jsonable(v) for v in row), strict=True))
                after_rows[tuple(values[name] for name in pk_names)] = values
    key_of = {name: key for key, name in columns}
    for old in before_rows:
        pk = tuple(old[name] for name in pk_names)
        if state.is_delete:
            row = SimpleNamespace(**{key_of[name]: value for name, value in old.items()})
            if declared.when is not None and not declared.when(row):
                continue
            before = {name: value for name, value in old.items() if name not in declared.ignore and value is not None}
            _note(session, declared, mapper, "delete", before, {}, old)
            continue
        new = after_rows.get(pk)
        if new is None:
            continue
        row = SimpleNamespace(**{key_of[name]: value for name, value in new.items()})
        if declared.when is not None and not declared.when(row):
            continue
        changed = [name for name in new if name not in declared.ignore and new[name] != old.get(name)]
        if changed:
            _note(session, declared, mapper, "update", {n: old.get(n) for n in changed}, {n: new[n] for n in changed},
                  new)
    return result


def record(action: str, *, table: str | None = None, record_id=None, details: dict | None = None,
           tenant_id=ACTIVE, actor: Actor | None = None, session=None) -> None:
    """Note an action that changes no row (written with the transaction's commit, or never if it rolls back).

    ``tenant_id``: the commune whose trail gets it (default: the active commune, else the district's trail)."""
    from app.extensions import db

    session = session or db.session()
    if session.get_transaction() is None:
        session.begin()  # so that the entry belongs to a transaction: written by its commit, gone with its rollback
    chain = current_tenant_id() if tenant_id is ACTIVE else tenant_id
    _pending(session).append(Observation(
        tx=_current_tx(session), action=action[:40], table=table, key=None,
        record_id=None if record_id is None else str(record_id)[:100], chain=chain,
        after=jsonable(details or {}), actor=actor or current_actor()))


def _within(tx, ended) -> bool:
    while tx is not None:
        if tx is ended:
            return True
        tx = tx.parent
    return False


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back_savepoint(session, previous_transaction) -> None:
    pending = session.info.get(_PENDING)
    if pending and previous_transaction.nested:
        session.info[_PENDING] = [ob for ob in pending if not _within(ob.tx, previous_transaction)]


@event.listens_for(Session, "after_transaction_end")
def _forget_at_the_end(session, transaction) -> None:
    """The transaction is over: committed (its entries are written) or rolled back or closed (they never were)."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def _merge(observations: list[Observation]) -> list[Observation]:
    """One observation per row: the first ``before``, the last ``after``."""
    merged: list[Observation] = []
    rows: dict[tuple, Observation] = {}
    for ob in observations:
        if ob.key is None:
            merged.append(ob)
            continue
        seen = rows.get(ob.key)
        if seen is None or seen.dropped:
            seen = Observation(tx=None, action=ob.action, table=ob.table, key=ob.key, record_id=ob.record_id,
                               chain=ob.chain, before=dict(ob.before), after=dict(ob.after))
            rows[ob.key] = seen
            merged.append(seen)
            continue
        seen.chain = ob.chain if ob.chain is not None else seen.chain
        if seen.action == "insert":
            if ob.action == "delete":
                seen.dropped = True
            else:
                seen.after.update(ob.after)
        elif seen.action == "update":
            if ob.action == "delete":
                seen.action, seen.after = "delete", {}
                seen.before = {**ob.before, **{k: v for k, v in seen.before.items()}}
            else:
                for name, value in ob.after.items():
                    seen.before.setdefault(name, ob.before.get(name))
                    seen.after[name] = value
        elif seen.action == "delete" and ob.action == "insert":
            seen.action, seen.after = "update", dict(ob.after)
    result = []
    for ob in merged:
        if ob.dropped:
            continue
        if ob.action == "update":
            changed = [n for n in ob.after if ob.after[n] != ob.before.get(n)]
            if not changed:
                continue
            ob.before = {n: ob.before.get(n) for n in changed}
            ob.after = {n: ob.after[n] for n in changed}
        result.append(ob)
    return result


def _mask(value):
    return value if value in (None, "") else registry.MASK


def changes_of(ob: Observation) -> dict:
    """What the entry keeps: {column: [before, after]} for a row (hidden columns masked), the details for a named
    action."""
    if ob.key is None:
        return ob.after
    declared = registry.tracked(ob.table)
    names = sorted(set(ob.before) | set(ob.after))
    changes = {}
    for name in names:
        before, after = ob.before.get(name), ob.after.get(name)
        if declared is not None and declared.hidden(name):
            before, after = _mask(before), _mask(after)
        changes[name] = [before, after]
    return changes


@event.listens_for(Session, "before_commit")
def _write(session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released (SQLAlchemy calls this hook for those too): the transaction goes on
    if session.new or session.deleted or session.dirty:
        session.flush()  # so that the commit's last changes are noted too
    pending = session.info.get(_PENDING)
    if not pending:
        return
    session.info[_PENDING] = []
    observations = _merge(pending)
    if not observations:
        return
    from app.audit.chain import append

    at = utcnow()
    actor = None
    by_chain: dict[int | None, list[dict]] = defaultdict(list)
    for ob in observations:
        who = ob.actor
        if who is None:
            actor = actor or current_actor()
            who = actor
        by_chain[ob.chain].append(dict(
            at=at, actor_kind=who.kind, actor_id=who.user_id, actor_label=who.label, address=who.address,
            action=ob.action, table_name=ob.table, record_id=ob.record_id, changes=changes_of(ob)))
    with all_tenants():  # the entries of every commune the transaction touched, each in its own chain
        for chain in sorted(by_chain, key=lambda c: (c is not None, c or 0)):
            append(session, chain, by_chain[chain])
        session.flush()
