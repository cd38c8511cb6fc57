"""The commune's figures (dashboard and public JSON) and the district's, checked against a small data set computed
by hand:

Trâu Quỳ, period = the last 30 days
  vendors   V1 (stall A01, Chợ Trâu Quỳ, vegetables), V2 (stall B01, Chợ Cầu, meat), V3 (no stall), all with a bank
            account; V4 registered without one; V5 deactivated (not counted)    -> 4 vendors, 3 with an account
  sales     V1 QR 100.000, QR 50.000, cash 30.000; V2 QR 200.000, cash 20.000, QR 70.000 still waiting;
            V3 cash 10.000 forty days ago (outside the period)
            -> 5 sales, 400.000 ₫; by QR 3 sales, 350.000 ₫ (60 % of sales, 87,5 % of the amount)
            -> per market: Chợ Cầu 220.000, Chợ Trâu Quỳ 180.000; per category: vegetables 180.000, meat 220.000
Bát Tràng: one vendor with an account, one cash sale of 99.000 ₫.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import update

from app.extensions import db
from tenants.market import payments, queries, services
from tenants.market.models import MarketSale
from tenants.vendors.models import Vendor
from tenants.scoping import tenant_context
from tests.conftest import login
from tests.tenants.market.helpers import make_market, make_vendor
from tests.district.helpers import month_periods, record_builds

CLERK = SimpleNamespace(id=None, email="bank@test", sign_in_name="bank@test")


def qr_paid(app, tenant, vendor_id, amount) -> None:
    with app.app_context(), tenant_context(tenant):
        sale = services.record_qr_sale(vendor_id, amount)
        db.session.commit()
        payments.confirm_sale_by_hand(payments.lock_sale_intent(sale.intent_id), amount, CLERK, "test")
        db.session.commit()


def qr_waiting(app, tenant, vendor_id, amount) -> None:
    with app.app_context(), tenant_context(tenant):
        services.record_qr_sale(vendor_id, amount)
        db.session.commit()


def cash(app, tenant, vendor_id, amount, days_ago: int = 0) -> None:
    with app.app_context(), tenant_context(tenant):
        sale = services.record_cash_sale(vendor_id, amount)
        db.session.flush()
        if days_ago:
            when = datetime.now(timezone.utc) - timedelta(days=days_ago)
            db.session.execute(update(MarketSale).where(MarketSale.id == sale.id)
                               .values(created_at=when, paid_at=when))
        db.session.commit()


@pytest.fixture
def data(app, make):
    trau_quy = make.tenant("trau-quy", "Trâu Quỳ")
    bat_trang = make.tenant("bat-trang", "Bát Tràng")
    _, stalls_a = make_market(app, trau_quy, "Chợ Trâu Quỳ", stalls=2)
    with app.app_context(), tenant_context(trau_quy):
        cau = services.create_market("Chợ Cầu")
        [b01] = services.add_stalls(cau.id, "B", 1, 1, "B", "meat")
        db.session.commit()
        b01 = b01.id
    v1 = make_vendor(app, trau_quy, stall_id=stalls_a[0])
    v2 = make_vendor(app, trau_quy, stall_id=b01, goods_category="meat")
    v3 = make_vendor(app, trau_quy)
    v5 = make_vendor(app, trau_quy)
    with app.app_context(), tenant_context(trau_quy):
        db.session.add(Vendor(business_name="Hàng khô Lan", slug="hang-kho-lan", owner_name="Lan", phone="0900000000",
                              goods_category="dry_goods"))  # V4: registered before it had a bank account
        services.deactivate_vendor(v5.id, trau_quy.id)
        db.session.commit()
    qr_paid(app, trau_quy, v1.id, 100_000)
    qr_paid(app, trau_quy, v1.id, 50_000)
    cash(app, trau_quy, v1.id, 30_000)
    qr_paid(app, trau_quy, v2.id, 200_000)
    cash(app, trau_quy, v2.id, 20_000)
    qr_waiting(app, trau_quy, v2.id, 70_000)
    cash(app, trau_quy, v3.id, 10_000, days_ago=40)
    w = make_vendor(app, bat_trang)
    cash(app, bat_trang, w.id, 99_000)
    return {"trau_quy": trau_quy, "bat_trang": bat_trang}


def test_the_public_json_matches_the_hand_computed_figures(client, data):
    response = client.get("/api/c/trau-quy/market/stats")
    assert response.status_code == 200
    stats = response.get_json()
    assert {k: stats[k] for k in ("vendors", "vendors_with_bank_account", "bank_account_adoption", "sales",
                                  "sales_amount", "qr_sales", "qr_sales_amount", "qr_share_count",
                                  "qr_share_amount", "markets", "stalls", "stalls_let")} == {
        "vendors": 4, "vendors_with_bank_account": 3, "bank_account_adoption": 0.75, "sales": 5,
        "sales_amount": 400_000, "qr_sales": 3, "qr_sales_amount": 350_000, "qr_share_count": 0.6,
        "qr_share_amount": 0.875, "markets": 2, "stalls": 3, "stalls_let": 2}
    longer = client.get("/api/c/trau-quy/market/stats?days=60").get_json()
    assert (longer["sales"], longer["sales_amount"]) == (6, 410_000)
    assert client.get("/api/c/bat-trang/market/stats").get_json()["sales_amount"] == 99_000


@pytest.mark.parametrize("days", ["0", "367", "x", "-3"])
def test_a_bad_period_is_a_400_in_json(client, data, days):
    response = client.get(f"/api/c/trau-quy/market/stats?days={days}")
    assert response.status_code == 400 and "error" in response.get_json()


def test_unknown_commune_is_404(client, data):
    assert client.get("/api/c/nowhere/market/stats").status_code == 404


def test_per_day_per_market_and_per_category(app, data):
    with app.app_context(), tenant_context(data["trau_quy"]):
        end = queries.today()
        start = end - timedelta(days=29)
        assert [(name, t.amount, t.qr_amount) for name, t in queries.sales_per_market(start, end)] == [
            ("Chợ Cầu", 220_000, 200_000), ("Chợ Trâu Quỳ", 180_000, 150_000)]
        assert [(code, t.amount) for code, t in queries.sales_per_category(start, end)] == [
            ("vegetables", 180_000), ("meat", 220_000)]
        per_day = queries.sales_per_day(start, end)
        assert len(per_day) == 30 and per_day[-1][0] == end
        assert [(t.sales, t.amount, t.qr_sales) for _d, t in per_day if t.sales] == [(5, 400_000, 3)]


def test_district_figures_per_commune_in_one_query(app, data):
    from tests.conftest import count_queries

    end = datetime.now(timezone.utc).date() + timedelta(days=1)
    start = end - timedelta(days=30)
    with count_queries(app) as statements, app.app_context():
        figures = queries.district_figures(start, end)
    assert len([s for s in statements if "set_config" not in s]) == 1
    assert figures == {
        data["trau_quy"].id: {"vendors": 4, "vendors_with_bank_account": 3, "sales": 5, "qr_sales": 3,
                              "sales_amount": 400_000, "qr_sales_amount": 350_000},
        data["bat_trang"].id: {"vendors": 1, "vendors_with_bank_account": 1, "sales": 1, "qr_sales": 0,
                               "sales_amount": 99_000, "qr_sales_amount": 0},
    }


def test_the_dashboard_shows_the_figures_and_charts_to_staff_only(app, client, make, data):
    make.user("officer@trauquy.vn", "officer", data["trau_quy"])
    login(client, "officer@trauquy.vn")
    page = client.get("/c/trau-quy/market/?days=30").get_data(as_text=True)
    assert "400.000 ₫" in page  # the total the QR share is of
    for testid in ("chart-adoption", "chart-qr-share", "chart-per-day", "chart-per-market", "chart-per-category"):
        assert f'data-testid="{testid}"' in page
    assert '<span class="stat-value" data-testid="stat-vendors">4</span>' in page
    assert '<span class="stat-value" data-testid="stat-adoption">75 %</span>' in page
    assert '<span class="stat-value" data-testid="stat-qr-count">60 %</span>' in page
    assert '<span class="stat-value" data-testid="stat-qr-amount">88 %</span>' in page
    assert "350.000 ₫" in page
    other = app.test_client()
    make.user("officer@battrang.vn", "officer", data["bat_trang"])
    login(other, "officer@battrang.vn")
    assert other.get("/c/trau-quy/market/").status_code == 404


def _served(app, client, path):
    cache = app.extensions["response_cache"]
    hits = cache.hits
    response = client.get(path)
    assert response.status_code == 200
    return response, cache.hits == hits + 1


def test_the_public_json_is_cached_and_fresh_after_a_sale_or_a_new_vendor(app, client, data):
    path = "/api/c/trau-quy/market/stats"
    client.get(path)
    assert _served(app, client, path)[1]  # the same for every visitor: stored
    v = make_vendor(app, data["trau_quy"])  # a vendor onboarded with a bank account
    response, hit = _served(app, client, path)
    assert not hit and (response.get_json()["vendors"], response.get_json()["vendors_with_bank_account"]) == (5, 4)
    assert _served(app, client, path)[1]
    qr_paid(app, data["trau_quy"], v.id, 25_000)
    response, hit = _served(app, client, path)
    assert not hit and (response.get_json()["qr_sales"], response.get_json()["sales_amount"]) == (4, 425_000)
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def _sales_by_python(app, start, end) -> dict[int, dict[str, int]]:
    """The period's paid sales per commune, summed in Python from every sale row (the reference for the SQL)."""
    from app.clock import as_utc
    from tenants.market.statuses import PAID, QR
    from tenants.scoping import all_tenants

    since, until = queries.local_midnight(start), queries.local_midnight(end + timedelta(days=1))
    out: dict[int, dict[str, int]] = {}
    with app.app_context(), all_tenants():
        for sale in db.session.query(MarketSale):
            if sale.status == PAID and since <= as_utc(sale.paid_at) < until:
                row = out.setdefault(sale.tenant_id, {"sales": 0, "qr_sales": 0, "sales_amount": 0,
                                                      "qr_sales_amount": 0})
                row["sales"] += 1
                row["sales_amount"] += sale.amount
                row["qr_sales"] += sale.method == QR
                row["qr_sales_amount"] += sale.amount if sale.method == QR else 0
    return out


