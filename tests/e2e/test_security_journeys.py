"""Sessions that end and API keys, in real browsers: an admin signed in on two devices signs out everywhere from
one; a commune admin creates a key (shown once), sees it listed and revokes it."""

from __future__ import annotations

import re

import pytest

from tests.conftest import TEST_PASSWORD
from tests.e2e.conftest import PHONE
from tests.payments.helpers import make_account

pytestmark = pytest.mark.e2e


def sign_in(page, email: str, remember: bool = False) -> None:
    page.goto("/login")
    page.get_by_test_id("email").fill(email)
    page.get_by_test_id("password").fill(TEST_PASSWORD)
    if remember:
        page.get_by_test_id("remember").check()
    page.get_by_test_id("login-submit").click()


def test_sign_out_everywhere_from_the_phone_signs_the_computer_out(_browser, browser_page, live_server, make):
    tenant = make.tenant("bat-trang", name="Bát Tràng")
    make.user("admin.bat-trang@gialam.demo", "commune_admin", tenant)
    computer = _browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN", base_url=live_server)
    try:
        desk = computer.new_page()
        sign_in(desk, "admin.bat-trang@gialam.demo", remember=True)  # even a remembered device
        desk.wait_for_url("**/c/bat-trang/desk")

        phone = browser_page
        sign_in(phone, "admin.bat-trang@gialam.demo")
        phone.wait_for_url("**/c/bat-trang/desk")
        phone.goto("/account/password")
        phone.get_by_test_id("sign-out-everywhere").click()
        phone.wait_for_url("**/login")
        assert "Bạn đã được đăng xuất trên mọi thiết bị." in phone.inner_text("main")

        desk.goto("/c/bat-trang/desk")
        assert "/login" in desk.url  # the computer is signed out too, remember cookie and all
        assert phone.js_errors == []
    finally:
        computer.close()


def test_a_commune_admin_creates_sees_and_revokes_an_api_key(app, browser_page, make):
    tenant = make.tenant("bat-trang", name="Bát Tràng")
    make_account(app, tenant, "113000583")
    make.user("admin.bat-trang@gialam.demo", "commune_admin", tenant)
    page = browser_page
    sign_in(page, "admin.bat-trang@gialam.demo")
    page.wait_for_url("**/c/bat-trang/desk")
    page.goto("/c/bat-trang/payments/")
    page.get_by_test_id("nav-keys").click()
    page.wait_for_url("**/c/bat-trang/payments/keys/")
    page.get_by_test_id("password").fill(TEST_PASSWORD)  # a key moves money: the password again
    page.get_by_test_id("create-key").click()
    secret = page.get_by_test_id("new-key-secret").inner_text()
    assert secret.startswith("sk_test_")
    assert page.request.get("/v1/payment_intents", headers={"Authorization": f"Bearer {secret}"}).status == 200
    assert page.get_by_test_id("key-last-used").first.inner_text() == "Chưa dùng"  # listed before its first use
    page.screenshot(path="/tmp/e2e_api_keys.png", full_page=True)
    assert page.viewport_size == PHONE

    page.goto("/c/bat-trang/payments/keys/")
    assert secret not in page.content()  # shown once
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", page.get_by_test_id("key-last-used").first.inner_text())
    page.locator("[data-testid^=revoke-]").first.click()
    page.wait_for_url("**/c/bat-trang/payments/keys/")
    assert page.request.get("/v1/payment_intents", headers={"Authorization": f"Bearer {secret}"}).status == 401
    assert page.locator("[data-testid^=revoke-]").count() == 0
    assert page.js_errors == []
