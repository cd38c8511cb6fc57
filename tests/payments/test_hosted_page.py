"""GET /pay/<public_id> (the payer's page) and GET /pay/<public_id>/status (what the page polls)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from app import transactions
from app.extensions import db
from app.payments.accounts import create_account
from app.clock import utcnow
from app.payments.intents import cancel_intent, get_intent
from tests.payments.helpers import create_intent
from app.payments.models import Event, PaymentIntent
from app.payments.bank.notifications import BankTransaction
from app.payments.bank.reconciliation import confirm_transfer
from tenants.scoping import all_tenants, tenant_context
from tests.conftest import count_queries, data_statements
from tests.payments.helpers import PAYER_PAGE_ACCOUNT, payer_page_intent


@pytest.fixture
def intent(app, make):
    return payer_page_intent(app, make)


def pay(app, intent, amount):
    txn = BankTransaction(provider="manual", provider_txn_id=f"t-{uuid.uuid4().hex}", amount=amount,
                          content=f"{intent['reference']} chuyen tien", account_number=PAYER_PAGE_ACCOUNT,
                          bank="VietinBank", occurred_at=utcnow(), reference=None, raw={})
    with app.app_context():
        transactions.run(lambda: confirm_transfer(txn))


def expire(app, intent):
    with app.app_context(), all_tenants():
        found = get_intent(intent["public_id"])
        found.expires_at = utcnow() - timedelta(minutes=10)  # well past the banks' clock tolerance
        db.session.commit()


def page(client, intent, **query):
    response = client.get(f"/pay/{intent['public_id']}", query_string=query)
    return response, response.get_data(as_text=True)


def text_of(html, name):
    """The text inside the element with data-testid=name (first one)."""
    match = re.search(rf'data-testid="{name}"[^>]*>(.*?)</', html, re.S)
    assert match, f"no element with data-testid={name}"
    return unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()


def attr(html, name, attribute):
    match = re.search(rf'<[^>]*data-testid="{name}"[^>]*>', html, re.S)
    assert match, f"no element with data-testid={name}"
    found = re.search(rf'\s{attribute}="([^"]*)"', match.group(0))
    return unescape(found.group(1)) if found else None


# ------------------------------------------------------------------------------------------------ waiting


def test_shows_everything_needed_to_pay(client, intent):
    response, html = page(client, intent)
    assert response.status_code == 200
    assert text_of(html, "payee") == "UBND XA BAT TRANG"
    assert text_of(html, "amount") == "150.000 ₫"
    assert text_of(html, "value-bank") == "VietinBank"
    assert text_of(html, "value-account") == "113366668888"
    assert text_of(html, "value-holder") == "UBND XA BAT TRANG"
    assert text_of(html, "value-amount") == "150.000 ₫"
    assert text_of(html, "value-memo") == intent["reference"]
    assert "Lệ phí chứng thực" in html
    assert attr(html, "hosted-payment", "data-state") == "waiting"
    assert attr(html, "payment-status", "data-state") == "waiting"


def test_every_detail_has_an_accessible_copy_button_with_the_raw_value(client, intent):
    _, html = page(client, intent)
    expected = {"bank": "VietinBank", "account": "113366668888", "holder": "UBND XA BAT TRANG", "amount": "150000",
                "memo": intent["reference"]}
    for key, value in expected.items():
        assert attr(html, f"copy-{key}", "data-copy") == value
        assert attr(html, f"copy-{key}", "aria-label")  # "Copy account number", not just "Copy"
        assert attr(html, f"copy-{key}", "type") == "button"
    assert 'aria-live="polite"' in html


def test_qr_image_save_link_and_countdown(client, intent):
    _, html = page(client, intent)
    src = attr(html, "qr-image", "src")
    assert src.startswith(f"/pay/{intent['public_id']}/qr.png?v=")
    assert "150.000 ₫" in attr(html, "qr-image", "alt") and intent["reference"] in attr(html, "qr-image", "alt")
    assert attr(html, "save-qr", "href") == src
    assert attr(html, "save-qr", "download") == f"VietQR-{intent['reference']}.png"
    assert attr(html, "print-qr", "href").startswith(f"/pay/{intent['public_id']}/qr.pdf?v=")
    assert attr(html, "countdown", "data-expires-at") == str(intent["expires_at"])
    assert attr(html, "hosted-payment", "data-status-url") == f"/pay/{intent['public_id']}/status"
    assert client.get(src).status_code == 200


def test_steps_and_no_inline_code_under_the_csp(client, intent):
    response, html = page(client, intent, lang="en")
    for step in ("Open your banking app", "Scan the QR code", "Check the amount and memo, then confirm"):
        assert step in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert not re.search(r"<style\b", html) and not re.search(r'\sstyle="', html), "inline style"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    assert '/static/hosted.js' in html and '/static/payments.css' in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_page_is_private_and_uncached(client, intent):
    response, html = page(client, intent)
    assert response.headers["Cache-Control"] == "no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert '<meta name="robots" content="noindex, nofollow">' in html


def test_vietnamese_by_default_english_on_request(client, intent):
    _, html = page(client, intent)
    assert '<html lang="vi">' in html
    _, english = page(client, intent, lang="en")
    assert '<html lang="en">' in english
    assert "Waiting for your transfer" in english and "Save QR image" in english and "Copy account number" in english
    assert "150.000 ₫" in english  # money is written the Vietnamese way in both languages


def test_page_costs_a_fixed_small_number_of_queries(app, client, intent):
    with count_queries(app) as recorded:
        assert client.get(f"/pay/{intent['public_id']}").status_code == 200
        assert client.get(f"/pay/{intent['public_id']}/status").status_code == 200
    statements = data_statements(recorded)
    assert len(statements) == 3, statements  # intent + account in one join, its commune (still working?); the status


# ------------------------------------------------------------------------------------------------ end states


def test_succeeded_intent_shows_paid(app, client, intent):
    pay(app, intent, 150_000)
    _, html = page(client, intent, lang="en")
    assert attr(html, "hosted-payment", "data-state") == "paid"
    assert text_of(html, "payment-status") == "Payment received"
    assert 'data-testid="paid-panel"' in html
    assert 'data-testid="qr-image"' not in html  # nothing left to scan
    _, vietnamese = page(client, intent)
    assert attr(vietnamese, "payment-status", "data-state") == "paid"


def test_expired_intent_shows_expired_and_is_canceled_on_read(app, client, intent):
    expire(app, intent)
    _, html = page(client, intent, lang="en")
    assert attr(html, "hosted-payment", "data-state") == "expired"
    assert text_of(html, "payment-status") == "Expired"
    assert "This payment request has expired" in html
    assert 'data-testid="qr-image"' not in html and 'data-testid="copy-account"' not in html
    page(client, intent)  # a second read does not cancel twice
    with app.app_context(), all_tenants():
        found = db.session.scalar(select(PaymentIntent).where(PaymentIntent.public_id == intent["public_id"]))
        assert (found.status, found.cancellation_reason) == ("canceled", "abandoned")
        assert db.session.scalar(select(func.count()).select_from(Event).where(
            Event.intent_id == found.id, Event.type == "payment_intent.canceled")) == 1


def test_canceled_intent_shows_canceled(app, client, intent):
    with app.app_context(), tenant_context(intent["tenant"]):
        transactions.run(lambda: cancel_intent(get_intent(intent["public_id"])))
    _, html = page(client, intent, lang="en")
    assert attr(html, "hosted-payment", "data-state") == "canceled"
    assert "This payment request was canceled" in html


def test_short_payment_is_flagged_with_what_is_missing(app, client, intent):
    pay(app, intent, 100_000)
    _, html = page(client, intent, lang="en")
    assert attr(html, "hosted-payment", "data-state") == "waiting"
    assert text_of(html, "payment-flag") == (
        "Received 100.000 ₫ of 150.000 ₫. Please transfer the remaining 50.000 ₫ with the same memo.")
    assert attr(html, "hosted-payment", "data-flag") == "short"


def test_late_transfer_after_expiry_is_explained(app, client, intent):
    expire(app, intent)
    pay(app, intent, 150_000)
    _, html = page(client, intent, lang="en")
    assert attr(html, "hosted-payment", "data-state") == "expired"
    assert re.search(r'data-flag-note="late">\s*Your transfer arrived after', html)


def test_unknown_intent_is_a_styled_404(client, intent):
    for path in ("/pay/pi_doesnotexist000000000000", "/pay/" + "x" * 60, "/pay/pi_bad%20id"):
        response = client.get(path, query_string={"lang": "en"})
        assert response.status_code == 404
        html = response.get_data(as_text=True)
        assert "Payment link not found" in html and 'class="topbar"' in html
        assert "noindex" in response.headers["X-Robots-Tag"]


# ------------------------------------------------------------------------------------------------ /status


def test_status_json_follows_the_intent(app, client, intent):
    url = f"/pay/{intent['public_id']}/status"
    first = client.get(url)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    body = first.get_json()
    assert {k: body[k] for k in ("status", "amount", "amount_received", "expires_at", "flag")} == {
        "status": "requires_action", "amount": 150_000, "amount_received": 0, "expires_at": intent["expires_at"],
        "flag": None}
    assert abs(body["now"] - utcnow().timestamp()) < 5

    pay(app, intent, 100_000)
    assert client.get(url).get_json() | {"now": 0} == {
        "status": "requires_action", "amount": 150_000, "amount_received": 100_000, "expires_at": intent["expires_at"],
        "flag": "short", "cancellation_reason": None, "closed": False, "now": 0}
    pay(app, intent, 50_000)
    done = client.get(url).get_json()
    assert (done["status"], done["amount_received"], done["flag"]) == ("succeeded", 150_000, None)


def test_status_applies_expiry(app, client, intent):
    expire(app, intent)
    body = client.get(f"/pay/{intent['public_id']}/status").get_json()
    assert (body["status"], body["cancellation_reason"]) == ("canceled", "abandoned")


def test_status_of_unknown_intent_is_a_json_404(client, intent):
    for path in ("/pay/pi_doesnotexist000000000000/status", "/pay/" + "y" * 50 + "/status"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "resource_missing"


def test_any_commune_s_intent_is_reachable_by_its_public_id_only(app, client, make, intent):
    """The public id is the capability: no tenant in the URL, and nothing else opens the page."""
    other = make.tenant("kieu-ky", "Kiêu Kỵ")
    with app.app_context(), tenant_context(other):
        account = create_account("Phí", "970436", "0011002233", "UBND XA KIEU KY")
        second = create_intent(account, 20_000)
    assert client.get(f"/pay/{second.public_id}").status_code == 200
    assert client.get(f"/pay/{intent['public_id']}").status_code == 200
    assert client.get(f"/pay/{intent['reference']}").status_code == 404  # the reference code is not a key


def test_the_deadline_shown_is_never_before_the_servers(app, client, intent):
    """The page counts down to data-expires-at (whole seconds); the server expires at the stored moment. A stored
    fraction of a second, shown rounded down, let the page call a payment expired while the server still took it."""
    with app.app_context(), all_tenants():
        stored = get_intent(intent["public_id"]).expires_at
    assert stored.microsecond == 0
    shown = int(attr(page(client, intent)[1], "countdown", "data-expires-at"))
    assert shown == int(stored.timestamp())
    assert client.get(f"/pay/{intent['public_id']}/status").get_json()["expires_at"] == shown


def test_a_paid_page_is_a_receipt_with_the_payee_time_and_references(app, client, intent):
    """#19: after paying, the payer keeps who was paid, when, the memo and the bank's reference of the transfer."""
    _, waiting = page(client, intent, lang="en")
    assert text_of(waiting, "payee") == "UBND XA BAT TRANG"  # the payee's name before paying
    assert "receipt" not in client.get(f"/pay/{intent['public_id']}/status").get_json()
    pay(app, intent, 150_000)
    _, html = page(client, intent, lang="en")
    assert text_of(html, "receipt-payee") == "UBND XA BAT TRANG"
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", text_of(html, "receipt-paid-at"))
    assert text_of(html, "receipt-reference") == intent["reference"]
    assert text_of(html, "receipt-bank-reference").startswith("t-")  # the transfer's own id, as the bank gave it
    status = client.get(f"/pay/{intent['public_id']}/status").get_json()
    assert status["receipt"] == {"paid_at": text_of(html, "receipt-paid-at"),
                                 "bank_reference": text_of(html, "receipt-bank-reference")}
