"""Input bounded in one place (issue 16, items 12-14; app/bounds.py, app/text.py).

- Periods: a day outside 2000-2099 (``to=0001-01-01``, ``to=9999-12-31``) answered 500 on seven pages, three of
  them public; now each page answers it as any other bad date, with a clear message.
- Page numbers are clamped: a huge one on the vendor's ledger answered 500 ("bigint out of range").
- A control character (NUL above all) in any URL value, query or form field, field name or file name is refused
  with 400 and a clear message before any view runs: on PostgreSQL a NUL answered 500 (sign-in e-mail, online
  submission, rating reason, officer upload, staff search) and SQLite never complained.

The sweeps walk the whole URL map, so a page or form added later is covered without a line here.
"""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from sqlalchemy import func, select, text

from app import bounds, demo
from app.errors import ValidationError
from app.extensions import db
from app.text import has_control_characters, normalize
from tenants.onestop import services as onestop_services
from tenants.onestop.models import Dossier, DossierDocument, Rating
from tenants.scoping import tenant_context
from tests.conftest import csrf_token, login
from tests.tenants.onestop.conftest import PDF, counter_dossier, procedure, vn
from tests.test_no_500 import SAMPLE_VALUES

CONTROL_MESSAGES = ("invisible control character", "ký tự điều khiển ẩn")
DEMO_ROLES = [None, "officer.bat-trang@gialam.demo", "district@gialam.demo", "vendor.bat-trang.1@gialam.demo"]
EXTREMES = [
    "from=0001-01-01&to=9999-12-31&start=9999-12-31&end=9999-12-31&page=99999999999999999999&days=9999999999",
    "to=0001-01-01&start=0001-01-01&end=0001-01-02&page=%C2%B2&days=-1",
    "from=9999-12-31&to=9999-12-31&page=-99999999999999999999",
]


# ------------------------------------------------------------------------------------------------- the rules

@pytest.mark.parametrize("value,expected", [
    ("2000-01-01", date(2000, 1, 1)), ("2099-12-31", date(2099, 12, 31)), (" 2026-11-30 ", date(2026, 11, 30)),
])
def test_a_day_within_the_sane_years_is_read(app, value, expected):
    with app.test_request_context():
        assert bounds.day(value, "to") == expected


@pytest.mark.parametrize("value", ["0001-01-01", "1999-12-31", "2100-01-01", "9999-12-31", "2026-02-30",
                                   "20261101", "2026-W01-1", "", "2026-11-30T00:00"])
def test_anything_else_is_a_validation_error_naming_its_field(app, value):
    with app.test_request_context(), pytest.raises(ValidationError) as refused:
        bounds.day(value, "to")
    assert refused.value.field == "to" and str(refused.value.message)


def test_the_period_defaults_bounds_and_lengths(app):
    today = date(2026, 11, 30)
    with app.test_request_context():
        assert bounds.period({}, today=today, max_days=100) == (date(2026, 11, 1), today)
        assert bounds.period({"from": "2026-01-01", "to": "2026-01-31"}, today=today, max_days=31) == (
            date(2026, 1, 1), date(2026, 1, 31))
        assert bounds.period({"to": "2000-01-05"}, today=today, max_days=100) == (date(2000, 1, 1), date(2000, 1, 5))
        for args, field in (({"from": "2026-02-01", "to": "2026-01-01"}, "from"),
                            ({"from": "2026-01-01", "to": "2026-02-01"}, "from"),  # 31 days apart: too long
                            ({"to": "9999-12-31"}, "to"), ({"from": "0001-01-01"}, "from")):
            with pytest.raises(ValidationError) as refused:
                bounds.period(args, today=today, max_days=31)
            assert refused.value.field == field


@pytest.mark.parametrize("raw,expected", [
    (None, 1), ("", 1), ("3", 3), ("0", 1), ("-7", 1), ("10000", 10_000), ("10001", 10_000),
    ("99999999999999999999", 10_000), ("9" * 4000, 1), ("²", 1), ("٣", 1), ("1e9", 1), ("abc", 1), (" 12 ", 12),
])
def test_page_numbers_are_clamped_never_refused(raw, expected):
    assert bounds.page_number({} if raw is None else {"page": raw}) == expected
    assert bounds.page_number({"page": "50"}, last=7) == 7


def test_the_normaliser_drops_control_characters_but_keeps_tabs_and_line_breaks():
    assert normalize(" Bát\x00 Tràng\x1b\x7f\x85 ") == "Bát Tràng"
    assert normalize("dòng 1\r\ndòng 2\tcột") == "dòng 1\r\ndòng 2\tcột"
    assert has_control_characters("a\x00") and has_control_characters("\x9f")
    assert not has_control_characters("Đường\tphèn\nGia Lâm\r")


# ------------------------------------------------------------------------------------------------- periods and pages

@pytest.fixture
def demo_district(app):
    with app.app_context():
        demo.seed(app.config["DEMO_PASSWORD"], payment_days=0)
        db.session.remove()


