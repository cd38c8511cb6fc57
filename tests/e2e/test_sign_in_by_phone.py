"""A stallholder with no e-mail address, on a 360 px phone (#19): the invitation names the phone number they will
sign in with, and they sign in with it written as they like."""

from __future__ import annotations

import pytest

from app.extensions import db
from tenants.market import services as market_services
from tenants.scoping import tenant_context
from tests.e2e.axe import assert_accessible

pytestmark = pytest.mark.e2e
PHONE = {"width": 360, "height": 740}


def test_a_stallholder_without_email_accepts_the_invitation_and_signs_in_by_phone(app, browser_page, make):
    town = make.tenant("trau-quy", "Trâu Quỳ", kind="thị trấn")
    with app.app_context(), tenant_context(town):
        _vendor, _user, token = market_services.onboard_vendor(
            town, business_name="Rau sạch Hường", owner_name="Nguyễn Thị Hường", phone="0912 345 678", email="",
            bank_bin="970415", account_number="113366668888", holder_name="Nguyễn Thị Hường")
        db.session.commit()
    page = browser_page
    page.set_viewport_size(PHONE)
    page.goto(f"/c/trau-quy/vendor/welcome/{token}")
    assert "0912345678" in page.get_by_test_id("sign-in-phone").inner_text()
    page.locator("#password").fill("rau-sach-2026")
    page.locator("#confirm").fill("rau-sach-2026")
    page.get_by_test_id("set-password").click()
    page.wait_for_url("**/c/trau-quy/market/me/sales")
    page.get_by_test_id("account-menu-toggle").click()
    page.get_by_test_id("logout").click()
    page.wait_for_url("**/")

    page.get_by_test_id("login-link").click()
    field = page.get_by_test_id("email")
    assert field.get_attribute("type") == "text"  # not an email field: a phone number is a valid answer
    assert_accessible(page)
    field.fill("+84 912.345.678")
    page.get_by_test_id("password").fill("rau-sach-2026")
    page.get_by_test_id("login-submit").click()
    page.wait_for_url("**/c/trau-quy/market/me/sales")
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
    assert page.js_errors == []
