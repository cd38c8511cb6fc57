"""One app and one migrated database per test session; every test starts from empty tables.

SQLite by default; PostgreSQL when TEST_DATABASE_URL is set. On PostgreSQL the schema is migrated by the owner
(the URL's user) and the app runs as ``gialam_app``, a role that is not a superuser and cannot bypass
row-level security, so the RLS policies are tested as production runs them.
"""

from __future__ import annotations

import os
import re
import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

os.environ["APP_ENV"] = "testing"  # chosen explicitly (unset means production); the mapping below sets the database

from werkzeug.serving import make_server  # noqa: E402

from app import _normalise_database_url, create_app  # noqa: E402
from app.extensions import db, limiter  # noqa: E402
from tenants import scoping  # noqa: E402

APP_ROLE = "gialam_app"
# The tests' own Redis database (TEST_REDIS_URL to choose another, e.g. for two test runs at once); tests delete only
# keys with a prefix of their own.
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
TEST_PASSWORD = "correct-horse-42"

CHEAP_ARGON2 = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024, "ARGON2_PARALLELISM": 1}

# Tests that need PostgreSQL (races, row-level security, COPY) ask for the ``postgres`` fixture, directly, through
# another fixture or with ``pytestmark = pytest.mark.usefixtures("postgres")``. On SQLite they are skipped with this
# reason, and the run ends by saying how many were skipped and how to run them.
NEEDS_POSTGRES = "needs PostgreSQL (set TEST_DATABASE_URL)"
POSTGRES_COMMAND = ("TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test_gialam "
                    ".venv/bin/python -m pytest -m postgres")


def _on_postgres() -> bool:
    return os.environ.get("TEST_DATABASE_URL", "").startswith(("postgres://", "postgresql"))


def _test_settings(url: str) -> dict:
    return {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "testing-secret", **CHEAP_ARGON2}


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    owner_app = create_app(_test_settings(url))
    with owner_app.app_context():
        upgrade()
        db.engine.dispose()


def pytest_collection_modifyitems(config, items):
    """Every test that needs PostgreSQL carries the ``postgres`` marker (so ``-m postgres`` runs exactly them), and is
    skipped on SQLite before any of its fixtures is built."""
    skip = pytest.mark.skip(reason=NEEDS_POSTGRES)
    for item in items:
        if "postgres" in getattr(item, "fixturenames", ()) or item.get_closest_marker("postgres"):
            item.add_marker(pytest.mark.postgres)
            if not _on_postgres():
                item.add_marker(skip)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """On SQLite, the tests left for PostgreSQL are counted out loud, with the one command that runs them."""
    if _on_postgres():
        return
    skipped = [report for report in terminalreporter.stats.get("skipped", ()) if "postgres" in report.keywords]
    if skipped:
        tests = "test" if len(skipped) == 1 else "tests"
        terminalreporter.write_sep("-", f"{len(skipped)} {tests} skipped for want of PostgreSQL", yellow=True)
        terminalreporter.write_line(f"Run them with: {POSTGRES_COMMAND}")


@pytest.fixture(scope="session")
def database(tmp_path_factory):
    url = os.environ.get("TEST_DATABASE_URL")
    if _on_postgres():
        owner_url = _normalise_database_url(url)
        engine = create_engine(owner_url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        _migrate(owner_url)
        from tenants.rls import grant_app_role

        with engine.begin() as conn:
            grant_app_role(conn, APP_ROLE)
        app_url = make_url(owner_url).set(username=APP_ROLE, password=None).render_as_string(hide_password=False)
        yield {"kind": "postgresql", "owner_url": owner_url, "app_url": app_url, "owner_engine": engine}
        engine.dispose()
    else:
        path = tmp_path_factory.mktemp("db") / "test.sqlite"
        owner_url = f"sqlite:///{path}"
        _migrate(owner_url)
        engine = create_engine(owner_url)
        yield {"kind": "sqlite", "owner_url": owner_url, "app_url": owner_url, "owner_engine": engine}
        engine.dispose()


@pytest.fixture(scope="session")
def app(database):
    scoping.CHECK_DECISIONS = True  # every memoised tenant-scoping decision of the suite is checked (issue #17)
    app = create_app(_test_settings(database["app_url"]))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_tables(request, database):
    """Empty every table after each test (truncation, not rollback: live servers and threads share the data)."""
    yield
    if "app" in request.fixturenames:
        app = request.getfixturevalue("app")
        with app.app_context():
            db.session.remove()
        if database["kind"] == "postgresql" and _checks_money(request):
            _assert_money_invariants(app)
        limiter.reset()
        app.extensions["response_cache"].clear()  # the truncation below bypasses the session hooks
        app.extensions["blank_login_page"].pages.clear()  # a test may have changed what the sign-in page shows
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with database["owner_engine"].begin() as conn:
        if database["kind"] == "postgresql":
            _empty_postgres(conn, tables)
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))


