"""The production steps of the README, run word for word on PostgreSQL by an owner that is not a superuser.

A superuser runs the README's SQL (the owner role and its database), then the owner runs the README's own command
lines (``flask db upgrade``, ``flask rls grant``) in a fresh database, and the application, connected as the role
that ``rls grant`` created, serves pages under row-level security. Names are made unique per run (roles are shared
by every database of the server) and everything is dropped afterwards. Skipped on SQLite; CI runs it (``make test``
with TEST_DATABASE_URL).
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from markupsafe import escape
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from tests.conftest import CHEAP_ARGON2, TEST_REDIS_URL

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SCALING = ROOT / "docs" / "scaling.md"
DEPLOY_SCRIPT = ROOT / "deploy" / "deploy.sh"
DOCUMENTED_OWNER_URL = "postgresql://gialam_owner:...@db/gialam"
# The section of each document that holds the production steps.
SECTIONS = {README: "## PostgreSQL and production", SCALING: "## Production serving, step by step"}


def _blocks(path: Path, language: str) -> list[str]:
    text = path.read_text(encoding="utf-8")
    section = text[text.index(SECTIONS[path]):]
    following = section.find("\n## ", 3)
    section = section if following < 0 else section[:following]
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)


def documented_sql(path: Path) -> list[str]:
    """The statements of the SQL block that creates the owner (comments dropped)."""
    blocks = [b for b in _blocks(path, "sql") if "CREATE ROLE gialam_owner" in b]
    assert len(blocks) == 1, f"{path.name}: one SQL block creates the owner"
    lines = [line.split("--", 1)[0].strip() for line in blocks[0].splitlines()]
    return [s.strip() for s in " ".join(line for line in lines if line).split(";") if s.strip()]


def documented_command(path: Path, needle: str) -> list[str]:
    """The one shell line of the production section that contains ``needle``, split as the shell would."""
    lines = [line.split(" #", 1)[0].strip() for block in _blocks(path, "sh") for line in block.splitlines()]
    found = [line for line in lines if needle in line and not line.startswith("#")]
    assert len(found) == 1, f"{path.name}: one command line with {needle!r}, found {found}"
    return shlex.split(found[0])


def test_the_readme_and_scaling_guide_give_the_same_steps():
    """One set of steps, written twice: the guide and the README must not drift apart (the test below runs them)."""
    assert documented_sql(README) == documented_sql(SCALING)
    for needle in ("flask db upgrade", "flask rls grant"):
        assert documented_command(README, needle) == documented_command(SCALING, needle)
    script = DEPLOY_SCRIPT.read_text(encoding="utf-8")
    assert 'DATABASE_URL="$OWNER_DATABASE_URL" .venv/bin/flask db upgrade' in script
    assert 'DATABASE_URL="$OWNER_DATABASE_URL" .venv/bin/flask rls grant "${APP_DB_ROLE:-gialam_app}"' in script


@pytest.fixture
def fresh_server_names(database):
    """A superuser connection (the tests' own URL), and names for a new owner, app role and database; all dropped
    afterwards whatever happened."""
    if database["kind"] != "postgresql":
        pytest.skip("the production steps are PostgreSQL's (set TEST_DATABASE_URL)")
    admin = create_engine(database["owner_url"], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar():
            pytest.skip("the tests' database user must be a superuser to play the database administrator")
    suffix = secrets.token_hex(4)
    names = {"owner": f"gl_owner_{suffix}", "app": f"gl_app_{suffix}", "database": f"gl_steps_{suffix}"}
    try:
        yield admin, names
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {names['database']} WITH (FORCE)"))
            conn.execute(text(f"DROP ROLE IF EXISTS {names['app']}"))
            conn.execute(text(f"DROP ROLE IF EXISTS {names['owner']}"))
        admin.dispose()


def _url(base, user: str, password: str | None, database: str) -> str:
    url = make_url(base).set(drivername="postgresql", username=user, password=password, database=database)
    return url.render_as_string(hide_password=False)


def _run_documented(argv: list[str], owner_url: str, substitutions: dict[str, str]) -> subprocess.CompletedProcess:
    """A README command line as the owner would type it, in this checkout, with production settings."""
    env = {key: value for key, value in os.environ.items() if key not in ("APP_ENV", "TEST_DATABASE_URL")}
    env.update({  # /etc/gialam.env: production (APP_ENV unset), with what production requires
        "SECRET_KEY": secrets.token_urlsafe(48), "PUBLIC_BASE_URL": "https://gialam.example.vn",
        "RATELIMIT_STORAGE_URI": TEST_REDIS_URL, "TRUSTED_PROXY_COUNT": "1",
    })
    command = []
    for word in argv:
        if "=" in word and not command and re.match(r"^[A-Z_]+=", word):
            name, value = word.split("=", 1)
            assert value == DOCUMENTED_OWNER_URL, "the owner's commands run with the owner's URL"
            env[name] = owner_url
            continue
        command.append(substitutions.get(word, word))
    assert command[0] == ".venv/bin/flask"
    command[0] = str(Path(sys.executable).with_name("flask"))
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_an_owner_without_superuser_rights_deploys_by_the_book_and_the_app_serves_under_rls(fresh_server_names):
    admin, names = fresh_server_names
    base = admin.url
    owner_password, app_password = secrets.token_hex(8), secrets.token_hex(8)

    # 1. The database administrator's part, as written.
    with admin.connect() as conn:
        for statement in documented_sql(README):
            statement = re.sub(r"\bgialam_owner\b", names["owner"], statement)
            statement = re.sub(r"\bgialam\b", names["database"], statement)
            conn.execute(text(statement.replace("'...'", f"'{owner_password}'")))
        owner = conn.execute(text("SELECT rolsuper, rolcreaterole, rolbypassrls FROM pg_roles WHERE rolname = :r"),
                             {"r": names["owner"]}).one()
    assert tuple(owner) == (False, True, True)  # not a superuser: what the operator had
    owner_url = _url(base, names["owner"], owner_password, names["database"])

    # 2. Migrate, then 3. create the app role: the README's lines, run as the owner.
    migrate = _run_documented(documented_command(README, "flask db upgrade"), owner_url, {})
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    grant_line = documented_command(README, "flask rls grant")
    grant = _run_documented(grant_line, owner_url, {"gialam_app": names["app"], "...": app_password})
    assert grant.returncode == 0, grant.stderr[-3000:]
    again = _run_documented(grant_line, owner_url, {"gialam_app": names["app"], "...": app_password})
    assert again.returncode == 0, again.stderr[-3000:]  # every deploy runs it again (deploy/deploy.sh)

    owner_engine = create_engine(owner_url.replace("postgresql://", "postgresql+psycopg://", 1))
    app_url = _url(base, names["app"], app_password, names["database"])
    with owner_engine.connect() as conn:
        role = conn.execute(text("SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = :r"),
                            {"r": names["app"]}).one()
        search_owner = conn.execute(text("SELECT pg_get_userbyid(proowner) FROM pg_proc "
                                         "WHERE proname = 'catalogue_search'")).scalar()
    assert tuple(role) == (False, False, True) and search_owner == names["owner"]

    # 4. The application, as the app role, under row-level security: the demo's communes, a page, a search.
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app_url, "SECRET_KEY": "testing-secret",
                      "RESPONSE_CACHE": False, **CHEAP_ARGON2})
    try:
        from app import demo

        with app.app_context():
            demo.seed(app.config["DEMO_PASSWORD"], payment_days=0)
            db.session.remove()
        with owner_engine.connect() as conn:
            name, folded = conn.execute(text(
                "SELECT name, name_folded FROM products WHERE status = 'published' ORDER BY id LIMIT 1")).one()
        client = app.test_client()
        commune = client.get("/c/bat-trang/")
        assert commune.status_code == 200 and "Bát Tràng" in commune.get_data(as_text=True)
        found = client.get("/marketplace/search", query_string={"q": folded})  # through catalogue_search()
        assert found.status_code == 200 and escape(name) in found.get_data(as_text=True)
        with app.app_context():
            app_engine = db.engine
            with app_engine.connect() as conn:  # no tenant set: the policies admit no row
                assert conn.execute(text("SELECT current_user")).scalar() == names["app"]
                assert conn.execute(text("SELECT count(*) FROM products")).scalar() == 0
                assert conn.execute(text("SELECT count(*) FROM vendors")).scalar() == 0
                # The search function reads every commune, then gives the caller's transaction its own flag back.
                tenant_id = conn.execute(text("SELECT id FROM tenants WHERE slug = 'bat-trang'")).scalar()
                conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)})
                own = conn.execute(text("SELECT count(*) FROM products")).scalar()
                everywhere = conn.execute(text("SELECT count(*) FROM catalogue_search(ARRAY['%'])")).scalar()
                assert conn.execute(text("SELECT current_setting('app.all_tenants', true)")).scalar() == ""
                assert conn.execute(text("SELECT count(*) FROM products")).scalar() == own < everywhere
                conn.rollback()
            db.engine.dispose()
        with owner_engine.connect() as conn:  # the owner bypasses them: the rows are there
            assert conn.execute(text("SELECT count(*) FROM products")).scalar() > 0
    finally:
        owner_engine.dispose()


def test_rls_grant_refuses_clearly_a_role_it_cannot_take_powers_from(fresh_server_names):
    """An existing role that bypasses row-level security cannot be fixed by a non-superuser owner: a clear message
    names what a superuser must run (not PostgreSQL's error), and nothing is granted."""
    admin, names = fresh_server_names
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {names['owner']} LOGIN CREATEROLE BYPASSRLS"))
        conn.execute(text(f"CREATE DATABASE {names['database']} OWNER {names['owner']}"))
        conn.execute(text(f"CREATE ROLE {names['app']} LOGIN BYPASSRLS"))
    owner_url = _url(admin.url, names["owner"], None, names["database"])
    result = _run_documented([f"DATABASE_URL={DOCUMENTED_OWNER_URL}", ".venv/bin/flask", "rls", "grant", names["app"]],
                             owner_url, {})
    assert result.returncode != 0
    assert f"ALTER ROLE {names['app']} NOSUPERUSER NOBYPASSRLS" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
