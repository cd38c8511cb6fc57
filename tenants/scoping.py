"""Tenant isolation for the ORM, in one place: every query of a ``TenantScoped`` model is filtered to the active
tenant (none active: ``TenantRequired``), new rows are stamped, reading across tenants is ``with all_tenants():``,
and PostgreSQL's row-level security gets the tenant per transaction. README ("Tenancy"), docs/decisions.md."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import ForeignKey, Integer, event, inspect
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column, with_loader_criteria
from sqlalchemy.sql.util import find_tables

_active_tenant: ContextVar[int | None] = ContextVar("active_tenant", default=None)
_all_tenants: ContextVar[bool] = ContextVar("all_tenants", default=False)

RLS_TENANT_SETTING = "app.tenant_id"
RLS_ALL_TENANTS_SETTING = "app.all_tenants"


class TenantRequired(RuntimeError):
    """A tenant-owned table was queried or written with no active tenant."""


class TenantMismatch(RuntimeError):
    """A row of one tenant was written while another tenant is active."""


_SCOPED_TABLES: set[str] = set()  # filled as tenant-owned models are declared; read on every query


class TenantScoped:
    """Mixin for tenant-owned models: a non-null tenant_id, leading the indexes."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("__tablename__"):
            _SCOPED_TABLES.add(cls.__tablename__)
            _DECISIONS.clear()  # a statement's answer may change with a table declared later

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"), nullable=False, index=True)


class RemembersOrigin:
    """Mixin for the records the district's figures count: ``origin_tenant_id`` is the commune that held the record
    before a reorganisation moved it to a successor (set by tenants/lineage.py; null: never moved, its tenant is its
    origin). The figures of a past period attribute records by it (docs/decisions.md, "Figures that stay true")."""

    @declared_attr
    def origin_tenant_id(cls) -> Mapped[int | None]:
        return mapped_column(Integer, nullable=True)


def current_tenant_id() -> int | None:
    return _active_tenant.get()


def reading_all_tenants() -> bool:
    return _all_tenants.get()


def _tenant_id_of(tenant) -> int:
    tenant_id = getattr(tenant, "id", tenant)
    if not isinstance(tenant_id, int):
        raise TypeError("tenant_context needs a Tenant or its integer id")
    return tenant_id


def activate_tenant(tenant) -> object:
    """Make a tenant active until ``deactivate_tenant(token)``; used by request resolution."""
    return _active_tenant.set(_tenant_id_of(tenant) if tenant is not None else None)


def deactivate_tenant(token) -> None:
    _active_tenant.reset(token)


@contextmanager
def tenant_context(tenant) -> Iterator[None]:
    """Run a block as one tenant (CLI commands, services called outside a request, tests)."""
    token = _active_tenant.set(_tenant_id_of(tenant))
    cross = _all_tenants.set(False)
    try:
        yield
    finally:
        _all_tenants.reset(cross)
        _active_tenant.reset(token)


@contextmanager
def all_tenants() -> Iterator[None]:
    """Explicitly read (and, for district-level jobs, write) across every tenant."""
    token = _all_tenants.set(True)
    try:
        yield
    finally:
        _all_tenants.reset(token)


def _is_scoped(mapper) -> bool:
    return mapper is not None and issubclass(mapper.class_, TenantScoped)


def _computes_touches_scoped(state) -> bool:
    """Whether a statement reads or writes a tenant-owned table anywhere: in its result columns, but also in a
    FROM, a join, a subquery, an EXISTS or a WHERE (``select(func.count()).select_from(Notice)``)."""
    if any(_is_scoped(m) for m in state.all_mappers):
        return True
    tables = find_tables(state.statement, check_columns=True, include_crud=True)
    return any(getattr(t, "name", None) in _SCOPED_TABLES for t in tables)


# The answer above depends only on the statement's structure (its tables, joins, subqueries, columns), never on its
# parameters' values: it is memoised by the statement's cache key, the key SQLAlchemy's own compiled cache uses (the
# structure without the values; computed once per statement object and reused when it is compiled). A statement that
# has no cache key (SQLAlchemy cannot cache it either) is walked every time. Bounded: emptied when full.
_DECISIONS: dict[tuple, bool] = {}
DECISIONS_MAX = 5000
CHECK_DECISIONS = False  # the test suite sets it: every memoised answer is compared with a fresh walk


class DecisionMismatch(AssertionError):
    """The memoised scoping decision differs from the computed one (only raised with CHECK_DECISIONS)."""


def _touches_scoped(state) -> bool:
    cache_key = state.statement._generate_cache_key()
    if cache_key is None:
        return _computes_touches_scoped(state)
    key = cache_key.key
    decision = _DECISIONS.get(key)
    if decision is None:
        decision = _computes_touches_scoped(state)
        if len(_DECISIONS) >= DECISIONS_MAX:
            _DECISIONS.clear()
        _DECISIONS[key] = decision
    elif CHECK_DECISIONS and decision != _computes_touches_scoped(state):
        raise DecisionMismatch(f"memoised scoping decision {decision} is wrong for {state.statement}")
    return decision


