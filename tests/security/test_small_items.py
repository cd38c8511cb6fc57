"""The smaller items of issue 11 (item 8): trusted hosts and the public base URL, no-store on staff pages, CSV
exports through one helper, the locked dependency set, per-account SePay API keys stored as digests, who creates
officers, and the language switch accepted by GET knowingly."""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version
from sqlalchemy import create_engine, select, text

from tests.conftest import login, post_form

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET = "prod-" + "s" * 43


# --- trusted hosts and the public base URL ---------------------------------------------------------------------

@pytest.fixture
def production_app(tmp_path, monkeypatch):
    """The production configuration in this process. Its limit storage stays in memory (the limiter is one object
    per process, shared with the session's app); tests/test_config.py starts real production processes."""
    import app as app_package
    from app import create_app
    from config import ProductionConfig

    monkeypatch.setattr(app_package, "check_production", lambda config: None)
    settings = {key: getattr(ProductionConfig, key) for key in dir(ProductionConfig) if key.isupper()}
    settings.update(SECRET_KEY=GOOD_SECRET, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'p.sqlite'}",
                    PUBLIC_BASE_URL="https://gialam.example.vn", RATELIMIT_STORAGE_URI="memory://",
                    TRUSTED_HOSTS="www.gialam.example.vn")
    return create_app(settings)


def test_production_answers_only_to_its_own_host_names(production_app):
    client = production_app.test_client()
    assert client.get("/healthz", base_url="https://gialam.example.vn").status_code == 200
    assert client.get("/healthz", base_url="https://www.gialam.example.vn").status_code == 200
    assert client.get("/healthz", base_url="https://evil.example").status_code == 400
    assert client.get("/healthz", base_url="https://gialam.example.vn",
                      headers={"Host": "evil.example"}).status_code == 400


def test_production_builds_outside_links_from_public_base_url_not_the_request(production_app):
    from app.payments.urls import public_base_url

    with production_app.test_request_context("/", base_url="https://www.gialam.example.vn"):
        assert public_base_url() == "https://gialam.example.vn"


# --- no-store on staff pages ---------------------------------------------------------------------------------------

@pytest.fixture
def commune(make):
    return make.tenant("xa-bat-trang", "Bát Tràng")


@pytest.fixture
def admin(make, commune):
    return make.user("admin@battrang.vn", "commune_admin", commune)


@pytest.mark.parametrize("path", ["/c/xa-bat-trang/desk", "/c/xa-bat-trang/staff", "/account/password",
                                  "/c/xa-bat-trang/payments/inbox", "/c/xa-bat-trang/"])
def test_pages_of_a_signed_in_user_are_never_cached(client, admin, path):
    login(client, "admin@battrang.vn")
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_public_pages_of_anonymous_visitors_keep_their_caching(client, commune):
    assert "no-store" not in client.get("/c/xa-bat-trang/").headers.get("Cache-Control", "")


# --- CSV exports ---------------------------------------------------------------------------------------------------

def test_every_csv_export_goes_through_the_exports_helper():
    """Only app/exports.py writes CSV (where formula cells are escaped); other modules call csv_response."""
    writers = []
    for folder in ("app", "tenants", "marketplace"):
        for path in (ROOT / folder).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            if re.search(r"csv\.(writer|DictWriter)\(", source) and path != ROOT / "app" / "exports.py":
                writers.append(str(path.relative_to(ROOT)))
    assert writers == []


def test_the_exports_helper_escapes_formula_cells():
    from app.exports import csv_text

    text_out = csv_text(["a"], [["=HYPERLINK(\"http://x\")"], ["+1"], ["-1"], ["@SUM(A1)"], [-5], ["ok"]])
    assert text_out.splitlines()[1:] == ["\"'=HYPERLINK(\"\"http://x\"\")\"", "'+1", "'-1", "'@SUM(A1)", "-5", "ok"]


# --- the locked dependency set ---------------------------------------------------------------------------------------

def locked() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = Version(version)
    return pins


def test_every_dependency_is_locked_at_a_version_its_requirement_allows():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [Requirement(r) for r in project["dependencies"]]
    requirements += [Requirement(r) for extra in project["optional-dependencies"].values() for r in extra]
    pins = locked()
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in constraints.txt (run scripts/lock.py)"
        assert requirement.specifier.contains(pins[name], prereleases=True), (name, pins[name])


def test_gunicorn_is_required_and_locked_above_the_versions_with_advisories():
    project = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'"gunicorn>=(2[3-9]|[3-9]\d)', project)
    assert locked()["gunicorn"] >= Version("23.0.0")


