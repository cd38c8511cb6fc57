"""A commune admin signs in on a phone, sees their commune, switches the language and signs out."""

import pytest

from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.e2e


def test_commune_admin_signs_in_switches_language_and_signs_out(browser_page, live_server, make):
    tenant = make.tenant("bat-trang", name="Bát Tràng")
    make.tenant("kieu-ky", name="Kiêu Kỵ")
    make.user("admin.bat-trang@gialam.demo", "commune_admin", tenant, name="Nguyễn Văn An")
    page = browser_page

    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "vi"
    page.get_by_test_id("login-link").click()
    page.get_by_test_id("email").fill("admin.bat-trang@gialam.demo")
    page.get_by_test_id("password").fill(TEST_PASSWORD)
    page.get_by_test_id("login-submit").click()

    page.wait_for_url("**/c/bat-trang/desk")
    assert page.get_by_test_id("desk-title").inner_text() == "Xã Bát Tràng"
    page.get_by_test_id("account-menu-toggle").click()  # the account's links are in the header's menu (#19)
    assert page.get_by_test_id("logout").inner_text() == "Đăng xuất"

    page.get_by_test_id("lang-en").click()
    page.wait_for_url("**/c/bat-trang/desk")
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_test_id("account-menu-toggle").click()
    assert page.get_by_test_id("logout").inner_text() == "Sign out"
    assert page.get_by_test_id("staff-link").inner_text() == "Staff accounts"
    page.screenshot(path="/tmp/e2e_admin_desk_en.png", full_page=True)

    page.get_by_test_id("logout").click()
    page.wait_for_url(f"{live_server}/")
    assert page.get_by_test_id("login-link").is_visible()
    # Signed out for real: the desk now asks to sign in.
    page.goto("/c/bat-trang/desk")
    assert "/login" in page.url
    assert page.js_errors == []


def test_admin_cannot_open_another_communes_desk_in_the_browser(browser_page, make):
    tenant = make.tenant("bat-trang", name="Bát Tràng")
    make.tenant("kieu-ky", name="Kiêu Kỵ")
    make.user("admin.bat-trang@gialam.demo", "commune_admin", tenant)
    page = browser_page
    page.goto("/login")
    page.get_by_test_id("email").fill("admin.bat-trang@gialam.demo")
    page.get_by_test_id("password").fill(TEST_PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url("**/c/bat-trang/desk")

    response = page.goto("/c/kieu-ky/desk")
    assert response.status == 404
    assert "404" in page.inner_text("main")
