"""An officer settles an overpayment from the inbox with the refund's QR code and confirms it (phone-sized browser)."""

import io
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from app import transactions
from app.extensions import db
from app.payments import vietqr
from app.payments.accounts import create_account
from app.payments.bank.notifications import BankTransaction
from app.payments.bank.reconciliation import confirm_transfer
from app.payments.models import Refund
from tenants.scoping import all_tenants, tenant_context
from tests.conftest import TEST_PASSWORD
from tests.payments.helpers import create_intent

expect = pytest.importorskip("playwright.sync_api").expect
pytestmark = pytest.mark.e2e


def test_officer_settles_an_overpayment_with_the_refunds_qr(app, browser_page, make):
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    tenant = make.tenant("bat-trang", name="Bát Tràng")
    make.user("officer.bat-trang@gialam.demo", "officer", tenant)
    with app.app_context(), tenant_context(tenant):
        account = create_account("Phí một cửa", "970415", "113000583", "UBND XA BAT TRANG")
        intent = create_intent(account, 30_000, description="Chứng thực bản sao")
        code = intent.reference_code
    with app.app_context():  # the payer sent 50.000 ₫ for a 30.000 ₫ fee; Casso names the payer's account
        transactions.run(lambda: confirm_transfer(BankTransaction(
            provider="casso", provider_txn_id=uuid.uuid4().hex, amount=50_000, content=f"{code} chung thuc",
            account_number="113000583", bank="VietinBank", occurred_at=datetime.now(timezone.utc),
            reference="FT" + uuid.uuid4().hex[:10].upper(), raw={}, bank_bin="970415",
            counter_bank_bin="970436", counter_account_number="0451000123456", counter_account_name="NGUYEN VAN A",
        )))

    page = browser_page
    page.goto("/login")
    page.get_by_test_id("email").fill("officer.bat-trang@gialam.demo")
    page.get_by_test_id("password").fill(TEST_PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url("**/c/bat-trang/desk")
    page.goto("/c/bat-trang/payments/inbox")
    item = page.get_by_test_id("inbox-item").filter(has_text="50.000 ₫")
    item.get_by_test_id("refund-form").get_by_role("button").click()
    page.wait_for_url("**/payments/refunds/re_*")

    with app.app_context(), all_tenants():
        refund = db.session.scalar(select(Refund))
        reference, public_id = refund.reference_code, refund.public_id
    expect(page.get_by_test_id("refund-amount")).to_have_text("20.000 ₫")
    qr_image = page.get_by_test_id("refund-qr")
    expect(qr_image).to_be_visible()
    page.screenshot(path="/tmp/e2e_refund_qr.png", full_page=True)
    [scanned] = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr_image.screenshot())))
    decoded = vietqr.decode(scanned.text)  # what a banking app reads from the screen
    assert (decoded.bin, decoded.account, decoded.amount, decoded.memo) == ("970436", "0451000123456", 20_000,
                                                                           reference)

    page.get_by_test_id("refund-confirm").click()
    page.wait_for_url(f"**/payments/refunds/{public_id}")
    expect(page.get_by_test_id("refund-status")).to_have_text("Đã hoàn tiền")
    expect(page.get_by_test_id("refund-confirmation")).to_have_text("Xác nhận thủ công")
    expect(page.get_by_test_id("refund-qr")).to_have_count(0)
    page.goto("/c/bat-trang/payments/inbox")
    expect(page.get_by_test_id("inbox-empty")).to_be_visible()
    page.screenshot(path="/tmp/e2e_refund_done.png", full_page=True)
