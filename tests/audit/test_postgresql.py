"""On PostgreSQL: the application's role can add and read entries but never change or remove one, and concurrent
writers of one commune never fork its chain (PostgreSQL only: SQLite has no roles and serialises writers)."""

from __future__ import annotations

import re
import threading

import pytest
import requests
from sqlalchemy import exc, text

from app import transactions
from app.audit import chain
from app.extensions import db
from tenants.notices import services as notices
from tenants.scoping import all_tenants, tenant_context
from tests.audit.helpers import entries
from tests.conftest import TEST_PASSWORD

THREADS = 8


@pytest.fixture(autouse=True)
def _postgresql_only(is_postgres):
    if not is_postgres:
        pytest.skip("roles and concurrent writers need PostgreSQL (set TEST_DATABASE_URL)")


@pytest.fixture
def app_connection(app):
    """A raw connection as the application role, outside the ORM and its hooks, reading across communes."""
    with app.app_context():
        with db.engine.connect() as conn:
            conn.execute(text("SELECT set_config('app.all_tenants', 'on', false)"))
            yield conn
            conn.rollback()


@pytest.mark.parametrize("statement", [
    "UPDATE audit_entries SET actor_label = 'x'",
    "DELETE FROM audit_entries",
    "TRUNCATE audit_entries",
])
def test_the_application_role_cannot_change_or_remove_entries(app_connection, make, statement):
    make.tenant("bat-trang")
    assert app_connection.scalar(text("SELECT count(*) FROM audit_entries")) >= 1  # it reads them
    with pytest.raises(exc.ProgrammingError, match="permission denied"):
        app_connection.execute(text(statement))


def test_the_application_role_can_add_entries(app_connection, make):
    tenant = make.tenant("bat-trang")
    app_connection.execute(text(
        "INSERT INTO audit_entries (tenant_id, seq, at, actor_kind, actor_label, action, changes, prev_digest, digest)"
        " VALUES (:t, 99, now(), 'system', 'test', 'test', '{}', :g, :g)"), {"t": tenant.id, "g": "0" * 64})
    assert app_connection.scalar(text("SELECT count(*) FROM audit_entries WHERE seq = 99")) == 1


def test_even_a_grant_given_by_mistake_changes_nothing(app_connection, database, make):
    """Row-level security has no update or delete policy on the trail, and a trigger refuses both: a role that was
    wrongly granted UPDATE and DELETE still changes no entry."""
    make.tenant("bat-trang")
    with database["owner_engine"].begin() as owner:
        owner.execute(text("GRANT UPDATE, DELETE ON audit_entries TO gialam_app"))
    try:
        assert app_connection.execute(text("UPDATE audit_entries SET actor_label = 'x'")).rowcount == 0
        assert app_connection.execute(text("DELETE FROM audit_entries")).rowcount == 0
    finally:
        app_connection.rollback()
        with database["owner_engine"].begin() as owner:
            owner.execute(text("REVOKE UPDATE, DELETE ON audit_entries FROM gialam_app"))


def test_the_owner_is_refused_by_the_trigger(database, make):
    make.tenant("bat-trang")
    with pytest.raises(exc.DBAPIError, match="append-only"):
        with database["owner_engine"].begin() as owner:
            owner.execute(text("DELETE FROM audit_entries"))


def test_a_commune_reads_only_its_own_entries_under_row_level_security(app, make):
    a, b = make.tenant("xa-a"), make.tenant("xa-b")
    with app.app_context(), db.engine.connect() as conn:
        conn.execute(text("SELECT set_config('app.tenant_id', :t, false)"), {"t": str(a.id)})
        seen = conn.execute(text("SELECT DISTINCT tenant_id FROM audit_entries")).scalars().all()
        conn.rollback()
    assert seen == [a.id] and b.id != a.id


def _empty_the_chain(database, tenant_id: int) -> None:
    with database["owner_engine"].begin() as owner:
        owner.execute(text("SET LOCAL session_replication_role = replica"))
        owner.execute(text("DELETE FROM audit_entries WHERE tenant_id = :t"), {"t": tenant_id})
        owner.execute(text("DELETE FROM audit_heads WHERE tenant_id = :t"), {"t": tenant_id})


def test_concurrent_transactions_of_one_commune_append_one_unbroken_chain(app, database, make):
    """Eight transactions released at once on a chain that has no head yet: one creates the head, each appends in
    turn; the numbers run 1..8 with no gap and no fork."""
    tenant = make.tenant("bat-trang")
    _empty_the_chain(database, tenant.id)
    barrier, errors = threading.Barrier(THREADS), []

    def writer(n: int) -> None:
        try:
            with app.app_context(), tenant_context(tenant):
                def work():
                    notices.create(None, f"Thông báo {n}", "")
                    db.session.flush()
                    barrier.wait(timeout=10)
                transactions.run(work)
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    chain_entries = entries(app, tenant_id=tenant.id)
    assert sorted(e["seq"] for e in chain_entries) == list(range(1, THREADS + 1))
    assert sorted(e["changes"]["title"][1] for e in chain_entries) == sorted(f"Thông báo {n}" for n in range(THREADS))
    with app.app_context(), all_tenants():
        _counts, breaks = chain.verify(db.session, [tenant.id])
    assert breaks == []


def _signed_in_session(base: str, email: str) -> tuple[requests.Session, str]:
    session = requests.Session()
    page = session.get(base + "/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    answer = session.post(base + "/login", data={"email": email, "password": TEST_PASSWORD, "csrf_token": token},
                          allow_redirects=False)
    assert answer.status_code == 302
    form = session.get(base + "/account/password").text
    return session, re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)


def test_concurrent_requests_of_one_commune_never_fork_its_chain(app, live_server, make):
    tenant = make.tenant("bat-trang")
    for n in range(THREADS):
        make.user(f"admin{n}@bt.vn", "commune_admin", tenant)
    sessions = [_signed_in_session(live_server, f"admin{n}@bt.vn") for n in range(THREADS)]
    barrier, statuses = threading.Barrier(THREADS), []

    def post(n: int) -> None:
        session, token = sessions[n]
        barrier.wait(timeout=10)
        answer = session.post(f"{live_server}/c/{tenant.slug}/notices/new", allow_redirects=False,
                              data={"title": f"Họp tổ dân phố {n}", "body": "", "csrf_token": token})
        statuses.append(answer.status_code)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [302] * THREADS
    chain_entries = entries(app, tenant_id=tenant.id)
    assert [e["seq"] for e in sorted(chain_entries, key=lambda e: e["seq"])] == list(range(1, len(chain_entries) + 1))
    created = [e for e in chain_entries if e["table_name"] == "notices"]
    assert sorted(e["actor_label"] for e in created) == sorted(f"admin{n}@bt.vn" for n in range(THREADS))
    with app.app_context(), all_tenants():
        _counts, breaks = chain.verify(db.session, [tenant.id])
    assert breaks == []
