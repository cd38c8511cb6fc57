"""The district dashboard in a phone-sized browser: a period, the score's formula, the CSV, the drill-down."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import update

from app.extensions import db
from app.payments.accounts import create_account
from app.payments.models import PaymentIntent
from tenants.scoping import tenant_context
from tests.conftest import TEST_PASSWORD
from tests.payments.helpers import create_intent

pytestmark = pytest.mark.e2e


def test_the_district_leader_reads_a_period_the_formula_and_downloads_the_csv(app, browser_page, make):
    tenant = make.tenant("bat-trang", name="Bát Tràng")
    make.tenant("kieu-ky", name="Kiêu Kỵ")
    make.user("district@gialam.demo", "district_admin")
    with app.app_context(), tenant_context(tenant):
        account = create_account("Phí", "970415", "113000583", "UBND XA BAT TRANG")
        intent = create_intent(account, 1_250_000)
        db.session.execute(update(PaymentIntent).where(PaymentIntent.id == intent.id).values(
            status="succeeded", amount_received=1_250_000,
            succeeded_at=datetime(2026, 11, 12, 3, 0, tzinfo=timezone.utc)))
        db.session.commit()
    page = browser_page
    page.goto("/login")
    page.get_by_test_id("email").fill("district@gialam.demo")
    page.get_by_test_id("password").fill(TEST_PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url("**/district/")

    page.get_by_label("Từ ngày").fill("2026-11-01")
    page.get_by_label("Đến ngày").fill("2026-11-30")
    page.get_by_role("button", name="Xem").click()
    page.wait_for_url("**/district/?from=2026-11-01&to=2026-11-30")
    row = page.get_by_test_id("figures-bat-trang")
    assert "1.250.000 ₫" in row.inner_text()
    assert "1.250.000 ₫" in page.get_by_test_id("figures-total").inner_text()
    assert page.get_by_test_id("district-chart").is_visible()

    formula = page.get_by_test_id("score-formula")
    formula.locator("summary").click()
    assert "Σ" in formula.inner_text() and "Quyết định 766" in formula.inner_text()
    # Nothing wider than the phone, formula table included: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    with page.expect_download() as download_info:
        page.get_by_test_id("district-csv").click()
    download = download_info.value
    assert download.suggested_filename == "gia-lam-2026-11-01-2026-11-30.csv"
    text = open(download.path(), encoding="utf-8-sig").read()
    assert "bat-trang" in text and "1250000" in text

    row.get_by_role("link", name="Xã Bát Tràng").click()
    page.wait_for_url("**/c/bat-trang/desk")
    assert page.js_errors == []