# Above this many rows in a table, TRUNCATE beats DELETE.
_DELETE_AT_MOST = 5000


def _empty_postgres(conn, tables: list[str]) -> None:
    """Empty the tables a test wrote to, and restart every sequence it advanced.

    A TRUNCATE of every table costs about a second per test (it replaces ~90 files), most of the PostgreSQL suite's
    time; most tests write a few rows to a few tables. So: one statement finds the tables with rows; small ones are
    emptied with DELETE, triggers and foreign-key checks off for this transaction (``session_replication_role``,
    the owner is a superuser in tests), so order does not matter and nothing fires; big ones (a seeded demo) are
    truncated. Sequences are restarted as TRUNCATE ... RESTART IDENTITY did. An owner that is not a superuser
    falls back to the full TRUNCATE."""
    sizes = conn.execute(text(" UNION ALL ".join(
        f"SELECT '{t}', (SELECT count(*) FROM (SELECT 1 FROM {t} LIMIT {_DELETE_AT_MOST + 1}) s)" for t in tables
    ))).all()
    dirty = [name for name, n in sizes if n]
    if any(n > _DELETE_AT_MOST for _, n in sizes) or not conn.execute(text(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar():
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        return
    if dirty:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("; ".join(f"DELETE FROM {t}" for t in dirty)))
    used = conn.execute(text(
        "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) FROM pg_sequences "
        "WHERE last_value IS NOT NULL AND schemaname = current_schema()")).scalars().all()
    if used:
        conn.execute(text("; ".join(f"ALTER SEQUENCE {s} RESTART" for s in used)))


def _checks_money(request) -> bool:
    """The PostgreSQL concurrency and race tests: after each, before the tables are emptied, ``flask payments
    check`` must find nothing (CI runs them, so CI runs the check on what the races left)."""
    name = request.node.module.__name__ if request.node.module else ""
    return "concurrency" in name or "races" in name


def _assert_money_invariants(app) -> None:
    result = app.test_cli_runner().invoke(args=["payments", "check"])
    assert result.exit_code == 0, f"flask payments check after {result.output}"


@pytest.fixture(scope="session")
def live_server(app):
    """The session ``app`` served over real HTTP (threaded werkzeug) on a free 127.0.0.1 port; yields the base URL.

    Browser journeys, the Stripe SDK tests and the concurrency tests use it; tables are still emptied per test.
    """
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def is_postgres(database) -> bool:
    return database["kind"] == "postgresql"


@pytest.fixture(scope="session")
def postgres(database):
    """The PostgreSQL database (see ``NEEDS_POSTGRES``): a test or fixture that asks for it runs on PostgreSQL only."""
    if database["kind"] != "postgresql":  # a safety net: the collection hook above already skips these
        pytest.skip(NEEDS_POSTGRES)
    return database


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make(app):
    from tests.factories import Factory

    return Factory(app)


_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token of the client's session, read from a page that has a form."""
    html = client.get(path).get_data(as_text=True)
    match = _CSRF.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def login(client, email: str, password: str = TEST_PASSWORD):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def post_form(client, path: str, data: dict | None = None, token_from: str = "/account/password"):
    """POST a form the way a browser does: with the session's CSRF token."""
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, token_from)})


def field_error(response, name: str) -> str | None:
    """The error shown at the form field ``name`` of a rendered page (app/templates/_macros.html), or None."""
    import html

    page = response.get_data(as_text=True)
    for block in re.findall(r'<(?:div|fieldset) class="field[^"]* has-error">(.*?)</(?:div|fieldset)>', page, re.S):
        if f'name="{name}"' in block:
            return html.unescape(re.search(r'<p class="field-error">([^<]*)</p>', block).group(1))
    return None


@contextmanager
def count_queries(app):
    """Record every SQL statement the app's engine runs inside the block; yields the list of statements."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def data_statements(statements: list[str]) -> list[str]:
    """The statements that touch tables: PostgreSQL also runs the row-level-security set_config per transaction
    (and again when the request's tenant becomes known), which is bookkeeping, not a query of the page."""
    return [s for s in statements if "set_config" not in s]