def test_make_installs_with_the_constraints():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    installs = [line for line in makefile.splitlines() if "pip install" in line and "-e" in line]
    assert installs and all("-c $(CONSTRAINTS)" in line for line in installs)
    assert "CONSTRAINTS := constraints.txt" in makefile


# --- per-account SePay API keys --------------------------------------------------------------------------------------

def test_a_per_account_sepay_api_key_is_stored_as_a_digest_and_still_accepted(app, runner, make):
    from app.extensions import db
    from app.payments.models import PaymentAccount
    from tenants.scoping import all_tenants
    from tests.payments.helpers import make_account, post_sepay, sepay_payload

    make_account(app, make.tenant("bat-trang"), "113000583")
    result = runner.invoke(args=["payments", "set-notification-secret", "--tenant", "bat-trang",
                                 "--provider", "sepay-api-key"], input="merchant-own-key-123\n")
    assert result.exit_code == 0, result.output
    with app.app_context(), all_tenants():
        stored = db.session.scalar(select(PaymentAccount.sepay_api_key))
    assert stored == "sha256:" + hashlib.sha256(b"merchant-own-key-123").hexdigest()
    client = app.test_client()
    payload = sepay_payload("113000583", "khong co ma", 10_000)
    assert post_sepay(client, payload, key="merchant-own-key-123").status_code == 200
    assert post_sepay(client, sepay_payload("113000583", "x", 10_000), key=stored).status_code == 401  # not the digest


def test_the_migration_replaces_stored_sepay_api_keys_by_their_digests(tmp_path):
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from tests.conftest import _test_settings

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    app = create_app(_test_settings(url))
    with app.app_context():
        upgrade(revision="0006_vendors")
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO tenants (id, slug, name, kind, code, district_name, district_code, "
                              "province_name, status) VALUES (1, 'a', 'A', 'xã', '10001', 'Gia Lâm', '018', 'Hà Nội', "
                              "'active')"))
            conn.execute(text("INSERT INTO payment_accounts (id, tenant_id, owner_kind, label, bank_bin, "
                              "account_number, holder_name, active, sepay_api_key) VALUES "
                              "(1, 1, 'commune', 'Phí', '970436', '0011001234567', 'UBND', 1, 'old-plain-key')"))
        upgrade()
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT sepay_api_key FROM payment_accounts")).scalar()
        engine.dispose()
        db.engine.dispose()
    assert stored == "sha256:" + hashlib.sha256(b"old-plain-key").hexdigest()


# --- officers are created by their commune's admin -------------------------------------------------------------------

def test_a_district_admin_oversees_the_staff_page_but_does_not_create_officers(app, client, make, commune, admin):
    from app.auth.models import User
    from app.extensions import db

    make.user("district@gialam.vn", "district_admin")
    login(client, "district@gialam.vn")
    page = client.get("/c/xa-bat-trang/staff")
    assert page.status_code == 200 and 'data-testid="staff-table"' in page.get_data(as_text=True)
    assert 'name="password"' not in page.get_data(as_text=True)
    response = post_form(client, "/c/xa-bat-trang/staff", {"name": "Cán bộ", "email": "new@battrang.vn",
                                                            "password": "a-long-password"}, token_from="/account/password")
    assert response.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "new@battrang.vn")) is None
    commune_admin = app.test_client()
    login(commune_admin, "admin@battrang.vn")
    created = post_form(commune_admin, "/c/xa-bat-trang/staff", {"name": "Cán bộ", "email": "new@battrang.vn",
                                                                  "password": "a-long-password"})
    assert created.status_code == 302


def test_the_decisions_say_what_the_code_does():
    decisions = (ROOT / "docs" / "decisions.md").read_text(encoding="utf-8")
    assert "creating officers stays with each commune's admin" in decisions


# --- the language switch ---------------------------------------------------------------------------------------------

def test_a_cross_site_get_of_the_language_switch_changes_the_language_and_nothing_else(client, admin):
    """Accepted knowingly (docs/security.md): the only effect is the language of the visitor's own pages."""
    login(client, "admin@battrang.vn")
    with client.session_transaction() as session:
        before = dict(session)
    response = client.get("/lang/en", headers={"Referer": "https://evil.example/"})
    assert response.status_code == 302 and "evil" not in response.headers["Location"]
    with client.session_transaction() as session:
        after = dict(session)
    assert {k: v for k, v in after.items() if k not in ("lang", "_flashes")} == \
        {k: v for k, v in before.items() if k not in ("lang", "_flashes")}
    assert after["lang"] == "en"