def test_the_district_statement_is_built_once_and_answers_each_period_as_python_would(app, data, monkeypatch):
    """Issue #17: the statement was rebuilt on every request; now built once per process with the period bound at
    execution. Periods asked one after the other each get their own answer, equal to summing the rows in Python."""
    built = record_builds(monkeypatch, queries)
    today = datetime.now(timezone.utc).date() + timedelta(days=1)
    keys = ("sales", "qr_sales", "sales_amount", "qr_sales_amount")
    for days in (30, 60, 1, 60, 30):  # the cash sale of forty days ago is in the 60 days only
        start = today - timedelta(days=days)
        with app.app_context():
            answer = queries.district_figures(start, today)
        by_sql = {tid: {k: v[k] for k in keys} for tid, v in answer.items() if v["sales"]}
        assert by_sql == _sales_by_python(app, start, today), days
        assert answer[data["trau_quy"].id]["sales"] == {30: 5, 60: 6, 1: 5}[days]
    with app.app_context():
        monthly = queries.district_monthly(today - timedelta(days=60), today)
    for month, per_commune, first, last in month_periods(monthly, today - timedelta(days=60), today):
        expected = _sales_by_python(app, first, last)
        assert {tid: {k: v[k] for k in keys} for tid, v in per_commune.items() if v["sales"]} == expected, month
    assert built == [False, True]  # once each, whatever the number of requests
