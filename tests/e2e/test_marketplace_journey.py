"""A shopper on a phone: searches "bat trang", puts products of two producers in the cart, checks out as a guest,
sees two QRs (decoded with zxing-cpp), pays both by simulated bank transfers, and watches the order turn paid by
itself; then the producer marks their part shipped and the shopper sees it. Headless Chromium, 390x844, vi-VN."""

from __future__ import annotations

import io
import re

import pytest

from tests.conftest import TEST_PASSWORD
from tests.e2e.test_cart_360 import _with_picture
from tests.marketplace.helpers import make_vendor, make_vendor_user, offer

pytestmark = pytest.mark.e2e

expect = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture
def sepay_key(app, monkeypatch):
    monkeypatch.setitem(app.config, "SEPAY_API_KEY", "test-sepay-key")
    monkeypatch.setitem(app.config, "PRODUCTION", False)


def _decode(png: bytes) -> str:
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    [barcode] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return barcode.text


def test_shopper_buys_from_two_producers_pays_both_qrs_and_the_vendor_ships(app, browser_page, make, live_server,
                                                                             sepay_key, tmp_path, monkeypatch):
    from app.payments.bank.simulate import simulate_transfer

    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    bat_trang = make.tenant("bat-trang", "Bát Tràng")
    kieu_ky = make.tenant("kieu-ky", "Kiêu Kỵ")
    gom = make_vendor(app, bat_trang, "Gốm Minh Long")
    men = make_vendor(app, bat_trang, "Men lam Hợp Thành")
    vang = make_vendor(app, kieu_ky, "Vàng quỳ Kiêu Kỵ")
    # products with their real pictures: a product is published with its photo, and every thumbnail loads
    _with_picture(app, bat_trang, gom, "Bình gốm men lam Bát Tràng", 250_000, "#1b5e8c", stock=5)
    _with_picture(app, bat_trang, men, "Ấm chén Bát Tràng men rạn", 450_000, "#8d5a2b", stock=3)
    _with_picture(app, kieu_ky, vang, "Tranh vàng quỳ Kiêu Kỵ", 1_200_000, "#b3261e", stock=2)
    make_vendor_user(app, bat_trang, gom, "gom@bt.vn")
    offer(app, bat_trang, gom, delivery_fee=30_000, delivery_estimate="2–3 ngày", offers_pickup=True,
          pickup_place="Xưởng gốm, thôn 3 Bát Tràng", pickup_estimate="Trong ngày")

    page = browser_page
    page.goto("/marketplace/")
    page.get_by_test_id("shop-search").fill("bat trang")
    page.get_by_test_id("shop-search").press("Enter")
    cards = page.get_by_test_id("product-card")
    expect(cards).to_have_count(2)
    expect(page.get_by_text("Tranh vàng quỳ")).to_have_count(0)

    added = 1
    for name in ("Bình gốm men lam Bát Tràng", "Ấm chén Bát Tràng men rạn"):
        page.get_by_role("link", name=name).click()
        expect(page.get_by_test_id("product-name")).to_have_text(name)
        page.get_by_test_id("add-to-cart").click()
        # the add is a POST answered by a redirect: wait for the new count before leaving the page, then back to
        # the results (going back in history raced that navigation)
        expect(page.get_by_test_id("cart-count")).to_have_text(str(added))
        added += 1
        page.goto("/marketplace/search?q=bat+trang")
    page.get_by_test_id("cart-link").click()
    expect(page.get_by_test_id("cart-group")).to_have_count(2)
    expect(page.get_by_test_id("cart-total")).to_have_text("730.000 ₫")  # Gốm Minh Long delivers for 30.000 ₫
    gom_choice = page.get_by_test_id("delivery-choice").first
    gom_choice.get_by_test_id("way-pickup").check()
    gom_choice.get_by_test_id("save-way").click()
    expect(page.get_by_test_id("cart-total")).to_have_text("700.000 ₫")  # picked up at the workshop: no fee
    page.get_by_test_id("delivery-choice").first.get_by_test_id("way-delivery").check()
    page.get_by_test_id("delivery-choice").first.get_by_test_id("save-way").click()
    expect(page.get_by_test_id("cart-total")).to_have_text("730.000 ₫")
    page.get_by_test_id("checkout").click()
    page.get_by_test_id("name").fill("Trần Thị Bình")
    page.get_by_test_id("phone").fill("0912 345 678")
    page.get_by_test_id("address").fill("Số 1 ngõ 2 Trâu Quỳ, Gia Lâm")
    page.get_by_test_id("place-order").click()

    expect(page.get_by_test_id("order-state")).to_have_attribute("data-state", "waiting")
    qrs = page.get_by_test_id("qr")
    expect(qrs).to_have_count(2)
    references = []
    expect(page.get_by_test_id("sub-order-way").first).to_contain_text("30.000 ₫")
    expect(page.get_by_test_id("qr-payee")).to_have_text(["NGUYEN VAN AN", "NGUYEN VAN AN"])
    for index, amount in enumerate((280_000, 450_000)):  # goods + delivery fee in the QR itself
        qr = qrs.nth(index)
        qr.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=qr.element_handle())
        payload = _decode(qr.screenshot())
        assert f"54{len(str(amount)):02d}{amount}" in payload  # the exact amount in the EMVCo payload
        reference = qr.get_attribute("data-reference")
        assert reference in payload
        references.append(reference)
    assert page.js_errors == []

    with app.app_context():
        for reference in references:
            result = simulate_transfer(reference, url=live_server)
            assert result["accepted"] and result["intent_status"] == "succeeded", result
    expect(page.get_by_test_id("order-state")).to_have_attribute("data-state", "paid", timeout=20_000)
    expect(page.get_by_test_id("sub-order-status")).to_have_text(["Đã thanh toán", "Đã thanh toán"])
    expect(page.get_by_test_id("part-receipt")).to_have_count(2)  # a receipt line per paid part
    expect(page.get_by_test_id("receipt-amount")).to_have_text(["280.000 ₫", "450.000 ₫"])
    expect(page.get_by_test_id("receipt-payee")).to_have_text(["NGUYEN VAN AN", "NGUYEN VAN AN"])
    code = re.search(r"/marketplace/orders/(\w+)", page.url).group(1)

    vendor = page.context.browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                              has_touch=True, locale="vi-VN", base_url=live_server).new_page()
    vendor.goto("/login")
    vendor.get_by_test_id("email").fill("gom@bt.vn")
    vendor.get_by_test_id("password").fill(TEST_PASSWORD)
    vendor.get_by_test_id("login-submit").click()
    vendor.goto("/c/bat-trang/marketplace/")
    vendor.get_by_test_id("new-order").filter(has_text=code).click()
    vendor.get_by_test_id("confirm-order").click()
    expect(vendor.get_by_test_id("vendor-order-status")).to_have_text("Đã xác nhận")
    vendor.get_by_test_id("ship-order").click()
    expect(vendor.get_by_test_id("vendor-order-status")).to_have_text("Đang giao hàng")
    vendor.context.close()

    expect(page.get_by_test_id("sub-order-status")).to_have_text(["Đang giao hàng", "Đã thanh toán"], timeout=20_000)
    page.screenshot(path="/tmp/marketplace_order_paid.png", full_page=True)
    assert page.js_errors == []


