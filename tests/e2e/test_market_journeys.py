"""The smart market on a 360 px phone: a vendor signs in, makes a QR sale, sees it turn paid by itself after a
(simulated) bank transfer, and downloads the stall poster; a commune admin onboards a vendor, who then sets a
password through the invitation link."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image

from app.payments import vietqr
from app.payments.bank.simulate import simulate_transfer
from tests.conftest import TEST_PASSWORD
from tests.e2e.conftest import CHROMIUM_ARGS  # noqa: F401  (the same browser setup)
from tests.tenants.market.helpers import make_market, make_vendor

expect = pytest.importorskip("playwright.sync_api").expect
pytestmark = pytest.mark.e2e

NARROW_PHONE = {"width": 360, "height": 740}


@pytest.fixture
def phone(_browser, live_server):
    """A 360 px wide phone page (the smallest common Android width), vi-VN."""
    context = _browser.new_context(viewport=NARROW_PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                   locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", base_url=live_server,
                                   accept_downloads=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.js_errors = errors
    try:
        yield page
    finally:
        context.close()


def sign_in(page, email, password=TEST_PASSWORD):
    page.goto("/login")
    page.get_by_test_id("email").fill(email)
    page.get_by_test_id("password").fill(password)
    page.get_by_test_id("login-submit").click()


def fits(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW_PHONE["width"], "horizontal scroll"


def within_thumb_reach(page, locator):
    """The main buttons sit in the lower part of the screen, where a thumb reaches them one-handed."""
    box = locator.bounding_box()
    assert box["y"] + box["height"] <= NARROW_PHONE["height"] and box["y"] >= NARROW_PHONE["height"] * 0.4, box
    assert box["height"] >= 44  # a finger-sized target


def test_vendor_sells_by_qr_sees_it_paid_and_downloads_the_poster(app, make, phone, live_server, tmp_path):
    tenant = make.tenant("trau-quy", "Trâu Quỳ")
    _, stalls = make_market(app, tenant)
    vendor = make_vendor(app, tenant, name="Rau sạch Hường", stall_id=stalls[0], account_number="113366668888")
    page = phone

    sign_in(page, vendor.email)
    page.wait_for_url("**/c/trau-quy/market/me/sales")
    fits(page)
    within_thumb_reach(page, page.get_by_test_id("sell-qr"))
    within_thumb_reach(page, page.get_by_test_id("sell-cash"))
    page.screenshot(path="/tmp/e2e_market_sell.png")
    page.get_by_test_id("amount").fill("150.000")
    page.get_by_test_id("note").fill("2 kg cải ngọt")
    page.get_by_test_id("sell-qr").click()

    page.wait_for_url("**/c/trau-quy/market/me/sales/*")
    fits(page)
    expect(page.get_by_test_id("sale-amount")).to_have_text("150.000 ₫")
    expect(page.get_by_test_id("sale-status")).to_have_text("Đang chờ chuyển khoản")
    qr = page.get_by_test_id("sale-qr")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=qr.element_handle())
    shot = Image.open(io.BytesIO(qr.screenshot()))
    [payload] = [found.text for found in zxingcpp.read_barcodes(shot)]
    decoded = vietqr.decode(payload)
    assert (decoded.account, decoded.amount) == ("113366668888", 150_000)
    reference = page.get_by_test_id("sale-reference").inner_text()

    with app.app_context():  # the bank tells us, over HTTP, like a real notification
        result = simulate_transfer(reference, url=live_server)
    assert result["accepted"], result
    expect(page.get_by_test_id("sale-status")).to_have_text("Đã thanh toán", timeout=10_000)  # no reload
    expect(page.get_by_test_id("sale-qr")).to_be_hidden()
    expect(page.get_by_test_id("confirm-by-hand")).to_be_hidden()  # nothing left to confirm
    page.screenshot(path="/tmp/e2e_market_sale_paid.png", full_page=True)

    page.get_by_test_id("tab-poster").click()
    page.wait_for_url("**/c/trau-quy/market/me/poster")
    fits(page)
    with page.expect_download() as download_info:
        page.get_by_test_id("poster-a5-png").first.click()
    path = tmp_path / "poster.png"
    download_info.value.save_as(path)
    [poster_payload] = [found.text for found in zxingcpp.read_barcodes(Image.open(path))]
    static = vietqr.decode(poster_payload)
    assert (static.account, static.amount, static.initiation) == ("113366668888", None, "11")
    with page.expect_download() as pdf_info:
        page.get_by_test_id("poster-a6-pdf").first.click()
    assert pdf_info.value.suggested_filename.endswith("-a6.pdf")
    assert page.js_errors == []


def test_admin_onboards_a_vendor_who_sets_a_password_from_the_link(app, make, phone, _browser, live_server):
    tenant = make.tenant("trau-quy", "Trâu Quỳ")
    make_market(app, tenant)
    make.user("admin.trau-quy@gialam.demo", "commune_admin", tenant)
    page = phone

    sign_in(page, "admin.trau-quy@gialam.demo")
    page.wait_for_url("**/c/trau-quy/desk")
    page.get_by_test_id("market-link").click()
    page.get_by_test_id("vendors-link").click()
    page.get_by_test_id("onboard-link").click()
    page.wait_for_url("**/c/trau-quy/market/vendors/new")
    fits(page)
    page.get_by_test_id("business_name").fill("Thịt lợn sạch Hùng")
    page.get_by_test_id("owner_name").fill("Trần Văn Hùng")
    page.get_by_test_id("phone").fill("0987 654 321")
    page.get_by_test_id("email").fill("hung@trauquy.vn")
    page.get_by_test_id("goods_category").select_option("meat")
    page.get_by_test_id("stall_id").select_option(label="Chợ Trâu Quỳ · A02")
    page.get_by_test_id("bank_bin").select_option("970415")
    page.get_by_test_id("account_number").fill("12345678")
    page.get_by_test_id("holder_name").fill("Trần Văn Hùng")
    page.get_by_test_id("onboard-submit").click()

    link = page.get_by_test_id("invitation-link").input_value()
    assert "/c/trau-quy/vendor/welcome/" in link
    page.get_by_test_id("vendor-page-link").click()
    expect(page.get_by_test_id("vendor-bank")).to_contain_text("12345678 · TRAN VAN HUNG")

    # the vendor opens the link on their own phone
    context = _browser.new_context(viewport=NARROW_PHONE, is_mobile=True, has_touch=True, locale="vi-VN")
    try:
        vendor_page = context.new_page()
        vendor_page.goto(link)
        vendor_page.get_by_test_id("password").fill("thit-lon-sach")
        vendor_page.get_by_test_id("confirm").fill("thit-lon-sach")
        vendor_page.get_by_test_id("set-password").click()
        vendor_page.wait_for_url("**/c/trau-quy/market/me/sales")
        assert "Thịt lợn sạch Hùng" in vendor_page.locator("main").text_content()
    finally:
        context.close()
    assert page.js_errors == []


def test_the_svg_poster_drawn_by_chromium_decodes_to_the_static_qr(app, make, client, _browser):
    """The SVG download as a browser (or a print shop's software) draws it: its QR still decodes."""
    import base64

    from tests.conftest import login

    tenant = make.tenant("trau-quy", "Trâu Quỳ")
    _, stalls = make_market(app, tenant)
    vendor = make_vendor(app, tenant, stall_id=stalls[0], account_number="113366668888")
    login(client, vendor.email)
    svg = client.get(f"/c/trau-quy/market/me/poster/a6.svg?stall={vendor.stall_id}").data
    context = _browser.new_context(viewport={"width": 620, "height": 880})
    try:
        page = context.new_page()
        data = base64.b64encode(svg).decode()
        page.set_content(f'<img src="data:image/svg+xml;base64,{data}" width="600" height="846">')
        page.wait_for_function("document.images[0].complete && document.images[0].naturalWidth > 0")
        shot = Image.open(io.BytesIO(page.screenshot()))
    finally:
        context.close()
    [payload] = [found.text for found in zxingcpp.read_barcodes(shot)]
    decoded = vietqr.decode(payload)
    assert (decoded.account, decoded.amount, decoded.initiation) == ("113366668888", None, "11")
