"""The full-process online dossier in a browser (#23): a citizen on a 360 px phone finds the procedure, applies with
two files (kept across a mistake), keeps the receipt's secret link, sends the requested documents, pays the fee from
the same phone (the page drops the QR by itself when the bank's notification arrives), gets the fee receipt and its
verification, and downloads the electronic result; the officer acts only through the officer's own pages."""

from __future__ import annotations

import io

import pytest

from app.extensions import db
from app.payments.accounts import create_account
from app.payments.bank.simulate import simulate_transfer
from tenants.onestop import settings
from tenants.scoping import tenant_context
from tests.conftest import TEST_PASSWORD
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import CHROMIUM  # noqa: F401  (the browser fixtures live there)
from tests.payments.conftest import bank_secrets  # noqa: F401  (fixture)
from tests.tenants.onestop.conftest import PDF, PNG

expect = pytest.importorskip("playwright.sync_api").expect
pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bank_secrets")]

PHONE_360 = {"width": 360, "height": 740}


@pytest.fixture
def office(app, make):
    tenant = make.tenant("bat-trang", name="Bát Tràng")
    make.user("officer.bat-trang@gialam.demo", "officer", tenant, name="Trần Thị Bình")
    with app.app_context(), tenant_context(tenant):
        create_account("Phí một cửa", "970415", "113000583", "UBND XA BAT TRANG")
        settings.save_procedure(None, name="Xác nhận tình trạng hôn nhân", sector="Hộ tịch", time_unit="days",
                                time_amount=3, same_day=False, fee=15_000,
                                required_documents="Tờ khai theo mẫu\nẢnh căn cước công dân", online=True)
        db.session.commit()
    return tenant