def _sets_tenant_id(statement) -> bool:
    values = getattr(statement, "_values", None) or {}
    return any(getattr(key, "key", key) == "tenant_id" for key in values)


_UNSET = ("", "")  # no tenant, not across tenants: what a transaction starts with


def _sync_rls(session: Session, connection=None, beginning: bool = False) -> None:
    """Write the active tenant into the current PostgreSQL transaction when it changed.

    A transaction begins with neither setting (``set_config(..., true)`` ends with the transaction, and the
    application never sets them for a whole connection): one that begins with no tenant active writes nothing, so
    a commune page sends ``set_config`` once, when its tenant becomes known (issue #17)."""
    connection = connection if connection is not None else session.connection()
    if connection.dialect.name != "postgresql":
        return
    wanted = (str(current_tenant_id() or ""), "on" if reading_all_tenants() else "")
    if beginning and wanted == _UNSET:
        connection.info["rls_settings"] = wanted
        return
    if connection.info.get("rls_settings") == wanted:
        return
    connection.exec_driver_sql(
        "SELECT set_config(%(t_name)s, %(t)s, true), set_config(%(a_name)s, %(a)s, true)",
        {"t_name": RLS_TENANT_SETTING, "t": wanted[0], "a_name": RLS_ALL_TENANTS_SETTING, "a": wanted[1]},
    )
    connection.info["rls_settings"] = wanted


class TenantSession(FlaskSession):
    """The application's session class: ``get()`` may answer from the identity map without a query (so without
    the hook above); for tenant-owned rows it applies the same rule: another tenant's row does not exist here."""

    def get(self, entity, ident, **kwargs):
        obj = super().get(entity, ident, **kwargs)
        if obj is None or not isinstance(obj, TenantScoped) or reading_all_tenants():
            return obj
        tenant_id = current_tenant_id()
        if tenant_id is None:
            raise TenantRequired("A tenant-owned row was looked up with no active tenant.")
        return obj if obj.tenant_id == tenant_id else None


@event.listens_for(Session, "after_begin")
def _on_begin(session, transaction, connection) -> None:
    connection.info.pop("rls_settings", None)  # SET LOCAL ended with the previous transaction
    session.info["rls_postgresql"] = connection.dialect.name == "postgresql"
    _sync_rls(session, connection, beginning=True)


@event.listens_for(Session, "do_orm_execute")
def _scope_queries(state) -> None:
    if state.session.info.get("rls_postgresql", True):  # known once a transaction began: SQLite skips the work
        _sync_rls(state.session)
    if state.is_column_load or not (state.is_select or state.is_update or state.is_delete or state.is_insert):
        return
    if reading_all_tenants() or state.execution_options.get("all_tenants"):
        return
    if not _touches_scoped(state):
        return
    if state.is_insert:
        # Bulk INSERT statements bypass the stamping and checks of before_flush: tenant-owned rows go through
        # session.add(), or an explicit all_tenants() block that sets tenant_id itself.
        raise TenantMismatch("Add tenant-owned rows with session.add() (bulk INSERT is not scoped).")
    tenant_id = current_tenant_id()
    if tenant_id is None:
        raise TenantRequired("A tenant-owned table was queried with no active tenant.")
    if not state.is_orm_statement:
        # A Core statement (Table objects, no ORM entity) would not get the loader criteria: refuse, fail closed.
        raise TenantRequired("Query tenant-owned tables through their ORM models (or explicitly in all_tenants()).")
    if state.is_update and _sets_tenant_id(state.statement):
        raise TenantMismatch("A bulk UPDATE cannot move tenant-owned rows to another tenant.")
    state.statement = state.statement.options(
        with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id == tenant_id, include_aliases=True)
    )


@event.listens_for(Session, "before_flush")
def _stamp_new_rows(session, flush_context, instances) -> None:
    tenant_id = current_tenant_id()
    crossing = reading_all_tenants()
    for obj in session.new:
        if not isinstance(obj, TenantScoped):
            continue
        if crossing and obj.tenant_id is not None:
            continue  # across tenants (all_tenants()), a row says whose it is
        if tenant_id is None:  # fail closed, as reads do: no tenant, no write
            raise TenantRequired(f"Cannot add a {type(obj).__name__} with no active tenant.")
        if obj.tenant_id is None:
            obj.tenant_id = tenant_id
        elif obj.tenant_id != tenant_id:
            raise TenantMismatch(f"Cannot add a {type(obj).__name__} of another tenant.")
    for obj in list(session.dirty) + list(session.deleted):
        if not isinstance(obj, TenantScoped):
            continue
        hist = inspect(obj).attrs.tenant_id.history
        if hist.deleted and hist.added:
            raise TenantMismatch(f"The tenant of a {type(obj).__name__} cannot change.")
        if crossing:
            continue
        if tenant_id is None:
            raise TenantRequired(f"Cannot change a {type(obj).__name__} with no active tenant.")
        if obj.tenant_id != tenant_id:
            raise TenantMismatch(f"Cannot change a {type(obj).__name__} of another tenant.")
    _sync_rls(session)