def test_vendor_imports_a_csv_and_sees_progress_and_the_bad_line(app, browser_page, make, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    bat_trang = make.tenant("bat-trang", "Bát Tràng")
    gom = make_vendor(app, bat_trang, "Gốm Minh Long")
    make_vendor_user(app, bat_trang, gom, "gom@bt.vn")
    rows = ["Tên sản phẩm,Nhóm sản phẩm,Giá bán,Tồn kho,Đăng bán"]
    rows += [f"Bát gốm men lam số {n},Thủ công mỹ nghệ,\"{n + 1}5.000 ₫\",10,x" for n in range(30)]
    rows.insert(8, "Bát lỗi,Thủ công mỹ nghệ,mười nghìn,10,x")  # line 9 of the file (the header is line 1)
    csv_file = tmp_path / "san-pham.csv"
    csv_file.write_text("\n".join(rows) + "\n", encoding="utf-8-sig")

    page = browser_page
    page.goto("/login")
    page.get_by_test_id("email").fill("gom@bt.vn")
    page.get_by_test_id("password").fill(TEST_PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.get_by_test_id("my-shop").click()
    page.goto("/c/bat-trang/marketplace/products/import")
    page.set_input_files("#file", str(csv_file))
    page.get_by_test_id("import").click()
    expect(page.get_by_test_id("import-summary")).to_have_text("Đã nhập 30 trên 31 sản phẩm.")
    expect(page.locator("#import-bar")).to_have_attribute("value", "31")
    expect(page.get_by_test_id("import-errors")).to_contain_text("Dòng 9:")
    assert page.url.endswith("/products/import")  # the page stayed: the progress came by the stream
    assert page.js_errors == []
    # imported as drafts: each goes on sale once it has its photo
    page.goto("/marketplace/search?q=bat gom men lam so 29")
    expect(page.get_by_test_id("product-card")).to_have_count(0)
    page.goto("/c/bat-trang/marketplace/products")
    expect(page.get_by_test_id("vendor-product").filter(has_text="Bát gốm men lam số 29")).to_have_count(1)
