"""Command line: `flask seed-demo` and `flask tenants create/list/deactivate/set-tax-code`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask_babel import gettext
from sqlalchemy import func, select

from app.auth.models import Membership, User
from app.auth.passwords import verify_password
from app.extensions import db
from tenants.models import Tenant
from tests.conftest import login

UNITS = json.loads((Path(__file__).resolve().parent.parent / "app" / "data" / "gia_lam_units.json").read_text("utf-8"))
SLUGS = [unit["slug"] for unit in UNITS["units"]]


@pytest.fixture
def cli(app, runner):
    """Invoke a command the way `flask ...` does: inside an app context (the test runner does not push one)."""

    def invoke(*args):
        with app.app_context():
            return runner.invoke(args=list(args))

    return invoke


def counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model)) for model in (Tenant, User, Membership)
        )


def tenants_by_slug(app) -> dict[str, Tenant]:
    with app.app_context():
        tenants = {t.slug: t for t in db.session.scalars(select(Tenant))}
        db.session.expunge_all()
        return tenants


def message(app, msgid: str) -> str:
    """The message as the CLI prints it (outside a request: the default language)."""
    with app.app_context():
        return gettext(msgid)


# --- seed-demo -------------------------------------------------------------------------------------------------

def test_seed_demo_creates_22_communes_and_the_demo_accounts(app, cli):
    result = cli("seed-demo")
    assert result.exit_code == 0, result.output
    assert "22 communes, 45 accounts and " in result.output
    assert f"password: {app.config['DEMO_PASSWORD']} (DEMO_PASSWORD)" in result.output

    tenants = tenants_by_slug(app)
    assert sorted(tenants) == sorted(SLUGS)
    assert len(tenants) == 22
    assert all(t.status == "active" and t.district_name == "Gia Lâm" for t in tenants.values())

    password = app.config["DEMO_PASSWORD"]
    with app.app_context():
        district = db.session.scalar(select(User).where(User.email == "district@gialam.demo"))
        assert district.is_district_admin
        assert verify_password(district.password_hash, password)
        for slug in SLUGS:
            for local, role in (("admin", "commune_admin"), ("officer", "officer")):
                user = db.session.scalar(select(User).where(User.email == f"{local}.{slug}@gialam.demo"))
                assert user is not None, f"{local}.{slug}"
                assert [(m.tenant_id, m.role) for m in user.memberships] == [(tenants[slug].id, role)]
                assert verify_password(user.password_hash, password)


@pytest.mark.parametrize(
    "email, home",
    [
        ("district@gialam.demo", "/district/"),
        ("admin.bat-trang@gialam.demo", "/c/bat-trang/desk"),
        ("officer.kieu-ky@gialam.demo", "/c/kieu-ky/desk"),
        ("admin.thi-tran-yen-vien@gialam.demo", "/c/thi-tran-yen-vien/desk"),
    ],
)
def test_demo_accounts_sign_in_with_the_demo_password(app, client, cli, email, home):
    cli("seed-demo")
    response = login(client, email, app.config["DEMO_PASSWORD"])
    assert response.status_code == 302
    assert client.get(response.headers["Location"], follow_redirects=True).request.path == home


def test_demo_commune_admin_is_confined_to_their_commune(app, client, cli):
    cli("seed-demo")
    login(client, "admin.bat-trang@gialam.demo", app.config["DEMO_PASSWORD"])
    assert client.get("/c/bat-trang/staff").status_code == 200
    assert client.get("/c/kieu-ky/staff").status_code == 404


def test_seed_demo_twice_creates_nothing_new(app, cli):
    cli("seed-demo")
    before = counts(app)
    result = cli("seed-demo")
    assert result.exit_code == 0, result.output
    assert "0 communes, 0 accounts and 0 fee payments created" in result.output
    assert counts(app) == before


def test_seed_demo_if_empty_skips_a_database_with_communes(app, cli, make):
    make.tenant("xa-co-san")
    result = cli("seed-demo", "--if-empty")
    assert result.exit_code == 0
    assert "skipped" in result.output
    assert counts(app) == (1, 0, 0)


def test_seed_demo_is_refused_in_production(app, cli, monkeypatch):
    monkeypatch.setitem(app.config, "PRODUCTION", True)
    result = cli("seed-demo")
    assert result.exit_code != 0
    assert "refused in production" in result.output
    assert counts(app) == (0, 0, 0)


# --- tenants ---------------------------------------------------------------------------------------------------

def test_tenants_create_makes_an_active_commune(app, cli):
    result = cli("tenants", "create", "Phù Đổng", "--code", "10123")
    assert result.exit_code == 0, result.output
    assert "/c/phu-dong/" in result.output
    tenant = tenants_by_slug(app)["phu-dong"]
    assert (tenant.name, tenant.kind, tenant.code, tenant.status) == ("Phù Đổng", "xã", "10123", "active")


def test_tenants_create_with_kind_and_slug(app, cli):
    result = cli("tenants", "create", "Trâu Quỳ", "--kind", "thị trấn", "--code", "00565", "--slug", "tt-trau-quy")
    assert result.exit_code == 0, result.output
    assert tenants_by_slug(app)["tt-trau-quy"].kind == "thị trấn"


def test_tenants_list_shows_every_commune_with_its_status(app, cli, make):
    make.tenant("xa-mo", "Mở")
    make.tenant("xa-dong", "Đóng", status="inactive")
    result = cli("tenants", "list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == 2
    assert any("xa-mo" in line and "active" in line for line in lines)
    assert any("xa-dong" in line and "inactive" in line for line in lines)


def test_tenants_deactivate_takes_the_commune_offline(app, client, cli, make):
    make.tenant("xa-dong", "Đóng")
    assert client.get("/c/xa-dong/").status_code == 200
    result = cli("tenants", "deactivate", "xa-dong")
    assert result.exit_code == 0, result.output
    assert tenants_by_slug(app)["xa-dong"].status == "inactive"
    assert client.get("/c/xa-dong/").status_code == 404


def test_tenants_set_tax_code_keeps_a_tax_code_and_refuses_what_is_not_one(app, cli, make):
    make.tenant("xa-mo", "Mở")
    for wrong in ("123", "01005419991", "0100541999-12", "01OO541999"):
        refused = cli("tenants", "set-tax-code", "xa-mo", wrong)
        assert refused.exit_code != 0 and "10" in refused.output, wrong
        assert tenants_by_slug(app)["xa-mo"].tax_code is None  # nothing changed
    for right in ("0100541999", "0100541999-001"):
        result = cli("tenants", "set-tax-code", "xa-mo", right)
        assert result.exit_code == 0, result.output
        assert tenants_by_slug(app)["xa-mo"].tax_code == right
    assert cli("tenants", "set-tax-code", "xa-mo", "0100541999002").exit_code == 0  # the one rule: stored 10-3
    assert tenants_by_slug(app)["xa-mo"].tax_code == "0100541999-002"


@pytest.mark.parametrize(
    "args, msgid",
    [
        (["Xã Thử", "--code", "12"], "The statistics code has 5 digits."),
        (["Xã Thử", "--code", "abcde"], "The statistics code has 5 digits."),
        (["Xã Thử", "--code", "12345", "--slug", "Not A Slug"], "The slug may hold only lowercase letters, digits and hyphens."),
        (["!!!", "--code", "12345"], "The slug may hold only lowercase letters, digits and hyphens."),
        (["   ", "--code", "12345"], "Enter a name."),
        (["Existing", "--code", "12345", "--slug", "xa-co-san"], "A commune with this slug already exists."),
    ],
)
def test_tenants_create_with_bad_input_gives_a_clear_error_and_changes_nothing(app, cli, make, args, msgid):
    make.tenant("xa-co-san")
    before = counts(app)
    result = cli("tenants", "create", *args)
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {message(app, msgid)}"
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    assert counts(app) == before


def test_tenants_create_with_unknown_kind_is_refused(app, cli):
    result = cli("tenants", "create", "Xã Thử", "--kind", "huyện", "--code", "12345")
    assert result.exit_code == 2
    assert "Invalid value for '--kind'" in result.output
    assert counts(app) == (0, 0, 0)


def test_tenants_create_without_code_is_refused(app, cli):
    result = cli("tenants", "create", "Xã Thử")
    assert result.exit_code == 2
    assert "--code" in result.output
    assert counts(app) == (0, 0, 0)


def test_tenants_deactivate_unknown_slug_gives_a_clear_error(app, cli, make):
    make.tenant("xa-mo")
    result = cli("tenants", "deactivate", "xa-khong-co")
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {message(app, 'No such commune.')}"
    assert tenants_by_slug(app)["xa-mo"].status == "active"


def test_rls_grant_needs_postgresql(app, database):
    if database["kind"] == "postgresql":
        pytest.skip("on PostgreSQL the command runs for real (next test)")
    result = app.test_cli_runner().invoke(args=["rls", "grant", "gialam_other"])
    assert result.exit_code != 0 and "needs PostgreSQL" in result.output


def test_rls_grant_creates_a_role_that_cannot_bypass_row_level_security(app, postgres, database):
    from sqlalchemy import text

    from app import create_app

    owner_app = create_app({**app.config, "SQLALCHEMY_DATABASE_URI": database["owner_url"]})
    try:
        result = owner_app.test_cli_runner().invoke(args=["rls", "grant", "gialam_cli_role"])
        assert result.exit_code == 0, result.output
        with database["owner_engine"].connect() as conn:
            role = conn.execute(text(
                "SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = 'gialam_cli_role'"
            )).one()
            can_write = conn.execute(text("SELECT has_table_privilege('gialam_cli_role', 'notices', 'INSERT')")).scalar()
        assert tuple(role) == (False, False, True) and can_write is True
        bad = owner_app.test_cli_runner().invoke(args=["rls", "grant", "x; DROP TABLE notices"])
        assert bad.exit_code != 0 and "not a plain SQL identifier" in bad.output and bad.exception is not None
        assert isinstance(bad.exception, SystemExit)  # a clear message, not a traceback
    finally:
        with database["owner_engine"].begin() as conn:
            conn.execute(text("DROP OWNED BY gialam_cli_role"))
            conn.execute(text("DROP ROLE IF EXISTS gialam_cli_role"))
        with owner_app.app_context():
            db.engine.dispose()
