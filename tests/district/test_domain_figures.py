"""The district dashboard with the real domains plugged in: one-stop dossiers, market sales and marketplace orders in
two communes, checked against counts made by hand; every integer total is the sum of the communes' values, and the
number of queries does not grow with the number of communes.

Period: 1 March 2026 to today (Hà Nội days, both included).

Bát Tràng   one-stop   the seven dossiers of tests/tenants/onestop/test_figures.py (six received in March; the two
                       still open were due in April, so they are late today)
            market     vendor M1 (bank account): QR 100.000 paid, cash 30.000
            marketplace vendor G: "binh" 250.000 x 2 paid by VietQR, "am" 450.000 x 1 ordered, not paid
            (G is a producer, not a market vendor: the market's figures count M1 alone)
Kiêu Kỵ     one-stop   one dossier, on time, fee paid by VietQR, result digitised, rated very satisfied
            market     vendor M2 (bank account): cash 99.000
            marketplace vendor V: "vang" 1.200.000 x 1 ordered, not paid
"""

from __future__ import annotations

import pytest

from app.district import figures
from app.district.queries import today
from tenants.scoping import tenant_context
from tests.conftest import count_queries, data_statements, login
from tests.marketplace.helpers import checkout, make_product, sub_orders
from tests.marketplace.helpers import make_vendor as marketplace_vendor
from tests.payments.helpers import post_sepay, sepay_payload
from tests.tenants.market.helpers import make_vendor as market_vendor
from tests.tenants.market.test_stats import cash, qr_paid
from tests.tenants.onestop.conftest import procedure
from tests.tenants.onestop.test_figures import ROWS, seed

DOMAIN_KEYS = figures.ONESTOP_KEYS + figures.MARKET_KEYS + figures.MARKETPLACE_KEYS


@pytest.fixture
def bank_secrets(app, monkeypatch):
    from tests.payments.helpers import SEPAY_KEY, SEPAY_SECRET

    for name, value in (("SEPAY_API_KEY", SEPAY_KEY), ("SEPAY_WEBHOOK_SECRET", SEPAY_SECRET), ("PRODUCTION", False)):
        monkeypatch.setitem(app.config, name, value)


def _dossiers(app, tenant, rows, prefix):
    from app.extensions import db

    with app.app_context(), tenant_context(tenant):
        seed(procedure().id, rows, prefix=prefix)
        db.session.commit()


@pytest.fixture
def district(app, client, make, bank_secrets):
    bat_trang = make.tenant("bat-trang", "Bát Tràng")
    kieu_ky = make.tenant("kieu-ky", "Kiêu Kỵ")
    _dossiers(app, bat_trang, ROWS, "BT")
    _dossiers(app, kieu_ky, ROWS[:1], "KK")
    m1, m2 = market_vendor(app, bat_trang), market_vendor(app, kieu_ky)
    qr_paid(app, bat_trang, m1.id, 100_000)
    cash(app, bat_trang, m1.id, 30_000)
    cash(app, kieu_ky, m2.id, 99_000)
    g = marketplace_vendor(app, bat_trang, "Gốm Minh Long")
    v = marketplace_vendor(app, kieu_ky, "Vàng quỳ Kiêu Kỵ")
    binh = make_product(app, bat_trang, g, "Bình gốm men lam", price=250_000, stock=5)
    am = make_product(app, bat_trang, g, "Ấm chén men rạn", price=450_000, stock=3)
    vang = make_product(app, kieu_ky, v, "Tranh vàng quỳ", price=1_200_000, stock=2)
    code = checkout(app, [(binh, 2), (vang, 1)])
    for sub in sub_orders(app, code):
        if sub["subtotal"] == 500_000:
            post_sepay(client, sepay_payload(sub["account_number"], sub["reference"], sub["amount"]))
    checkout(app, [(am, 1)])
    return bat_trang, kieu_ky


def _period() -> str:
    return f"from=2026-03-01&to={today().isoformat()}"


