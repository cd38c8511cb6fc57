"""What officials and users expect, in a real browser (#19): the API keys page at 1366 px, with its revoke buttons
in view and a reload that creates no second key; a payment page that counts days as days."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.conftest import TEST_PASSWORD
from tests.e2e.axe import assert_accessible
from tests.e2e.test_hosted_payment import make_intent
from tests.e2e.test_security_journeys import sign_in
from tests.payments.helpers import make_account

pytestmark = pytest.mark.e2e
DESKTOP = {"width": 1366, "height": 768}


def test_the_api_keys_page_fits_1366_px_and_a_reload_creates_no_second_key(app, browser_page, make):
    tenant = make.tenant("bat-trang", name="Bát Tràng")
    make_account(app, tenant, "1130005830001")
    make.user("admin.bat-trang@gialam.demo", "commune_admin", tenant)
    page = browser_page
    page.set_viewport_size(DESKTOP)
    sign_in(page, "admin.bat-trang@gialam.demo")
    page.wait_for_url("**/c/bat-trang/desk")
    page.goto("/c/bat-trang/payments/keys/")
    for _ in range(2):
        page.locator("#password").fill(TEST_PASSWORD)  # a key moves money: the password again (#16 item 16)
        page.get_by_test_id("create-key").click()
        page.wait_for_url("**/c/bat-trang/payments/keys/")
    page.locator("[data-testid^=revoke-]").first.click()  # one revoked: its status is the longest cell
    page.wait_for_url("**/c/bat-trang/payments/keys/")
    page.locator("#password").fill(TEST_PASSWORD)
    page.get_by_test_id("create-key").click()
    page.wait_for_url("**/c/bat-trang/payments/keys/")
    assert page.get_by_test_id("new-key-secret").is_visible()
    rows = page.locator("[data-testid=keys-table] tbody tr").count()
    page.reload()
    assert page.locator("[data-testid=keys-table] tbody tr").count() == rows  # no second key
    assert page.get_by_test_id("new-key-secret").count() == 0  # and the secret is not shown again
    page.screenshot(path="/tmp/e2e_api_keys_1366.png", full_page=True)
    wrap = page.locator(".table-wrap").first
    assert wrap.evaluate("w => w.scrollWidth <= w.clientWidth")  # nothing cut off, nothing to scroll to
    for button in page.locator("[data-testid^=revoke-]").all():
        box = button.bounding_box()
        assert box["x"] + box["width"] <= DESKTOP["width"]
    assert_accessible(page)
    assert page.js_errors == []


@pytest.mark.parametrize("ttl, shown", [(timedelta(days=3), r"3 ngày 0 giờ|2 ngày 23 giờ"),
                                        (timedelta(hours=2), r"2:00:0\d|1:59:\d\d"),
                                        (timedelta(minutes=10), r"10:0\d|09:\d\d")])
def test_the_payment_page_counts_a_long_deadline_in_days_and_hours(app, browser_page, make, ttl, shown):
    intent = make_intent(app, make, ttl=ttl)
    page = browser_page
    page.goto(f"/pay/{intent.public_id}")
    countdown = page.get_by_test_id("countdown")
    page.wait_for_function("el => !el.textContent.includes('đến')", arg=countdown.element_handle())
    assert re.fullmatch(shown, countdown.inner_text().strip())
    assert page.js_errors == []


def test_a_vendors_sale_form_does_not_cover_the_ledger_on_a_phone(app, browser_page, make):
    from app.extensions import db
    from tenants.market import services as market_services
    from tenants.scoping import tenant_context
    from tests.tenants.market.helpers import make_vendor

    tenant = make.tenant("trau-quy", "Trâu Quỳ", kind="thị trấn")
    vendor = make_vendor(app, tenant)
    with app.app_context(), tenant_context(tenant):
        for n in range(12):
            market_services.record_cash_sale(vendor.id, str(10_000 + n * 1_000))
        db.session.commit()
    page = browser_page
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, vendor.email)
    page.goto("/c/trau-quy/market/me/sales")
    rows = page.locator("[data-testid=sales] li a")
    assert rows.count() == 12
    for row in (rows.first, rows.last):
        row.scroll_into_view_if_needed()
        # what is drawn at the middle of the sale's line is that line, not the sale form over it
        assert row.evaluate("""a => { const r = a.getBoundingClientRect();
                                      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
                                      return a.contains(hit); }""")
    assert page.js_errors == []
