"""Commune admins set up markets and stalls and let stalls to vendors; the vendor list shows who has a bank account;
every market page answers a vendor sweep of garbage with 4xx, never a 500."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from tenants.market.models import Market, Stall
from tenants.scoping import tenant_context
from tests.conftest import csrf_token, login
from tests.tenants.market.helpers import admin, make_vendor  # noqa: F401 (admin: a fixture)
from tests.test_no_500 import GARBAGE, _routes


def post(client, path, data):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/c/trau-quy/market/markets")})


def test_an_admin_creates_a_market_adds_stalls_and_lets_one(app, client, admin):
    response = post(client, "/c/trau-quy/market/markets",
                    {"name": "Chợ Trâu Quỳ", "address": "Ngõ 1", "opening_hours": "05:00–19:00"})
    assert response.status_code == 302
    with app.app_context(), tenant_context(admin):
        market = db.session.scalar(select(Market))
    url = f"/c/trau-quy/market/markets/{market.id}"
    assert post(client, url, {"row": "Dãy A", "prefix": "a", "first": "1", "last": "14",
                              "goods_category": "meat"}).status_code == 302
    again = post(client, url, {"row": "Dãy A", "prefix": "A", "first": "14", "last": "15", "goods_category": "meat"})
    assert again.status_code == 400 and "already exist: A14" in again.get_data(as_text=True)
    with app.app_context(), tenant_context(admin):
        stalls = db.session.scalars(select(Stall).order_by(Stall.id)).all()
    assert [s.number for s in stalls] == [f"A{n:02d}" for n in range(1, 15)]
    assert {s.goods_category for s in stalls} == {"meat"}
    vendor = make_vendor(app, admin, name="Thịt lợn Hùng")
    assert post(client, "/c/trau-quy/market/stalls/assign",
                {"stall_id": stalls[4].id, "vendor_id": vendor.id}).status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Thịt lợn Hùng" in page
    listing = client.get("/c/trau-quy/market/vendors").get_data(as_text=True)
    assert "A05" in listing and vendor.account_number in listing
    with app.app_context(), tenant_context(admin):
        assert db.session.get(Stall, stalls[4].id).vendor_id == vendor.id
    post(client, "/c/trau-quy/market/stalls/assign", {"stall_id": stalls[4].id, "vendor_id": ""})
    with app.app_context(), tenant_context(admin):
        assert db.session.get(Stall, stalls[4].id).vendor_id is None


def test_a_bad_stall_range_is_refused_and_nothing_added(app, client, admin):
    post(client, "/c/trau-quy/market/markets", {"name": "Chợ Trâu Quỳ"})
    with app.app_context(), tenant_context(admin):
        market = db.session.scalar(select(Market))
    for first, last in (("5", "1"), ("1", "900"), ("0", "3")):
        response = post(client, f"/c/trau-quy/market/markets/{market.id}",
                        {"first": first, "last": last, "goods_category": "fish"})
        assert response.status_code == 400
    with app.app_context(), tenant_context(admin):
        assert db.session.scalars(select(Stall)).all() == []


def test_market_routes_answer_a_vendors_garbage_without_500(app, client, make, monkeypatch):
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    tenant = make.tenant("xa-a", "A")
    vendor = make_vendor(app, tenant)
    login(client, vendor.email)
    token = csrf_token(client, "/c/xa-a/market/me/sales")
    failures = []
    for method, path in _routes(app):
        if "/market" not in path:
            continue
        for data in ({**GARBAGE, "csrf_token": token}, GARBAGE, None):
            response = client.open(path, method=method, data=data)
            if response.status_code >= 500:
                failures.append(f"{method} {path} -> {response.status_code}")
            if method == "GET":
                break
    assert failures == []


def test_nul_characters_are_refused_and_nothing_is_stored(app, client, admin):
    """PostgreSQL text cannot hold NUL: the request is refused with a clear message (app/bounds.py), not stored."""
    response = post(client, "/c/trau-quy/market/markets", {"name": "Chợ\x00 Mới", "address": "\x00"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and ("control character" in page or "ký tự điều khiển ẩn" in page)
    with app.app_context(), tenant_context(admin):
        assert db.session.scalar(select(Market)) is None


def test_a_refused_letting_goes_back_to_the_market_page_with_the_reason_and_changes_nothing(app, client, admin):
    """The assignment form is posted from a market's page: a domain error is flashed there (app/errors.py)."""
    from tests.tenants.market.helpers import make_market

    market_id, stall_ids = make_market(app, admin)
    vendor = make_vendor(app, admin, name="Cá tươi Lan")
    with app.app_context(), tenant_context(admin):
        from tenants.market import services

        services.deactivate_vendor(vendor.id, admin.id)
        db.session.commit()
    page = f"/c/trau-quy/market/markets/{market_id}"
    response = client.post("/c/trau-quy/market/stalls/assign", headers={"Referer": f"http://localhost{page}"},
                           data={"stall_id": stall_ids[0], "vendor_id": vendor.id,
                                 "csrf_token": csrf_token(client, page)})
    assert response.status_code == 302 and response.headers["Location"] == page
    assert "This vendor is deactivated." in client.get(page).get_data(as_text=True)
    with app.app_context(), tenant_context(admin):
        assert db.session.get(Stall, stall_ids[0]).vendor_id is None
