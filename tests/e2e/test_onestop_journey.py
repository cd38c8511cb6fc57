"""The one-stop journey in a browser: an officer receives a dossier for a citizen and prints the receipt; the citizen
opens the QR link, pays the fee (a simulated transfer), the officer records and returns the result, the citizen
rates it."""

from __future__ import annotations

import io
import re

import pytest

from app.extensions import db
from app.payments.accounts import create_account
from app.payments.bank.simulate import simulate_transfer
from tenants.onestop import settings
from tenants.scoping import tenant_context
from tests.conftest import TEST_PASSWORD
from tests.payments.conftest import bank_secrets  # noqa: F401  (fixture)
from tests.tenants.onestop.conftest import PDF

expect = pytest.importorskip("playwright.sync_api").expect
pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("bank_secrets")]


@pytest.fixture
def office(app, make):
    tenant = make.tenant("bat-trang", name="Bát Tràng")
    make.user("officer.bat-trang@gialam.demo", "officer", tenant, name="Trần Thị Bình")
    with app.app_context(), tenant_context(tenant):
        create_account("Phí một cửa", "970415", "113000583", "UBND XA BAT TRANG")
        settings.save_procedure(None, name="Chứng thực bản sao từ bản chính", sector="Chứng thực", time_unit="hours",
                                time_amount=1, same_day=True, fee=10_000, required_documents="Bản chính",
                                online=False)
        db.session.commit()
    return tenant


def test_counter_to_rating(app, browser_page, office):
    import zxingcpp
    from PIL import Image

    page = browser_page
    page.goto("/login")
    page.get_by_test_id("email").fill("officer.bat-trang@gialam.demo")
    page.get_by_test_id("password").fill(TEST_PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url("**/c/bat-trang/desk")

    # The officer fills the form in for the citizen and receives the dossier.
    page.goto("/c/bat-trang/onestop/new")
    page.get_by_test_id("applicant_name").fill("Nguyễn Văn An")
    page.get_by_test_id("applicant_id_number").fill("001090012345")
    page.get_by_test_id("applicant_phone").fill("0912345678")
    page.get_by_test_id("receive").click()
    expect(page.get_by_test_id("status")).to_contain_text("Được tiếp nhận")
    code = page.get_by_test_id("dossier-code").inner_text()

    # ...and prints the receipt: one page, with the QR of the dossier's public page.
    page.get_by_test_id("receipt-link").click()
    expect(page.get_by_test_id("receipt-code")).to_have_text(code)
    page.emulate_media(media="print")
    pdf = page.pdf(format="A5", print_background=False)
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1  # one clean A5 page
    page.emulate_media(media="screen")
    shot = page.get_by_test_id("receipt-qr").screenshot()
    [decoded] = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))
    public_url = decoded.text
    assert f"/c/bat-trang/onestop/lookup/{code}?k=" in public_url  # the applicant's key: the proof to rate
    page.goto(f"/c/bat-trang/onestop/d/{page.url.split('/d/')[1].split('/')[0]}")
    page.get_by_test_id("act-request_fee").click()
    expect(page.get_by_test_id("status")).to_contain_text("Yêu cầu thực hiện nghĩa vụ tài chính")

    # The citizen scans the QR: the public page shows the fee's VietQR; the bank transfer arrives.
    citizen = page.context.browser.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN")
    phone = citizen.new_page()
    phone.goto(public_url.split("?")[0])
    assert "Nguyễn Văn An" not in phone.inner_text("main")  # the code alone: no personal details
    expect(phone.get_by_test_id("fee-qr")).to_have_count(0)  # nor the payment reference (issue #15)
    phone.goto(public_url)  # the slip's key proves the applicant
    expect(phone.get_by_test_id("fee-qr")).to_be_visible()
    reference = phone.get_by_test_id("fee-ref").inner_text()
    with app.app_context():
        result = simulate_transfer(reference)
    assert result["accepted"] and result["intent_status"] == "succeeded"
    phone.reload()
    expect(phone.get_by_test_id("public-status")).to_contain_text("Đang xử lý")

    # The officer records the result file and returns it.
    page.reload()
    expect(page.get_by_test_id("status")).to_contain_text("Đang xử lý")
    page.get_by_test_id("result-file").set_input_files({"name": "ket-qua.pdf", "mimeType": "application/pdf",
                                                        "buffer": PDF})
    page.get_by_test_id("record-result").click()
    expect(page.get_by_test_id("status")).to_contain_text("Đã xử lý xong")
    page.get_by_test_id("act-return_result").click()
    expect(page.get_by_test_id("status")).to_contain_text("Đã trả kết quả")
    assert "Đúng hạn" in page.get_by_test_id("control-sheet").inner_text()

    # The citizen rates the service.
    phone.reload()
    phone.get_by_test_id("rate-very_satisfied").check()
    phone.get_by_test_id("rate-submit").click()
    expect(phone.get_by_test_id("current-rating")).to_contain_text("Rất hài lòng")
    page.reload()
    assert "Rất hài lòng" in page.inner_text("main")
    assert page.js_errors == [] and not any("Content Security Policy" in e for e in page.js_errors)
    citizen.close()
