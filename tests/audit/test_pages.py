"""The trail's pages: a commune admin reads the commune's trail, the district reads every chain; filters and a CSV;
nobody can change an entry through the application."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.audit.helpers import entries
from tests.conftest import csrf_token, login


@pytest.fixture
def communes(app, client, make):
    a, b = make.tenant("xa-a", "Xã A"), make.tenant("xa-b", "Xã B")
    make.user("admin@a.vn", "commune_admin", a)
    make.user("officer@a.vn", "officer", a)
    make.user("admin@b.vn", "commune_admin", b)
    make.user("district@gialam.demo", "district_admin")
    make.notice(a, "Thông báo của A")
    make.notice(b, "Thông báo của B")
    return a, b


def _notice(client, tenant, title: str, address: str = "127.0.0.1"):
    token = csrf_token(client, f"/c/{tenant.slug}/notices/new")
    response = client.post(f"/c/{tenant.slug}/notices/new", data={"title": title, "body": "", "csrf_token": token},
                           environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 302


def test_a_commune_admin_reads_their_communes_trail_only(client, communes):
    a, b = communes
    login(client, "admin@a.vn")
    _notice(client, a, "Họp dân ngày 5", "198.51.100.4")
    page = client.get(f"/c/{a.slug}/audit/").get_data(as_text=True)
    assert "Thông báo của A" in page and "Họp dân ngày 5" in page and "198.51.100.4" in page
    assert "admin@a.vn" in page
    assert "Thông báo của B" not in page and "admin@b.vn" not in page


@pytest.mark.parametrize("who", ["officer@a.vn", "admin@b.vn"])
def test_officers_and_other_communes_admins_get_404(client, communes, who):
    a, _b = communes
    login(client, who)
    assert client.get(f"/c/{a.slug}/audit/").status_code == 404
    assert client.get(f"/c/{a.slug}/audit/trail.csv").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, communes):
    a, _b = communes
    assert client.get(f"/c/{a.slug}/audit/").status_code == 302
    assert client.get("/district/audit/").status_code == 302


def test_the_district_reads_every_chain_and_filters_by_commune(client, communes):
    a, b = communes
    login(client, "district@gialam.demo")
    page = client.get("/district/audit/").get_data(as_text=True)
    assert "Thông báo của A" in page and "Thông báo của B" in page and "district@gialam.demo" in page
    only_b = client.get("/district/audit/?commune=xa-b").get_data(as_text=True)
    assert "Thông báo của B" in only_b and "Thông báo của A" not in only_b
    district = client.get("/district/audit/?commune=district").get_data(as_text=True)
    assert "Thông báo của" not in district and "district@gialam.demo" in district


def test_a_commune_admin_may_not_read_the_district_trail(client, communes):
    login(client, "admin@a.vn")
    assert client.get("/district/audit/").status_code == 403


def test_filters_by_who_what_record_and_day(app, client, communes):
    a, _b = communes
    login(client, "admin@a.vn")
    _notice(client, a, "Lịch tiêm chủng")
    notice_id = [e for e in entries(app, table_name="notices") if e["tenant_id"] == a.id][-1]["record_id"]
    by_who = client.get(f"/c/{a.slug}/audit/?who=ADMIN@A").get_data(as_text=True)
    assert "Lịch tiêm chủng" in by_who and "Thông báo của A" not in by_who  # the factory's notice had no user
    by_what = client.get(f"/c/{a.slug}/audit/?table=tenants").get_data(as_text=True)
    assert "Xã A" in by_what and "Lịch tiêm chủng" not in by_what
    by_record = client.get(f"/c/{a.slug}/audit/?table=notices&record={notice_id}").get_data(as_text=True)
    assert "Lịch tiêm chủng" in by_record and "Thông báo của A" not in by_record
    by_action = client.get(f"/c/{a.slug}/audit/?action=sign_in").get_data(as_text=True)
    assert "admin@a.vn" in by_action and "Lịch tiêm chủng" not in by_action
    empty = client.get(f"/c/{a.slug}/audit/?since=2001-01-01&until=2001-01-31")
    assert empty.status_code == 200 and 'data-testid="audit-empty"' in empty.get_data(as_text=True)


@pytest.mark.parametrize("query", ["since=2026-02-30", "until=0001-01-01", "since=2026-05-02&until=2026-05-01",
                                   "table=nothing", "action=drop", "who=" + "x" * 300])
def test_bad_filters_answer_400_with_a_message(client, communes, query):
    a, _b = communes
    login(client, "admin@a.vn")
    response = client.get(f"/c/{a.slug}/audit/?{query}&lang=en")
    assert response.status_code == 400
    assert 'class="field-error"' in response.get_data(as_text=True)
    assert client.get(f"/c/{a.slug}/audit/trail.csv?{query}").status_code == 400


def test_the_csv_has_every_matching_entry_with_its_digests_and_is_recorded(app, client, communes):
    a, _b = communes
    login(client, "admin@a.vn")
    _notice(client, a, "=HYPERLINK(\"http://x\")")
    response = client.get(f"/c/{a.slug}/audit/trail.csv?table=notices")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["No.", "Commune", "Time (Hà Nội)"]
    chain_a = {str(e["seq"]): e for e in entries(app, tenant_id=a.id)}
    assert len(rows) == 3 and all(row[7] == "notices" and row[10] == chain_a[row[0]]["digest"] for row in rows[1:])
    assert rows[2][9].startswith("{")  # a JSON cell, never a formula
    assert json.loads(rows[2][9])["title"] == [None, '=HYPERLINK("http://x")']
    [export] = entries(app, action="csv_export")
    assert export["tenant_id"] == a.id and export["changes"] == {"file": "audit-xa-a.csv", "rows": 2}


def test_the_pages_page_through_long_trails(app, client, make):
    tenant = make.tenant("xa-a", "Xã A")
    make.user("admin@a.vn", "commune_admin", tenant)
    for n in range(55):
        make.notice(tenant, f"Thông báo {n}")
    login(client, "admin@a.vn")
    first = client.get(f"/c/{tenant.slug}/audit/").get_data(as_text=True)
    assert first.count('data-testid="audit-entry"') == 50 and "Thông báo 54" in first
    second = client.get(f"/c/{tenant.slug}/audit/?page=2").get_data(as_text=True)
    assert second.count('data-testid="audit-entry"') == 8 and "Thông báo 0" in second
    assert client.get(f"/c/{tenant.slug}/audit/?page=999999999999").status_code == 200


def test_nothing_in_the_application_changes_or_removes_an_entry(app, client, communes):
    """No route of the trail takes anything but GET, and no route anywhere names an entry to change."""
    a, _b = communes
    login(client, "admin@a.vn")
    token = csrf_token(client, "/account/password")
    for url in (f"/c/{a.slug}/audit/", f"/c/{a.slug}/audit/trail.csv"):
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            assert client.open(url, method=method, data={"csrf_token": token}).status_code == 405
    for rule in app.url_map.iter_rules():
        if "audit" in rule.rule:
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule.rule