EXPECTED = {
    "bat-trang": {
        "received": 6, "on_time": 3, "online": 2, "cashless_paid": 1, "fee_dossiers": 3, "results": 3,
        "digitised": 3, "ratings_total": 3, "ratings_unsatisfied": 1, "overdue": 2,
        "vendors": 1, "vendors_with_bank_account": 1, "sales": 2, "qr_sales": 1, "sales_amount": 130_000,
        "qr_sales_amount": 100_000,
        "producers": 1, "products": 2, "orders": 2, "paid_value": 500_000,
    },
    "kieu-ky": {
        "received": 1, "on_time": 1, "online": 0, "cashless_paid": 1, "fee_dossiers": 1, "results": 1,
        "digitised": 1, "ratings_total": 1, "ratings_unsatisfied": 0, "overdue": 0,
        "vendors": 1, "vendors_with_bank_account": 1, "sales": 1, "qr_sales": 0, "sales_amount": 99_000,
        "qr_sales_amount": 0,
        "producers": 1, "products": 1, "orders": 1, "paid_value": 0,
    },
}


def test_each_domain_registers_its_provider_with_the_keys_it_returns():
    by_name = {p.name: p for p in figures.providers()}
    assert by_name["onestop"].keys == figures.ONESTOP_KEYS
    assert by_name["market"].keys == figures.MARKET_KEYS
    assert by_name["marketplace"].keys == figures.MARKETPLACE_KEYS


def test_the_public_json_has_every_domain_per_commune_and_totals_that_are_the_sums(client, district):
    data = client.get(f"/api/district/metrics?{_period()}").get_json()
    by_slug = {c["slug"]: c for c in data["communes"]}
    for slug, expected in EXPECTED.items():
        assert {k: by_slug[slug][k] for k in DOMAIN_KEYS} == expected, slug
    assert set(DOMAIN_KEYS) <= set(data["totals"])
    for key, total in data["totals"].items():
        assert total == sum(c[key] for c in data["communes"]), key
    assert data["totals"]["paid_value"] == 500_000 and data["totals"]["received"] == 7
    # The score uses every domain's rates: Kiêu Kỵ (all on time, paid by QR, satisfied) ranks first.
    assert by_slug["kieu-ky"]["rank"] == 1 and by_slug["bat-trang"]["rank"] == 2
    assert by_slug["kieu-ky"]["score"] > by_slug["bat-trang"]["score"]


def test_a_day_outside_the_period_is_not_counted(client, district):
    march = client.get("/api/district/metrics?from=2026-03-01&to=2026-03-31").get_json()
    by_slug = {c["slug"]: c for c in march["communes"]}
    assert by_slug["bat-trang"]["received"] == 6  # the dossier of 27 February is outside
    assert by_slug["bat-trang"]["sales"] == 0 and by_slug["bat-trang"]["orders"] == 0  # made today
    assert by_slug["bat-trang"]["products"] == 2  # published products are a stock, not a flow


def test_the_dashboard_shows_the_domain_figures_and_trends(client, make, district):
    make.user("district@gialam.demo", "district_admin")
    login(client, "district@gialam.demo")
    html = client.get(f"/district/?{_period()}&lang=en").get_data(as_text=True)
    table = html.split('data-testid="district-figures"')[1].split("</table>")[0]
    for label in ("Dossiers received", "Settled on time", "Vendors with a bank account", "Sales paid by QR",
                  "Producers", "Paid orders value"):
        assert label in table, label
    total_row = html.split('data-testid="figures-total"')[1].split("</tr>")[0]
    assert "500.000 ₫" in total_row and "229.000 ₫" in total_row  # paid orders; market sales 130.000 + 99.000
    for key in ("received", "sales_amount", "paid_value"):
        assert f'data-testid="trend-{key}"' in html


def _counts(app, client, paths):
    out = []
    for path in paths:
        with count_queries(app) as statements:
            assert client.get(path).status_code == 200
        out.append(len(data_statements(statements)))
    return out


