"""Staff on a phone: an officer confirms a payment by hand; the district admin appoints a commune admin."""

import time

import pytest

from app.payments.accounts import create_account
from tests.payments.helpers import create_intent
from tenants.scoping import tenant_context
from tests.conftest import TEST_PASSWORD

expect = pytest.importorskip("playwright.sync_api").expect
pytestmark = pytest.mark.e2e


def _sign_in(page, email):
    page.goto("/login")
    page.get_by_test_id("email").fill(email)
    page.get_by_test_id("password").fill(TEST_PASSWORD)
    page.get_by_test_id("login-submit").click()


def _officer_and_a_fee(app, make):
    """Bát Tràng with an officer, a fee account and a 30.000 ₫ fee waiting to be paid (returned)."""
    tenant = make.tenant("bat-trang", name="Bát Tràng")
    make.user("officer.bat-trang@gialam.demo", "officer", tenant)
    with app.app_context(), tenant_context(tenant):
        account = create_account("Phí một cửa", "970415", "113000583", "UBND XA BAT TRANG")
        return create_intent(account, 30_000, description="Chứng thực bản sao")


def _upload_statement(page, statement) -> None:
    _sign_in(page, "officer.bat-trang@gialam.demo")
    page.wait_for_url("**/c/bat-trang/desk")
    page.goto("/c/bat-trang/payments/statement")
    page.get_by_test_id("file").set_input_files(str(statement))
    page.get_by_test_id("statement-submit").click()


def test_officer_confirms_a_fee_by_hand_from_the_desk(app, browser_page, make):
    intent = _officer_and_a_fee(app, make)
    page = browser_page

    _sign_in(page, "officer.bat-trang@gialam.demo")
    page.wait_for_url("**/c/bat-trang/desk")
    page.get_by_test_id("payments-link").click()
    row = page.get_by_test_id("payment-row").filter(has_text=intent.reference_code)
    assert "30.000 ₫" in row.inner_text()
    row.get_by_role("link").click()

    page.get_by_test_id("amount").fill("30.000")
    page.get_by_test_id("note").fill("Người dân nộp tại quầy, đã thấy tiền về tài khoản")
    page.get_by_test_id("confirm-submit").click()
    page.wait_for_load_state()
    assert "Đã xác nhận thủ công khoản thanh toán 30.000 ₫" in page.inner_text("main")
    assert page.get_by_test_id("status").inner_text() == "Đã thanh toán"
    # a confirmation by hand is a claim, not money: nothing received until the bank reports it (issue #15)
    assert page.get_by_test_id("amount-received").inner_text() == "0 ₫"
    claim = page.get_by_test_id("claims-table").inner_text()
    assert "30.000 ₫" in claim and "Chờ ngân hàng báo" in claim
    assert page.get_by_test_id("confirm-form").count() == 0  # paid: nothing left to confirm
    page.screenshot(path="/tmp/e2e_officer_confirmed.png", full_page=True)
    assert page.js_errors == []


def test_officer_imports_a_bank_statement_and_watches_it_progress(app, browser_page, make, tmp_path):
    intent = _officer_and_a_fee(app, make)
    rows = [f"FT{n:04d},27/11/2026 09:{n % 60:02d},10.000,NGUYEN VAN {n} nop phi" for n in range(400)]
    rows[123] = f"FT0123,27/11/2026 10:00,30.000,{intent.reference_code} chung thuc"
    statement = tmp_path / "sao-ke.csv"
    statement.write_text("ma_giao_dich,ngay,so_tien,noi_dung\n" + "\n".join(rows) + "\n", encoding="utf-8")
    page = browser_page
    _upload_statement(page, statement)

    progress = page.get_by_test_id("import-progress")
    expect(progress).to_be_visible()
    seen = set()  # the bar's values while the rows are being recorded: it must move, not jump to the end
    deadline = time.monotonic() + 30
    while page.get_by_test_id("import-result").count() == 0 and time.monotonic() < deadline:
        seen.add(page.evaluate("document.querySelector('[data-testid=import-progress] progress').value"))
    assert any(0 < value < 400 for value in seen), seen
    expect(page.get_by_test_id("import-result")).to_be_visible()
    expect(page.get_by_test_id("import-progress-text")).to_have_text("400 / 400 dòng")
    assert int(progress.get_attribute("data-updates")) > 10  # it moved while the rows were recorded
    expect(page.get_by_test_id("import-flash")).to_have_text("Đã nhập sao kê: ghi nhận 400 dòng, bỏ qua 0 dòng.")
    assert page.get_by_test_id("count-matched").inner_text().startswith("1")
    assert page.get_by_test_id("count-unmatched").inner_text().startswith("399")
    assert page.url.endswith("/c/bat-trang/payments/statement")  # no reload: the page stayed
    expect(page.get_by_test_id("statement-submit")).to_be_enabled()
    assert page.js_errors == []