def _get_routes(app):
    values = {**SAMPLE_VALUES, "tenant_slug": "bat-trang", "commune_slug": "bat-trang"}
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint != "static":
            path = rule.build({arg: values[arg] for arg in rule.arguments}, append_unknown=False)[1]
            if path != "/logout":
                yield path


@pytest.mark.parametrize("who", DEMO_ROLES)
def test_no_page_answers_500_to_extreme_periods_or_page_numbers(app, demo_district, who, monkeypatch):
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    client = app.test_client()
    if who:
        assert login(client, who, app.config["DEMO_PASSWORD"]).status_code == 302
    failures, seen = [], set()
    for path in _get_routes(app):
        for query in EXTREMES:
            status = client.get(f"{path}?{query}").status_code
            seen.add(status)
            if status >= 500:
                failures.append(f"{path}?{query} -> {status}")
    assert failures == []
    assert {200, 400} <= seen
    if who and who.startswith("vendor"):  # the ledger: a huge page and days out of range are clamped, not refused
        for query in ("page=99999999999999999999", "page=9223372036854775807", "start=9999-12-31&end=9999-12-31",
                      "start=0001-01-01&end=0001-01-02"):
            assert client.get(f"/c/bat-trang/market/me/sales?{query}").status_code == 200, query
            assert client.get(f"/c/bat-trang/market/me/sales.csv?{query}").status_code == 200, query


SEVEN = {  # the pages of the issue: (path, who, how it answers a bad period)
    "/api/district/metrics": (None, "json"),
    "/api/c/bat-trang/onestop/metrics": (None, "json"),
    "/c/bat-trang/onestop/figures": (None, "back"),
    "/district/": ("district@gialam.vn", "page"),
    "/district/metrics.csv": ("district@gialam.vn", "page"),
    "/c/bat-trang/onestop/dashboard": ("officer@battrang.vn", "back"),
    "/c/bat-trang/onestop/dashboard.csv": ("officer@battrang.vn", "back"),
}


@pytest.mark.parametrize("path", sorted(SEVEN))
def test_the_seven_period_pages_refuse_days_out_of_the_sane_years_clearly(app, make, path):
    commune = make.tenant("bat-trang", "Bát Tràng")
    make.user("officer@battrang.vn", "officer", commune)
    make.user("district@gialam.vn", "district_admin")
    who, answer = SEVEN[path]
    client = app.test_client()
    if who:
        login(client, who)
    for query in ("to=0001-01-01", "to=9999-12-31", "from=1999-12-31", "from=2100-01-01&to=2100-01-02"):
        response = client.get(f"{path}?{query}")
        if answer == "json":
            assert response.status_code == 400 and "01/01/2000" in response.get_json()["error"]["message"]
        elif answer == "page":
            assert response.status_code == 400 and "01/01/2000" in response.get_data(as_text=True)
        else:  # the one-stop pages go back to the default period with the reason flashed, as for any bad date
            assert response.status_code == 302
            assert "01/01/2000" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert client.get(f"{path}?from=2026-03-01&to=2026-03-31").status_code == 200


# ------------------------------------------------------------------------------------------------- control characters

def _row_counts(database) -> dict[str, int]:
    tables = [t.name for t in db.metadata.sorted_tables]
    with database["owner_engine"].connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in tables}


def _refused(response) -> bool:
    body = response.get_data(as_text=True)
    return response.status_code == 400 and any(m in body for m in CONTROL_MESSAGES)


def _write_routes(app):
    values = {**SAMPLE_VALUES, "tenant_slug": "bat-trang", "commune_slug": "bat-trang"}
    for rule in app.url_map.iter_rules():
        path = rule.build({arg: values[arg] for arg in rule.arguments}, append_unknown=False)[1]
        for method in sorted(rule.methods - {"GET", "HEAD", "OPTIONS"}):
            yield method, path


@pytest.mark.parametrize("who", [None, "officer.bat-trang@gialam.demo"])
def test_a_control_character_in_any_form_field_name_or_file_name_is_refused_and_changes_nothing(
        app, database, demo_district, who, monkeypatch):
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    client = app.test_client()
    if who:
        login(client, who, app.config["DEMO_PASSWORD"])
    token = csrf_token(client, "/account/password" if who else "/login")
    before = _row_counts(database)
    failures, routes = [], 0
    for method, path in _write_routes(app):
        routes += 1
        attempts = {
            "value": {"csrf_token": token, "email": "a@b.vn", "name": "Bát\x00Tràng", "amount": "1000"},
            "name": {"csrf_token": token, "ghi\x00chu": "x"},
            "C1": {"csrf_token": token, "reason": "Chờ lâu\x85"},
            "file": {"csrf_token": token, "file": (io.BytesIO(PDF), "giay\x00to.pdf")},
        }
        for kind, data in attempts.items():
            response = client.open(path, method=method, data=data,
                                   content_type="multipart/form-data" if kind == "file" else None)
            if not _refused(response):
                failures.append(f"{method} {path} ({kind}) -> {response.status_code}")
            elif path.startswith("/v1/"):
                error = response.get_json()["error"]
                assert error["type"] == "invalid_request_error", (path, error)  # Stripe's shape on the API
    assert routes > 50 and failures == []
    assert _row_counts(database) == before


