"""A payer on a phone: opens the hosted page, sees the QR and the amount, pays by bank transfer, and watches the
page turn to "paid" by itself. Also the short-payment and expiry journeys. Headless Chromium, 390x844, vi-VN."""

from __future__ import annotations

import itertools
import re
import time
from datetime import timedelta

import pytest

from app.payments.accounts import create_account
from tests.payments.helpers import create_intent
from tenants.scoping import tenant_context

pytestmark = pytest.mark.e2e

expect = pytest.importorskip("playwright.sync_api").expect

SCREENSHOT_UNPAID = "/tmp/hosted_unpaid.png"
SCREENSHOT_PAID = "/tmp/hosted_paid.png"
ACCOUNT_NUMBER = "113366668888"
_sepay_ids = itertools.count(int(time.time() * 1000) % 10**9)


def make_intent(app, make, amount=150_000, ttl=None, slug="bat-trang"):
    tenant = make.tenant(slug, "Bát Tràng")
    with app.app_context(), tenant_context(tenant):
        account = create_account("Phí chứng thực", "970415", ACCOUNT_NUMBER, "UBND XA BAT TRANG")
        return create_intent(account, amount, description="Lệ phí chứng thực bản sao", ttl=ttl)


def bank_transfer(app, live_server, reference: str, amount: int) -> None:
    """The bank tells us money arrived: through the simulator when it exists, else a signed SePay notification."""
    try:
        from app.payments.bank.simulate import simulate_transfer
    except ImportError:
        simulate_transfer = None
    with app.app_context():
        if simulate_transfer is not None:
            result = simulate_transfer(reference, amount=amount, url=live_server)  # over HTTP, like a bank
            assert result["accepted"], result
            return
        notification = {
            "id": next(_sepay_ids), "gateway": "VietinBank", "transactionDate": "2026-11-27 10:00:00",
            "accountNumber": ACCOUNT_NUMBER, "code": None, "content": f"{reference} chuyen tien",
            "transferType": "in", "transferAmount": amount, "accumulated": 0, "subAccount": None,
            "referenceCode": "FT1", "description": f"BankAPINotify {reference} chuyen tien",
        }
        response = app.test_client().post(
            "/webhooks/sepay", json=notification,
            headers={"Authorization": f"Apikey {app.config.get('SEPAY_API_KEY') or 'test-sepay-key'}"})
        assert response.status_code == 200, response.get_data(as_text=True)


def labels(page) -> dict[str, str]:
    """The page's own (translated) labels, so the test reads the same words as the payer whatever the catalog."""
    root = page.get_by_test_id("hosted-payment")
    return {name: root.get_attribute(f"data-label-{name}") for name in ("waiting", "paid", "expired", "copied")}


def assert_fits_the_phone(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"], "horizontal scroll"


def test_payer_scans_pays_and_sees_paid_without_reload(app, make, browser_page, live_server):
    intent = make_intent(app, make)
    page = browser_page
    page.goto(f"/pay/{intent.public_id}")
    text = labels(page)

    expect(page.get_by_test_id("amount")).to_have_text("150.000 ₫")
    expect(page.get_by_test_id("value-memo")).to_have_text(intent.reference_code)
    qr = page.get_by_test_id("qr-image")
    expect(qr).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=qr.element_handle())
    assert qr.evaluate("img => img.naturalWidth") >= 200
    assert qr.bounding_box()["width"] >= 250  # large enough to scan from another phone
    status = page.get_by_test_id("payment-status")
    expect(status).to_have_attribute("data-state", "waiting")
    expect(status).to_have_text(text["waiting"])
    expect(page.get_by_test_id("countdown")).to_have_text(re.compile(r"^(29:[0-5]\d|30:00)$"))
    expect(page.get_by_test_id("save-qr")).to_have_attribute("download", f"VietQR-{intent.reference_code}.png")
    assert_fits_the_phone(page)
    page.screenshot(path=SCREENSHOT_UNPAID, full_page=True)
    page.set_viewport_size({"width": 375, "height": 667})  # the smallest common phone still fits
    assert_fits_the_phone(page)
    page.set_viewport_size({"width": 390, "height": 844})

    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    copy = page.get_by_test_id("copy-account")
    copy.click()
    expect(copy).to_have_text(text["copied"])
    assert page.evaluate("navigator.clipboard.readText()") == ACCOUNT_NUMBER
    expect(page.get_by_test_id("copy-live")).to_have_text(text["copied"])

    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    bank_transfer(app, live_server, intent.reference_code, 150_000)

    expect(status).to_have_attribute("data-state", "paid", timeout=10_000)
    expect(status).to_have_text(text["paid"])
    expect(page.get_by_test_id("paid-panel")).to_be_visible()
    expect(page.get_by_test_id("qr-image")).to_be_hidden()
    expect(page.get_by_test_id("countdown")).to_be_hidden()
    assert page.evaluate("window.__sameDocument === true"), "the page reloaded"
    # the receipt, filled from the status without a reload: the time the money arrived and the bank's reference
    expect(page.get_by_test_id("receipt-paid-at")).to_have_text(re.compile(r"^\d\d/\d\d/\d{4} \d\d:\d\d$"))
    expect(page.get_by_test_id("receipt-bank-reference")).not_to_be_empty()
    expect(page.get_by_test_id("receipt-payee")).to_have_text("UBND XA BAT TRANG")
    page.wait_for_timeout(400)  # let the check mark's short animation finish before the picture
    assert_fits_the_phone(page)
    page.screenshot(path=SCREENSHOT_PAID, full_page=True)
    assert page.js_errors == []


def test_short_payment_is_flagged_then_completed(app, make, browser_page, live_server):
    intent = make_intent(app, make)
    page = browser_page
    page.goto(f"/pay/{intent.public_id}")
    flag = page.get_by_test_id("payment-flag")
    expect(flag).to_be_hidden()

    bank_transfer(app, live_server, intent.reference_code, 100_000)
    expect(flag).to_be_visible(timeout=10_000)
    expect(flag).to_contain_text("100.000 ₫")
    expect(flag).to_contain_text("150.000 ₫")
    expect(flag).to_contain_text("50.000 ₫")
    expect(page.get_by_test_id("payment-status")).to_have_attribute("data-state", "waiting")

    bank_transfer(app, live_server, intent.reference_code, 50_000)
    expect(page.get_by_test_id("payment-status")).to_have_attribute("data-state", "paid", timeout=10_000)
    expect(flag).to_be_hidden()
    assert page.js_errors == []


def test_countdown_runs_out_and_the_page_shows_expired(app, make, browser_page):
    intent = make_intent(app, make, ttl=timedelta(seconds=3))
    page = browser_page
    page.goto(f"/pay/{intent.public_id}")
    text = labels(page)
    expect(page.get_by_test_id("countdown")).to_have_text(re.compile(r"^00:0[0-3]$"))
    status = page.get_by_test_id("payment-status")
    expect(status).to_have_attribute("data-state", "expired", timeout=8_000)
    expect(status).to_have_text(text["expired"])
    expect(page.get_by_test_id("expired-panel")).to_be_visible()
    expect(page.get_by_test_id("qr-image")).to_be_hidden()
    # The server agrees (expiry is applied on read, and the page asked at once).
    response = page.request.get(f"/pay/{intent.public_id}/status")
    assert response.json()["status"] == "canceled"
    assert page.js_errors == []
