"""The market demo: Trâu Quỳ market with 84 stalls and 84 vendors, all with a bank account; smaller markets elsewhere
with adoption below 100 %; sales mostly by QR; vendor logins vendor.<slug>.<n>@gialam.demo; seeded once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from tenants.market import demo as market_demo
from tenants.market import queries
from tenants.market.models import MarketSale
from tenants.scoping import all_tenants, tenant_context
from tests.conftest import login


def test_the_demo_markets_vendors_and_sales(app, client, make):
    tenants = {slug: make.tenant(slug) for slug, *_rest in market_demo.MARKETS}
    with app.app_context():
        counts = market_demo.seed(app.config["DEMO_PASSWORD"], days=7)
    assert counts["markets"] == 5 and counts["vendors"] == 84 + 16 + 12 + 14 + 10
    with app.app_context():
        figures = {}
        for slug, tenant in tenants.items():
            with tenant_context(tenant):
                figures[slug] = (queries.vendor_figures(), queries.market_count(),
                                 queries.sales_totals(queries.today() - timedelta(days=6), queries.today()))
    (vendors, with_account), (markets, stalls, let), totals = figures["trau-quy"]
    assert (vendors, with_account, markets, stalls, let) == (84, 84, 1, 84, 84)
    assert totals.sales > 84 and totals.qr_sales / totals.sales > 0.6  # mostly QR
    for slug in ("ninh-hiep", "bat-trang", "thi-tran-yen-vien", "kieu-ky"):
        (vendors, with_account), _markets, totals = figures[slug]
        assert 0 < with_account < vendors, slug  # adoption below 100 %
        assert totals.qr_sales < totals.sales
    with app.app_context(), all_tenants():
        assert db.session.scalar(select(func.count()).select_from(MarketSale)
                                 .where(MarketSale.demo.is_(False))) == 0
    # a demo vendor signs in with the demo password and lands on their sales
    assert login(client, "vendor.trau-quy.84@gialam.demo", app.config["DEMO_PASSWORD"]).status_code == 302
    assert client.get("/home").headers["Location"].endswith("/c/trau-quy/vendor/")  # the vendor's home...
    assert client.get("/c/trau-quy/vendor/").headers["Location"].endswith("/c/trau-quy/market/me/sales")  # sells
    page = client.get("/c/trau-quy/market/me/sales").get_data(as_text=True)
    assert page.count('class="sale-amount"') > 3
    assert client.get("/c/trau-quy/market/me/poster/a6.png").status_code == 200
    # seeding again adds nothing
    with app.app_context():
        assert market_demo.seed(app.config["DEMO_PASSWORD"], days=7)["vendors"] == 0


def test_seed_demo_runs_the_market_demo(app, runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "Chợ Trâu Quỳ (84 vendors" in result.output
    assert "vendor.trau-quy.1@gialam.demo" in result.output


def test_the_district_counts_the_136_seeded_market_vendors_and_no_producer(app, runner):
    """#19 item 2: the demo's producers (marketplace shops) are not market vendors; communes without a market show
    none, not "100 % with a bank account" from one producer."""
    from app.clock import utcnow
    from tenants.models import Tenant

    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    today = utcnow().date()
    with app.app_context():
        figures = queries.district_figures(today - timedelta(days=30), today)
        with all_tenants():
            with_market = {t.id for t in db.session.scalars(select(Tenant).where(
                Tenant.slug.in_(["trau-quy", "ninh-hiep", "bat-trang", "thi-tran-yen-vien", "kieu-ky"])))}
    assert sum(f["vendors"] for f in figures.values()) == 136
    assert all(f["vendors"] == 0 for tenant_id, f in figures.items() if tenant_id not in with_market)