def test_a_citizen_does_the_whole_procedure_online_from_a_phone(app, browser_page, live_server, office):
    import zxingcpp
    from PIL import Image

    officer = browser_page
    browser = officer.context.browser
    phone_context = browser.new_context(viewport=PHONE_360, device_scale_factor=2, is_mobile=True, has_touch=True,
                                        locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", base_url=live_server)
    phone_context.set_default_timeout(10_000)
    phone = phone_context.new_page()
    errors: list[str] = []
    phone.on("pageerror", lambda err: errors.append(str(err)))

    # The catalogue: the procedure's page, its documents and fee, and the start button.
    phone.goto("/c/bat-trang/onestop/procedures")
    expect(phone.get_by_test_id("online-badge")).to_be_visible()
    phone.get_by_text("Xác nhận tình trạng hôn nhân").click()
    expect(phone.get_by_test_id("required-documents")).to_contain_text("Ảnh căn cước công dân")
    expect(phone.get_by_test_id("procedure-fee")).to_have_text("15.000 ₫")
    assert_accessible(phone)
    phone.get_by_test_id("start").click()

    # The form: a wrong ID number is shown at its field; the two chosen files are kept.
    expect(phone.get_by_test_id("submit-required")).to_contain_text("Tờ khai theo mẫu")
    phone.get_by_test_id("applicant_name").fill("Nguyễn Văn An")
    phone.get_by_test_id("applicant_id_number").fill("00109001234")
    phone.get_by_test_id("applicant_phone").fill("0912345678")
    phone.get_by_test_id("files").set_input_files([
        {"name": "anh-cccd.png", "mimeType": "image/png", "buffer": PNG + b"\x00" * 3_400_000},
        {"name": "to-khai.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    phone.get_by_test_id("submit-send").click()
    expect(phone.locator(".has-error [data-testid=applicant_id_number]")).to_be_visible()
    expect(phone.get_by_test_id("kept-files")).to_contain_text("anh-cccd.png")
    expect(phone.get_by_test_id("kept-files")).to_contain_text("to-khai.pdf")
    phone.get_by_test_id("applicant_id_number").fill("001090012345")
    phone.get_by_test_id("submit-send").click()

    # The receipt: what was attached, the appointment, the secret link as the way back.
    expect(phone.get_by_test_id("online-receipt")).to_be_visible()
    expect(phone.get_by_test_id("receipt-files")).to_contain_text("anh-cccd.png")
    expect(phone.get_by_test_id("receipt-due")).to_contain_text("/")
    code = phone.get_by_test_id("receipt-code").inner_text()
    secret_link = phone.get_by_test_id("secret-link").inner_text()
    assert f"/c/bat-trang/onestop/lookup/{code}?k=" in secret_link
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(phone)

    # The officer, on the officer's own pages: receives it and asks for a document.
    officer.set_viewport_size({"width": 1366, "height": 900})
    officer.goto("/login")
    officer.get_by_test_id("email").fill("officer.bat-trang@gialam.demo")
    officer.get_by_test_id("password").fill(TEST_PASSWORD)
    officer.get_by_test_id("login-submit").click()
    officer.wait_for_url("**/c/bat-trang/desk")
    officer.goto(f"/c/bat-trang/onestop/?q={code}")
    officer.get_by_role("link", name=code).first.click()
    officer.get_by_test_id("act-receive").click()
    expect(officer.get_by_test_id("status")).to_contain_text("Được tiếp nhận")
    officer.locator("#reason-request_documents").fill("Bản sao giấy khai sinh")
    officer.get_by_test_id("act-request_documents").click()
    dossier_url = officer.url.replace("/supplement", "")

    # The citizen, from the secret link in a fresh browser: sees what is missing and sends it.
    phone_context.clear_cookies()
    phone.goto(secret_link)
    expect(phone.get_by_test_id("office-note")).to_contain_text("Bản sao giấy khai sinh")
    phone.get_by_test_id("supplement").get_by_test_id("files").set_input_files(
        {"name": "khai-sinh.pdf", "mimeType": "application/pdf", "buffer": PDF})
    phone.get_by_test_id("supplement-send").click()
    expect(phone.get_by_test_id("public-documents")).to_contain_text("khai-sinh.pdf")

    # The officer sees the supplement, resumes, and asks for the fee.
    officer.goto(dossier_url)
    expect(officer.get_by_test_id("supplement-doc")).to_be_visible()
    officer.get_by_test_id("act-process").click()
    officer.get_by_test_id("act-request_fee").click()
    expect(officer.get_by_test_id("status")).to_contain_text("Yêu cầu thực hiện nghĩa vụ tài chính")

    # Paying from the same phone: payee's name and copy buttons; the QR goes away by itself once the bank reports.
    phone.reload()
    expect(phone.get_by_test_id("payee-name")).to_have_text("UBND XA BAT TRANG")
    expect(phone.get_by_test_id("payee-account")).to_have_text("113000583")
    reference = phone.get_by_test_id("fee-ref").inner_text()
    with app.app_context():
        result = simulate_transfer(reference)
    assert result["accepted"] and result["intent_status"] == "succeeded"
    expect(phone.get_by_test_id("fee-qr")).to_have_count(0, timeout=15_000)
    expect(phone.get_by_test_id("public-status")).to_contain_text("Đang xử lý")

    # The fee receipt, and its QR opening the public verification page.
    phone.reload()
    phone.get_by_test_id("fee-receipt-link").click()
    expect(phone.get_by_test_id("fee-receipt-number")).to_have_text("0000001")
    shot = phone.get_by_test_id("fee-receipt-qr").screenshot()
    [decoded] = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))
    stranger = browser.new_context(base_url=live_server).new_page()
    stranger.goto(decoded.text)
    expect(stranger.get_by_test_id("fee-receipt-verified")).to_contain_text("15.000 ₫")
    stranger.context.close()

    # The officer records the result with a note and returns it.
    officer.reload()
    officer.get_by_test_id("result-file").set_input_files({"name": "ket-qua.pdf", "mimeType": "application/pdf",
                                                           "buffer": PDF})
    officer.locator("#result-note").fill("Đã ký số: có giá trị như bản giấy")
    officer.get_by_test_id("record-result").click()
    officer.get_by_test_id("act-return_result").click()
    expect(officer.get_by_test_id("status")).to_contain_text("Đã trả kết quả")

    # The citizen downloads the electronic result; the old supplement note is gone, the result note shown.
    phone.goto(secret_link)
    expect(phone.get_by_test_id("result-note")).to_contain_text("Đã ký số")
    expect(phone.get_by_test_id("office-note")).to_have_count(0)
    with phone.expect_download() as download:
        phone.get_by_test_id("result-download").click()
    with open(download.value.path(), "rb") as file:
        assert file.read() == PDF

    # Anyone finds the dossier from the landing page with the code typed without dashes; a timeline with times.
    visitor = browser.new_context(viewport=PHONE_360, base_url=live_server).new_page()
    visitor.goto("/")
    visitor.locator("#landing-code").fill(code.replace("-", " "))
    visitor.get_by_test_id("landing-lookup").get_by_role("button").click()
    expect(visitor.get_by_test_id("timeline")).to_contain_text("Nộp trực tuyến")
    assert visitor.get_by_test_id("timeline").locator("time").count() >= 8
    assert "Nguyễn Văn An" not in visitor.inner_text("main")
    visitor.context.close()
    assert errors == [] and officer.js_errors == []
    phone_context.close()
