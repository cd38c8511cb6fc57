"""The figures behind the charts, and the charts on the pages."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import update

from app.extensions import db
from app.payments import stats
from app.payments.accounts import create_account
from tests.payments.helpers import create_intent
from app.payments.models import PaymentIntent
from tenants.scoping import tenant_context
from tests.conftest import login
from tests.tenants.market.helpers import make_vendor


def _paid(app, tenant, amount: int, at: datetime, account_number: str = "113000583", vendor_id: int | None = None,
          ) -> None:
    """A succeeded payment into a new account of the commune, or of its vendor ``vendor_id``."""
    with app.app_context(), tenant_context(tenant):
        if vendor_id is None:
            account = create_account("Phí", "970415", account_number, "UBND")
        else:
            account = create_account("Sạp rau", "970415", account_number, "NGUYEN THI HUONG", owner_kind="vendor")
        intent = create_intent(account, amount)
        db.session.execute(update(PaymentIntent).where(PaymentIntent.id == intent.id).values(
            status="succeeded", amount_received=amount, succeeded_at=at))
        db.session.commit()


def test_received_per_day_groups_by_vietnamese_calendar_day(app, make):
    tenant = make.tenant("bat-trang")
    # 23:30 UTC on 26/11 is 06:30 on 27/11 in Hà Nội.
    _paid(app, tenant, 100_000, datetime(2026, 11, 26, 23, 30, tzinfo=timezone.utc))
    _paid(app, tenant, 50_000, datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc), "113000584")
    _paid(app, tenant, 70_000, datetime(2026, 11, 26, 10, 0, tzinfo=timezone.utc), "113000585")
    with app.app_context(), tenant_context(tenant):
        days = stats.received_per_day(days=3, today=date(2026, 11, 27))
    assert days == [(date(2026, 11, 25), 0), (date(2026, 11, 26), 70_000), (date(2026, 11, 27), 150_000)]


def test_received_per_day_counts_only_the_active_commune(app, make):
    a, b = make.tenant("bat-trang"), make.tenant("kieu-ky")
    now = datetime.now(timezone.utc)
    _paid(app, a, 100_000, now)
    _paid(app, b, 900_000, now, "113000598")
    with app.app_context(), tenant_context(a):
        assert sum(amount for _day, amount in stats.received_per_day()) == 100_000


def test_money_paid_into_a_vendors_own_account_is_not_the_communes(app, client, make):
    """QR sales and marketplace orders are paid into vendors' accounts: no commune figure counts them, neither the
    commune's days, the district's ranking, the district's figures and months, nor the payments desk."""
    a = make.tenant("bat-trang", "Bát Tràng")
    make.user("officer@a.vn", "officer", a)
    vendor = make_vendor(app, a)
    now = datetime.now(timezone.utc)
    _paid(app, a, 100_000, now)
    _paid(app, a, 7_000_000, now, "113000590", vendor_id=vendor.id)
    with app.app_context(), tenant_context(a):
        assert sum(amount for _day, amount in stats.received_per_day()) == 100_000
    with app.app_context():
        assert [(t.slug, amount, count) for t, amount, count in stats.received_per_commune()] == [
            ("bat-trang", 100_000, 1)]
        window = (now - timedelta(days=1), now + timedelta(days=1))
        assert stats.district_figures(*window) == {a.id: {"money_received": 100_000, "payments": 1}}
        months = stats.district_monthly(*window).values()  # the window may straddle two months
        assert sum(m[a.id]["money_received"] for m in months if a.id in m) == 100_000
        assert sum(m[a.id]["payments"] for m in months if a.id in m) == 1
    login(client, "officer@a.vn")
    page = client.get("/c/bat-trang/payments/").get_data(as_text=True)
    chart = page.split('data-testid="daily-chart"')[1].split("</figure>")[0]
    assert "100.000 ₫" in chart and "7.000.000 ₫" not in chart and "7.100.000 ₫" not in chart
    # The desk's table lists the commune's own payments; the vendors' are behind their own tab.
    table = page.split('data-testid="payments-table"')[1].split("</table>")[0]
    assert table.count('data-testid="payment-row"') == 1 and "100.000 ₫" in table and "7.000.000 ₫" not in table
    assert 'data-testid="payments-total">1<' in page
    vendors = client.get("/c/bat-trang/payments/?owner=vendor").get_data(as_text=True)
    table = vendors.split('data-testid="payments-table"')[1].split("</table>")[0]
    assert table.count('data-testid="payment-row"') == 1 and "7.000.000 ₫" in table and "100.000 ₫" not in table


def test_received_per_commune_ranks_every_active_commune(app, make):
    a, b = make.tenant("bat-trang", "Bát Tràng"), make.tenant("kieu-ky", "Kiêu Kỵ")
    make.tenant("da-ton", "Đa Tốn")
    now = datetime.now(timezone.utc)
    _paid(app, a, 100_000, now)
    _paid(app, b, 900_000, now, "113000598")
    _paid(app, b, 5_000_000, now - timedelta(days=40), "113000599")  # outside the window
    with app.app_context():
        rows = [(t.slug, amount, count) for t, amount, count in stats.received_per_commune()]
    assert rows == [("kieu-ky", 900_000, 1), ("bat-trang", 100_000, 1), ("da-ton", 0, 0)]


def test_district_and_commune_pages_show_their_charts(app, client, make):
    a = make.tenant("bat-trang", "Bát Tràng")
    make.user("district@gialam.demo", "district_admin")
    make.user("officer@a.vn", "officer", a)
    _paid(app, a, 1_250_000, datetime.now(timezone.utc))
    login(client, "district@gialam.demo")
    page = client.get("/district/").get_data(as_text=True)
    assert 'data-testid="district-chart"' in page and "1.250.000 ₫" in page
    client.post("/logout", data={"csrf_token": ""})
    client.delete_cookie("session")
    login(client, "officer@a.vn")
    page = client.get("/c/bat-trang/payments/").get_data(as_text=True)
    assert 'data-testid="daily-chart"' in page and "1.250.000 ₫" in page


def test_a_commune_with_no_money_yet_sees_a_sentence_not_an_empty_chart(app, client, make):
    a = make.tenant("bat-trang", "Bát Tràng")
    make.user("officer@a.vn", "officer", a)
    login(client, "officer@a.vn")
    page = client.get("/c/bat-trang/payments/?lang=en").get_data(as_text=True)
    assert 'data-testid="daily-chart-empty"' in page and "Nothing received in this period." in page
    assert "<svg" not in page.split('data-testid="daily-chart"')[1].split("</figure>")[0]
