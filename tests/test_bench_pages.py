"""bench/bench_pages.py without wrk: the URL it serves the scale data with, its page lists, and (on PostgreSQL) that
the values its scale setup finds in `seed-scale` data make every page it loads answer as the benchmark expects."""

from __future__ import annotations

import importlib.util
import string
import sys
from pathlib import Path

import pytest

from app.extensions import db
from tests.conftest import _test_settings, login

ROOT = Path(__file__).resolve().parents[1]


def _load_bench():
    spec = importlib.util.spec_from_file_location("bench_pages_under_test", ROOT / "bench" / "bench_pages.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


bench = _load_bench()


def _fields(page) -> set[str]:
    templates = [page.path, page.body or "", page.login or "", *page.headers.values()]
    names = {name for template in templates for _text, name, _spec, _conv in string.Formatter().parse(template) if name}
    return names - {"n"}  # a number wrk gives each request


def test_the_application_url_is_the_owners_as_the_application_role():
    assert (bench.app_url("postgresql://postgres@127.0.0.1:5432/scale_big")
            == "postgresql+psycopg://gialam_app@127.0.0.1:5432/scale_big")
    # The owner's password is not the application role's: it is dropped, as tests/conftest.py drops it.
    assert (bench.app_url("postgres://owner:s3cret@db.internal/gialam?sslmode=require")
            == "postgresql+psycopg://gialam_app@db.internal/gialam?sslmode=require")
    with pytest.raises(ValueError):
        bench.app_url("sqlite:///instance/gialam.sqlite")


def test_the_scale_run_loads_every_page_of_the_demo_run_and_the_district_json():
    issue_rows = ("landing /", "commune page /c/<slug>/", "marketplace home", "marketplace search",
                  "marketplace product page", "public dossier page", "cached QR image", "payment-intent creation (API)",
                  "bank notification (SePay)", "district dashboard")
    demo_names = [page.name for page in bench.PAGES]
    scale = {page.name: page for page in bench.SCALE_PAGES}
    assert set(issue_rows) <= set(demo_names) <= set(scale)
    assert {"district metrics JSON, 30 days", "district metrics JSON, 12 months"} <= set(scale)
    # The district's pages take seconds at 3,321 communes: one connection per worker, not 16 queued.
    assert {name for name, page in scale.items() if page.connections} == {
        "district dashboard", "district metrics JSON, 30 days", "district metrics JSON, 12 months"}
    # Search is measured cached (a repeated query) and cache-off like every cached page.
    assert scale["marketplace search"].cached


def test_the_demo_values_name_everything_the_demo_pages_ask_for_besides_what_the_setup_finds():
    found_by_setup = {"slug", "qr_path", "api_key", "account_number", "product_path", "dossier_path", "sepay_key"}
    for page in bench.PAGES + bench.RENDERED_PAGES:
        assert _fields(page) <= found_by_setup | set(bench.DEMO_VALUES), page.name


@pytest.fixture
def scale_data(postgres, database):  # seed-scale loads with COPY: PostgreSQL only
    from app import create_app

    owner = create_app(_test_settings(database["owner_url"]))
    result = owner.test_cli_runner().invoke(
        args=["seed-scale", "--communes", "4", "--products", "60", "--dossiers", "400", "--vendors", "8"])
    assert result.exit_code == 0, result.output
    with owner.app_context():
        db.engine.dispose()


def test_the_scale_setup_finds_values_that_every_page_answers_with(scale_data, database, app, client, tmp_path,
                                                                   monkeypatch):
    values = bench.setup_scale(database["owner_url"], tmp_path)
    assert values["database_url"] == database["app_url"]
    assert values["communes"] == 4
    values["sepay_key"] = "bench-sepay-test"
    monkeypatch.setitem(app.config, "SEPAY_API_KEY", values["sepay_key"])

    for page in bench.SCALE_PAGES:
        assert _fields(page) <= set(values), page.name
        path = page.path.format(**values)
        headers = {name: value.format(**values) for name, value in page.headers.items()}
        visitor = app.test_client() if page.login else client
        if page.login:
            assert login(visitor, page.login.format(**values), values["password"]).status_code == 302
        body = page.body.format(n="1", **values).encode() if page.body else None
        response = visitor.open(path, method=page.method, data=body, headers=headers)
        assert response.status_code == page.expect, (page.name, path, response.get_data(as_text=True)[:300])

    # Run again (as the next benchmark run would): the district admin is reused with a new password, not duplicated.
    again = bench.setup_scale(database["owner_url"], tmp_path)
    assert again["password"] != values["password"]
    assert login(client, again["district_email"], again["password"]).status_code == 302
