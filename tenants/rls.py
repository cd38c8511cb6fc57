"""PostgreSQL row-level security: the second wall behind the ORM scoping (tenants/scoping.py).

Migrations call ``enable_rls`` for every tenant-owned table. The policy admits a row when its tenant is the one
written into the transaction by the application (``app.tenant_id``), or when the transaction was explicitly marked
as reading across tenants (``app.all_tenants = 'on'``, set only by ``tenants.scoping.all_tenants``). A connection
that set nothing sees nothing. FORCE makes the policy apply to the table owner as well.
"""

from __future__ import annotations

import re

from sqlalchemy import text

_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

_ALL = "current_setting('app.all_tenants', true) = 'on'"
_ONE = "NULLIF(current_setting('app.tenant_id', true), '')::integer"
# The same rule written as a range on tenant_id whose bounds the planner can fold when it estimates (it evaluates
# stable functions then): across tenants the range is every integer, so PostgreSQL estimates nearly all rows pass
# and plans as without RLS; with one tenant it is that tenant's id, estimated from tenant_id's statistics. Written as
# "tenant_id = <setting> OR <all-tenants flag>", the flag comparison has no statistics and gets the default 0.5 %
# selectivity, which made cross-commune reads of large tables pick nested loops over every vendor (1.6 s instead
# of 2 ms for the marketplace home on the scale data set, bench/README.md). A NULL tenant_id (bank_transfers not yet
# matched) is visible only across tenants, as before.
POLICY_CONDITION = (
    f"tenant_id BETWEEN (CASE WHEN {_ALL} THEN -2147483648 ELSE {_ONE} END) "
    f"AND (CASE WHEN {_ALL} THEN 2147483647 ELSE {_ONE} END) "
    f"OR (tenant_id IS NULL AND {_ALL})"
)


def _ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return name


def enable_rls_statements(table: str) -> list[str]:
    table = _ident(table)
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_isolation ON {table} USING ({POLICY_CONDITION}) WITH CHECK ({POLICY_CONDITION})",
    ]


def enable_rls(op, table: str) -> None:
    """For Alembic migrations: a no-op on SQLite, RLS with the tenant policy on PostgreSQL."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in enable_rls_statements(table):
        op.execute(statement)


def disable_rls(op, table: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    table = _ident(table)
    op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


def grant_app_role(conn, role: str, password: str | None = None) -> None:
    """Create the application role if missing (NOSUPERUSER NOBYPASSRLS) and grant it data access, nothing more.

    Runs as the owner of the tables, which need not be a superuser: a role with CREATEROLE creates the application
    role. PostgreSQL lets only a superuser write NOSUPERUSER or NOBYPASSRLS in ALTER ROLE, even when nothing changes,
    so an existing role is altered only when it has one of those powers (and a role that is a member of one that
    has them, which could SET ROLE to it, is refused): the owner then gets a clear message of what a superuser must
    run, instead of PostgreSQL's "must be superuser to alter superuser roles".
    """
    role = _ident(role)
    found = conn.execute(text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    if found is None:
        conn.execute(text(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"))
    elif found.rolsuper or found.rolbypassrls:
        if not conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar():
            raise ValueError(f"Role {role} is a superuser or bypasses row-level security, and only a superuser may "
                             f"change that: ask one to run ALTER ROLE {role} NOSUPERUSER NOBYPASSRLS, then run this "
                             "command again.")
        conn.execute(text(f"ALTER ROLE {role} NOSUPERUSER NOBYPASSRLS"))
    powerful = conn.execute(text(
        "SELECT string_agg(r.rolname, ', ' ORDER BY r.rolname) FROM pg_roles r "
        "WHERE (r.rolsuper OR r.rolbypassrls) AND r.rolname <> :r AND pg_has_role(:r, r.oid, 'MEMBER')"
    ), {"r": role}).scalar()
    if powerful:
        raise ValueError(f"Role {role} is a member of {powerful}, which may bypass row-level security: the "
                         "application role must not be (REVOKE that membership first).")
    if password is not None:
        literal = "'" + password.replace("'", "''") + "'"  # DDL takes no bind parameters
        conn.execute(text(f"ALTER ROLE {role} PASSWORD {literal}"))
    conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
    conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"))
    conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"))
    # The audit trail is append-only for the application (app/audit, migration 0020_audit): add and read, never
    # change or remove an entry.
    if conn.execute(text("SELECT to_regclass('audit_entries')")).scalar() is not None:
        conn.execute(text(f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_entries FROM {role}"))
    conn.execute(text(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}"))
    conn.execute(text(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}"))