def test_a_control_character_in_the_query_is_refused_and_in_the_address_names_nothing(app, client, make):
    make.tenant("bat-trang", "Bát Tràng")
    for path in ("/c/bat-trang/?q=a%00", "/marketplace/search?q=g%E1%BB%91m%00", "/api/district/metrics?from=%01",
                 "/c/bat-trang/onestop/lookup?code=00583%00"):
        assert _refused(client.get(path)), path
    assert client.get("/api/district/metrics?from=%00").get_json()["error"]["message"]
    for path in ("/c/bat%00trang/", "/api/dossiers/00583%00", "/marketplace/p/bat-trang/binh%00"):
        assert client.get(path).status_code == 404, path  # before the commune's or the record's query
    missing = client.get("/v1/payment_intents/pi_%00x", headers={"Authorization": "Bearer sk_test_x"})
    assert missing.status_code in (401, 404) and missing.get_json()["error"]["type"] == "invalid_request_error"


@pytest.fixture
def received(app, make):
    """Bát Tràng with an officer and a received dossier holding one document: (procedure id, dossier id, code)."""
    commune = make.tenant("bat-trang", "Bát Tràng")
    make.user("officer@battrang.vn", "officer", commune, name="Trần Thị Bình")
    officer = make.user("admin@battrang.vn", "commune_admin", commune)
    with app.app_context(), tenant_context(commune):
        proc = procedure()
        dossier = counter_dossier(officer, proc, vn(2026, 3, 2, 9, 0))
        onestop_services.add_document(dossier, "cccd.pdf", PDF)
        db.session.commit()
        return commune, proc.id, dossier.id, dossier.code


def _count(app, commune, model) -> int:
    with app.app_context(), tenant_context(commune):
        return db.session.scalar(select(func.count()).select_from(model))


def test_the_issues_nul_reproductions_answer_400_and_store_nothing(app, client, received, monkeypatch):
    """Each of these answered 500 on PostgreSQL (the text reached a query with its NUL)."""
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    commune, procedure_id, dossier_id, code = received
    dossiers, ratings, documents = (_count(app, commune, m) for m in (Dossier, Rating, DossierDocument))

    # the sign-in e-mail
    token = csrf_token(client, "/login")
    assert _refused(client.post("/login", data={"email": "officer@battrang.vn\x00", "password": "x",
                                                "csrf_token": token}))
    # the online submission
    token = csrf_token(client, "/c/bat-trang/onestop/submit")
    submission = {"procedure_id": str(procedure_id), "applicant_name": "Nguyễn\x00Văn An",
                  "applicant_id_number": "001090012345", "applicant_phone": "0912345678",
                  "applicant_address": "Thôn 1", "applicant_email": "", "request_note": "", "csrf_token": token}
    assert _refused(client.post("/c/bat-trang/onestop/submit", data=submission))
    # the rating's reason
    token = csrf_token(client, f"/c/bat-trang/onestop/lookup/{code}")
    assert _refused(client.post(f"/c/bat-trang/onestop/lookup/{code}/rate",
                                data={"level": "unsatisfied", "reason": "Chờ\x00lâu", "csrf_token": token}))
    # the officer's upload, and the staff search
    login(client, "officer@battrang.vn")
    token = csrf_token(client, f"/c/bat-trang/onestop/d/{dossier_id}")
    assert _refused(client.post(f"/c/bat-trang/onestop/d/{dossier_id}/documents", content_type="multipart/form-data",
                                data={"file": (io.BytesIO(PDF), "giay\x00to.pdf"), "csrf_token": token}))
    assert _refused(client.get("/c/bat-trang/onestop/?q=Nguy%E1%BB%85n%00"))

    assert (_count(app, commune, Dossier), _count(app, commune, Rating),
            _count(app, commune, DossierDocument)) == (dossiers, ratings, documents)
    # ...and the same requests without the NUL go through (the refusal is the character's, not the form's)
    assert client.get("/c/bat-trang/onestop/?q=Nguy%E1%BB%85n").status_code == 200
    response = client.post(f"/c/bat-trang/onestop/d/{dossier_id}/documents", content_type="multipart/form-data",
                           data={"file": (io.BytesIO(PDF), "giay-to.pdf"), "csrf_token": token})
    assert response.status_code in (302, 303) and _count(app, commune, DossierDocument) == documents + 1


def test_the_api_answers_a_control_character_in_stripes_shape(app, client):
    response = client.post("/v1/payment_intents", data={"amount": "1000", "currency": "vnd",
                                                        "description": "Phí\x00"},
                           headers={"Authorization": "Bearer sk_test_whatever"})
    body = json.loads(response.get_data(as_text=True))
    assert response.status_code == 400 and body["error"]["type"] == "invalid_request_error"
    assert body["error"]["param"] == "description"