def test_the_query_count_does_not_grow_with_communes_that_have_data(app, client, make, district):
    make.user("district@gialam.demo", "district_admin")
    login(client, "district@gialam.demo")
    paths = (f"/district/?{_period()}", f"/api/district/metrics?{_period()}")
    few = _counts(app, client, paths)
    for n in range(3):
        tenant = make.tenant(f"xa-{n}", f"Xã {n}")
        _dossiers(app, tenant, ROWS[:2], f"X{n}")
        cash(app, tenant, market_vendor(app, tenant).id, 10_000)
        product = make_product(app, tenant, marketplace_vendor(app, tenant, f"Hàng xã {n}"), f"Sản phẩm {n}")
        checkout(app, [(product, 1)])
    assert _counts(app, client, paths) == few
    data = client.get(f"/api/district/metrics?{_period()}").get_json()
    assert data["totals"]["received"] == 7 + 3 * 2 and data["totals"]["orders"] == 3 + 3


def test_the_monthly_trend_has_the_domains_in_their_hanoi_months(app, district):
    from datetime import date, datetime, timezone

    from app.district import queries
    from tenants.onestop import queries as onestop

    bat_trang, kieu_ky = district
    end = today()
    with app.app_context():
        trend = dict(queries.monthly_trend([bat_trang.id, kieu_ky.id], end))
        now = datetime.now(timezone.utc)
        by_month = onestop.district_monthly(date(2026, 2, 1), date(2026, 3, 31), now)
        assert by_month[date(2026, 3, 1)] == onestop.district_figures(date(2026, 3, 1), date(2026, 3, 31), now)
        assert by_month[date(2026, 2, 1)][bat_trang.id]["received"] == 1  # 27 February
    assert trend[date(2026, 3, 1)]["received"] == 7
    this_month = end.replace(day=1)
    assert trend[this_month]["sales_amount"] == 229_000 and trend[this_month]["paid_value"] == 500_000
    assert sum(totals["received"] for totals in trend.values()) == 7 + (1 if date(2026, 2, 1) in trend else 0)


def test_every_monthly_answer_equals_the_period_answer_for_each_month(app, district):
    """A provider's one-query monthly trend says, month by month, what its period function says for that month."""
    from datetime import date, timedelta

    end = today()
    start = date(2026, 2, 1)
    with app.app_context():
        providers = [p for p in figures.providers() if p.monthly is not None]
        assert {p.name for p in providers} >= {"payments", "onestop", "market", "marketplace"}
        for provider in providers:
            by_month = provider.monthly(start, end)
            month = start
            while month <= end:
                last = min((month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1), end)
                period = provider.compute(month, last)
                monthly = by_month.get(month, {})
                for tenant_id in set(period) | set(monthly):
                    zeros = dict.fromkeys(provider.keys, 0)
                    assert {**zeros, **monthly.get(tenant_id, {})} == {**zeros, **period.get(tenant_id, {})}, (
                        provider.name, month, tenant_id)
                month = last + timedelta(days=1)


def test_each_providers_statement_built_once_answers_as_one_built_for_the_call(app, district, monkeypatch):
    """#17: every provider's statement is built once per process and the period bound at execution
    (``figures.statement``). For periods asked one after the other (by day and by month, the empty, the partial and
    the whole), each answer equals the one a statement built afresh for that call gives."""
    from datetime import timedelta

    monkeypatch.setattr(figures, "_STATEMENTS", {})
    end = today()
    periods = [(end - timedelta(days=days), end) for days in (0, 29, 400)] + [(end.replace(day=1), end),
                                                                             (end - timedelta(days=800), end - timedelta(days=500))]
    with app.test_request_context("/"):
        kept = {}
        for start, stop in periods * 2:
            for provider in figures.providers():
                kept[provider.name, start, stop] = (provider.compute(start, stop),
                                                    provider.monthly and provider.monthly(start, stop))
        built = dict(figures._STATEMENTS)
        assert {name for name, _dialect, _by_month in built} >= {"onestop", "market", "marketplace", "payments",
                                                                 "heritage"}
        for start, stop in periods:
            for provider in figures.providers():
                figures._STATEMENTS.clear()  # built for this call
                fresh = provider.compute(start, stop)
                figures._STATEMENTS.clear()
                assert kept[provider.name, start, stop] == (fresh, provider.monthly and provider.monthly(start, stop))
        assert any(v for (_name, *_p), (v, _m) in kept.items()), "the data set counts something"