def test_a_refused_statement_falls_back_to_the_page_with_its_error(browser_page, make, tmp_path, app):
    _officer_and_a_fee(app, make)
    statement = tmp_path / "no-header.csv"
    statement.write_text("FT1,27/11/2026,10000,abc\n", encoding="utf-8")
    page = browser_page
    _upload_statement(page, statement)
    expect(page.locator(".flash-error")).to_contain_text("dòng tiêu đề")
    expect(page.get_by_test_id("import-result")).to_have_count(0)
    # The browser logs the two 400 answers (the streamed try, then the plain post); no script failed.
    assert [e for e in page.js_errors if not e.startswith("Failed to load resource")] == []


def test_a_stream_that_ends_early_says_the_connection_was_lost(browser_page, make, tmp_path, app):
    """A proxy or a killed worker can end the stream before its last line: the page must not just stop."""
    _officer_and_a_fee(app, make)
    statement = tmp_path / "sao-ke.csv"
    statement.write_text("ma_giao_dich,ngay,so_tien,noi_dung\nFT1,27/11/2026,10000,abc\n", encoding="utf-8")
    page = browser_page

    def cut_short(route):
        if route.request.method != "POST":
            return route.fallback()
        route.fulfill(status=200, content_type="application/x-ndjson",
                      body='{"done": 0, "total": 10}\n{"done": 3, "total": 10}\n')

    page.route("**/payments/statement", cut_short)
    _upload_statement(page, statement)
    expect(page.get_by_test_id("import-flash")).to_contain_text("Mất kết nối")
    expect(page.get_by_test_id("statement-submit")).to_be_enabled()
    expect(page.get_by_test_id("import-result")).to_have_count(0)
    assert page.js_errors == []


def _fits_the_phone(page) -> None:
    """Nothing wider than the screen: no sideways scrolling to find a column."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), page.url


def test_tables_turn_into_labelled_cards_on_a_phone(app, browser_page, make):
    tenant = make.tenant("bat-trang", name="Bát Tràng")
    make.user("admin.bat-trang@gialam.demo", "commune_admin", tenant)
    with app.app_context(), tenant_context(tenant):
        account = create_account("Phí một cửa", "970415", "113000583", "UBND XA BAT TRANG")
        create_intent(account, 1_250_000, description="Lệ phí chứng thực hợp đồng, giao dịch có giá trị lớn")
    page = browser_page
    _sign_in(page, "admin.bat-trang@gialam.demo")
    page.wait_for_url("**/c/bat-trang/desk")
    for path in ("/c/bat-trang/payments/", "/c/bat-trang/staff"):
        page.goto(path)
        _fits_the_phone(page)
    page.goto("/c/bat-trang/payments/")
    amount = page.get_by_test_id("payment-row").locator("td", has_text="1.250.000 ₫").first
    box = amount.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # on screen, not scrolled away
    label = amount.evaluate("cell => getComputedStyle(cell, '::before').content")
    assert label == '"Số tiền"'
    assert page.locator("table.stack thead").bounding_box()["height"] <= 1  # the header is for screen readers only
    assert page.js_errors == []


def test_district_admin_appoints_a_commune_admin_who_can_then_sign_in(browser_page, make, _browser, live_server):
    make.tenant("bat-trang", name="Bát Tràng")
    make.tenant("kieu-ky", name="Kiêu Kỵ")
    make.user("district@gialam.demo", "district_admin")
    page = browser_page

    _sign_in(page, "district@gialam.demo")
    page.wait_for_url("**/district/")
    assert page.get_by_test_id("district-chart").is_visible()
    page.get_by_role("link", name="Quản trị xã").first.click()
    page.get_by_test_id("tenant").select_option(label="Xã Kiêu Kỵ")
    page.get_by_test_id("name").fill("Trần Thị Bình")
    page.get_by_test_id("email").fill("admin.kieu-ky@gialam.demo")
    page.get_by_test_id("password").fill("mat-khau-moi-2026")
    page.get_by_role("button", name="Tạo tài khoản").click()
    page.wait_for_load_state()
    assert "admin.kieu-ky@gialam.demo" in page.inner_text("main")

    other = _browser.new_context(viewport={"width": 390, "height": 844}, base_url=live_server)
    try:
        admin = other.new_page()
        admin.goto("/login")
        admin.get_by_test_id("email").fill("admin.kieu-ky@gialam.demo")
        admin.get_by_test_id("password").fill("mat-khau-moi-2026")
        admin.get_by_test_id("login-submit").click()
        admin.wait_for_url("**/c/kieu-ky/desk")
        assert admin.get_by_test_id("desk-title").inner_text() == "Xã Kiêu Kỵ"
    finally:
        other.close()
