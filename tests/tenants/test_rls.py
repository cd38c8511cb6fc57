"""PostgreSQL row-level security, the second wall: raw SQL run as the application role, bypassing the ORM scoping,
still sees and writes only the tenant set in the transaction. Skipped on SQLite."""

from __future__ import annotations

import pytest
from sqlalchemy import exc, text

from app.extensions import db
from tenants.scoping import RLS_ALL_TENANTS_SETTING, RLS_TENANT_SETTING, TenantScoped
from tests.conftest import APP_ROLE


pytestmark = pytest.mark.usefixtures("postgres")


@pytest.fixture
def communes(make):
    a, b = make.tenant("xa-a"), make.tenant("xa-b")
    make.notice(a, "A1")
    make.notice(a, "A2")
    make.notice(b, "B1")
    return a, b


@pytest.fixture
def app_connection(app):
    """A raw connection of the application (role gialam_app), outside the ORM and its hooks."""
    with app.app_context():
        with db.engine.connect() as conn:
            yield conn


def set_tenant(conn, tenant_id) -> None:
    conn.execute(text("SELECT set_config(:name, :value, true)"), {"name": RLS_TENANT_SETTING, "value": str(tenant_id)})


def tenant_owned_tables() -> list[str]:
    """Every table of a TenantScoped model: new tenant-owned models are covered without touching this test."""
    return sorted(
        mapper.local_table.name
        for mapper in db.Model.registry.mappers
        if issubclass(mapper.class_, TenantScoped)
    )


def test_the_app_connects_as_the_application_role(app_connection):
    assert app_connection.scalar(text("SELECT current_user")) == APP_ROLE


def test_raw_select_with_no_tenant_set_returns_nothing(app_connection, communes):
    assert app_connection.execute(text("SELECT * FROM notices")).all() == []
    assert app_connection.scalar(text("SELECT count(*) FROM notices")) == 0


def test_raw_select_with_tenant_set_returns_only_that_tenants_rows(app_connection, communes):
    a, b = communes
    set_tenant(app_connection, a.id)
    rows = app_connection.execute(text("SELECT title, tenant_id FROM notices ORDER BY title")).all()
    assert [tuple(r) for r in rows] == [("A1", a.id), ("A2", a.id)]
    app_connection.rollback()  # set_config(..., true) is SET LOCAL: gone with the transaction
    assert app_connection.scalar(text("SELECT count(*) FROM notices")) == 0
    set_tenant(app_connection, b.id)
    assert app_connection.scalars(text("SELECT title FROM notices")).all() == ["B1"]


def test_raw_update_and_delete_cannot_reach_another_tenants_rows(app_connection, communes):
    a, b = communes
    set_tenant(app_connection, a.id)
    assert app_connection.execute(text("UPDATE notices SET title = 'x' WHERE tenant_id = :b"), {"b": b.id}).rowcount == 0
    assert app_connection.execute(text("DELETE FROM notices WHERE tenant_id = :b"), {"b": b.id}).rowcount == 0


def test_raw_insert_of_another_tenants_row_is_refused_by_the_policy(app_connection, communes):
    a, b = communes
    set_tenant(app_connection, a.id)
    with pytest.raises(exc.DBAPIError, match="row-level security"):
        app_connection.execute(
            text("INSERT INTO notices (title, body, published, tenant_id) VALUES ('smuggled', '', true, :b)"),
            {"b": b.id},
        )


def test_raw_update_moving_a_row_to_another_tenant_is_refused(app_connection, communes):
    a, b = communes
    set_tenant(app_connection, a.id)
    with pytest.raises(exc.DBAPIError, match="row-level security"):
        app_connection.execute(text("UPDATE notices SET tenant_id = :b"), {"b": b.id})


def test_raw_insert_with_no_tenant_set_is_refused(app_connection, communes):
    a, _ = communes
    with pytest.raises(exc.DBAPIError, match="row-level security"):
        app_connection.execute(
            text("INSERT INTO notices (title, body, published, tenant_id) VALUES ('orphan', '', true, :a)"),
            {"a": a.id},
        )


def test_the_orm_session_sets_the_tenant_in_the_transaction(app, communes):
    """The scoping hooks write app.tenant_id with SET LOCAL, so even raw SQL through the session is confined."""
    from tenants.scoping import tenant_context

    a, _ = communes
    with app.app_context(), tenant_context(a):
        assert db.session.execute(text("SELECT current_setting('app.tenant_id', true)")).scalar() == str(a.id)
        assert db.session.scalars(text("SELECT title FROM notices ORDER BY title")).all() == ["A1", "A2"]
        db.session.rollback()


def test_application_role_is_not_superuser_and_cannot_bypass_rls(app_connection):
    row = app_connection.execute(
        text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
    ).one()
    assert (row.rolsuper, row.rolbypassrls) == (False, False)


def test_application_role_owns_no_table(app_connection):
    """FORCE ROW LEVEL SECURITY aside, owners can change policies: the app must own nothing."""
    owned = app_connection.scalars(
        text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user")
    ).all()
    assert owned == []


def test_there_are_tenant_owned_tables_to_check(app):
    assert "notices" in tenant_owned_tables()


# Tables with a tenant_id column that are not TenantScoped, each with its reason. Nothing else may be.
NOT_TENANT_SCOPED = {
    # A notification is stored before its commune is known: RLS still applies (below), the ORM scoping cannot.
    "bank_transfers": "stored before its commune is known; under the same RLS policy",
    # A user's roles in every commune are read at sign-in, before any commune is active; users are district-wide.
    "memberships": "read at sign-in across communes; no RLS (a user's roles are not a commune's records)",
    # The audit trail: a NULL tenant_id is the district's own chain (app/audit); same policy, reads and appends only.
    "audit_entries": "the district's chain has no commune; RLS read and append policies, no update or delete",
    "audit_heads": "the district's chain has no commune; under the same RLS policy",
}
# Not TenantScoped but under the same policy.
OTHER_RLS_TABLES = ["bank_transfers", "audit_entries", "audit_heads"]


def test_every_tenant_owned_table_has_forced_row_level_security_and_a_policy(app, app_connection):
    missing = []
    for table in tenant_owned_tables() + OTHER_RLS_TABLES:
        row = app_connection.execute(
            text(
                "SELECT c.relrowsecurity, c.relforcerowsecurity, "
                "  (SELECT count(*) FROM pg_policies p WHERE p.schemaname = n.nspname AND p.tablename = c.relname) "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relname = :table"
            ),
            {"table": table},
        ).one_or_none()
        if row is None or not (row[0] and row[1] and row[2] > 0):
            missing.append((table, None if row is None else tuple(row)))
    assert missing == [], f"tables without forced RLS and a policy: {missing}"


def test_bank_transfers_a_commune_sees_its_own_and_only_the_district_sees_unattributed_ones(app_connection, communes):
    a, b = communes
    app_connection.execute(text("SELECT set_config(:name, 'on', true)"), {"name": RLS_ALL_TENANTS_SETTING})
    for txn, tenant_id in (("T-A", a.id), ("T-B", b.id), ("T-NONE", None)):
        app_connection.execute(text(
            "INSERT INTO bank_transfers (provider, provider_txn_id, amount, content, received_at, raw, tenant_id, "
            "status) VALUES ('sepay', :txn, 1000, '', now(), '{}', :tenant, 'unmatched')"), {"txn": txn, "tenant": tenant_id})
    assert app_connection.scalar(text("SELECT count(*) FROM bank_transfers")) == 3  # the district's view
    app_connection.commit()

    set_tenant(app_connection, a.id)
    assert app_connection.scalars(text("SELECT provider_txn_id FROM bank_transfers")).all() == ["T-A"]
    assert app_connection.execute(text("UPDATE bank_transfers SET note = 'x' WHERE provider_txn_id <> 'T-A'")).rowcount == 0
    with pytest.raises(exc.DBAPIError, match="row-level security"):
        app_connection.execute(text("UPDATE bank_transfers SET tenant_id = :b WHERE provider_txn_id = 'T-A'"), {"b": b.id})
    app_connection.rollback()
    assert app_connection.scalar(text("SELECT count(*) FROM bank_transfers")) == 0  # nothing set: nothing seen
