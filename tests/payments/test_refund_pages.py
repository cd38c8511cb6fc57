"""Staff refund pages: an overpaid, late or duplicate inbox item settled by a refund, whose page shows a VietQR code
(read back with zxing-cpp) to the payer's account with the refund's reference as memo; the officer confirms it (by
hand, recorded as such); the payer's account entered when no source named it; another commune's refund is a 404."""

from __future__ import annotations

import base64
import io
import re
import uuid
from datetime import datetime, timezone

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from app import transactions
from app.extensions import db
from app.payments import vietqr
from app.payments.bank.notifications import BankTransaction
from app.payments.bank.reconciliation import confirm_transfer
from app.payments.models import Refund
from tenants.scoping import all_tenants
from tests.conftest import login, post_form
from tests.payments.helpers import ACCOUNT_A, ACCOUNT_B, intent_state, make_account, make_intent, transfer

pytestmark = pytest.mark.usefixtures("bank_secrets")


@pytest.fixture
def world(app, make):
    a, b = make.tenant("xa-a", "Xã A"), make.tenant("xa-b", "Xã B")
    account_a, account_b = make_account(app, a, ACCOUNT_A), make_account(app, b, ACCOUNT_B)
    return {"a": a, "b": b, "account_a": account_a, "account_b": account_b,
            "intent_a": make_intent(app, account_a, 150_000),
            "a_officer": make.user("officer@a.vn", "officer", a), "b_officer": make.user("officer@b.vn", "officer", b)}


def arrive(app, content: str, amount: int, *, payer: bool = True) -> int:
    counter = {"counter_bank_bin": "970415", "counter_account_number": "1012345678",
               "counter_account_name": "TRAN THI B"} if payer else {}
    with app.app_context():
        return transactions.run(lambda: confirm_transfer(BankTransaction(
            provider="casso", provider_txn_id=uuid.uuid4().hex, amount=amount, content=content,
            account_number=ACCOUNT_A, bank="VCB", occurred_at=datetime.now(timezone.utc),
            reference=uuid.uuid4().hex[:12], raw={}, bank_bin="970436", **counter,
        )).transfer.id)


def the_refund(app) -> Refund:
    with app.app_context(), all_tenants():
        refund = db.session.scalar(select(Refund))
        db.session.expunge(refund)
        return refund


def read_qr(payload_png: bytes) -> str:
    [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(payload_png)))
    return code.text


def test_an_overpayment_is_settled_by_a_refund_with_a_qr_to_the_payer(app, client, world):
    transfer_id = arrive(app, world["intent_a"].reference_code, 200_000)
    login(client, "officer@a.vn")
    response = post_form(client, f"/c/xa-a/payments/inbox/{transfer_id}/refund", token_from="/c/xa-a/payments/inbox")
    refund = the_refund(app)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/refunds/{refund.public_id}")
    assert (refund.amount, refund.status, refund.reason) == (50_000, "pending", "overpaid")
    assert transfer(app, transfer_id)["status"] == "resolved"  # the decision is taken: out of the inbox

    html = client.get(f"/c/xa-a/payments/refunds/{refund.public_id}").get_data(as_text=True)
    payload = re.search(r'data-payload="([^"]+)"', html).group(1)
    from app.payments import qr

    assert read_qr(qr.render_png(payload)) == payload  # what the page encodes is what a banking app reads
    decoded = vietqr.decode(payload)
    assert (decoded.bin, decoded.account, decoded.amount, decoded.memo) == ("970415", "1012345678", 50_000,
                                                                           refund.reference_code)
    svg = base64.b64decode(re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', html).group(1))
    assert b"<svg" in svg

    post_form(client, f"/c/xa-a/payments/refunds/{refund.public_id}/confirm",
              token_from=f"/c/xa-a/payments/refunds/{refund.public_id}")
    done = the_refund(app)
    assert (done.status, done.confirmation) == ("succeeded", "manual")
    assert intent_state(app, world["intent_a"].public_id)["status"] == "succeeded"


def test_without_a_named_payer_the_officer_enters_the_account_checked(app, client, world):
    expired = make_intent(app, world["account_a"], 80_000, expired=True)
    transfer_id = arrive(app, expired.reference_code, 80_000, payer=False)
    login(client, "officer@a.vn")
    post_form(client, f"/c/xa-a/payments/inbox/{transfer_id}/refund", token_from="/c/xa-a/payments/inbox")
    refund = the_refund(app)
    assert (refund.amount, refund.reason, refund.destination_account_number) == (80_000, "late_payment", None)
    page = f"/c/xa-a/payments/refunds/{refund.public_id}"
    assert 'data-testid="refund-qr"' not in client.get(page).get_data(as_text=True)
    post_form(client, page + "/destination", {"bank_bin": "970415", "account_number": "10-12"}, token_from=page)
    assert the_refund(app).destination_account_number is None  # refused: not a valid account number
    post_form(client, page + "/destination", {"bank_bin": "970415", "account_number": "1012 345 678",
                                              "holder_name": "Trần Thị B"}, token_from=page)
    assert the_refund(app).destination_account_number == "1012345678"
    assert 'data-testid="refund-qr"' in client.get(page).get_data(as_text=True)


def test_another_communes_refund_is_404(app, client, world):
    transfer_id = arrive(app, world["intent_a"].reference_code, 200_000)
    login(client, "officer@a.vn")
    post_form(client, f"/c/xa-a/payments/inbox/{transfer_id}/refund", token_from="/c/xa-a/payments/inbox")
    refund = the_refund(app)
    client = app.test_client()
    login(client, "officer@b.vn")
    assert client.get(f"/c/xa-b/payments/refunds/{refund.public_id}").status_code == 404
    response = post_form(client, f"/c/xa-b/payments/refunds/{refund.public_id}/confirm",
                         token_from="/c/xa-b/payments/inbox")
    assert response.status_code == 404
    assert the_refund(app).status == "pending"
    assert post_form(client, f"/c/xa-b/payments/inbox/{transfer_id}/refund",
                     token_from="/c/xa-b/payments/inbox").status_code == 404


def test_the_district_settles_a_transfer_paid_twice_by_a_refund(app, client, world, make):
    make.user("district@gialam.vn", "district_admin")
    arrive(app, world["intent_a"].reference_code, 150_000)
    second = arrive(app, world["intent_a"].reference_code, 150_000)
    assert transfer(app, second)["status"] == "duplicate"
    login(client, "district@gialam.vn")
    response = post_form(client, f"/district/payments/inbox/{second}/refund", token_from="/district/payments/inbox")
    refund = the_refund(app)
    assert response.headers["Location"].endswith(f"/c/xa-a/payments/refunds/{refund.public_id}")
    assert (refund.amount, refund.reason, refund.tenant_id) == (150_000, "duplicate", world["a"].id)
    assert transfer(app, second)["status"] == "resolved"
    again = post_form(client, f"/district/payments/inbox/{second}/refund", token_from="/district/payments/inbox")
    assert again.status_code == 302
    with app.app_context(), all_tenants():
        assert len(db.session.scalars(select(Refund)).all()) == 1  # handled already: no second refund


def test_only_overpaid_late_or_duplicate_items_are_refunded_from_the_inbox(app, client, world):
    short = arrive(app, world["intent_a"].reference_code, 50_000)
    login(client, "officer@a.vn")
    post_form(client, f"/c/xa-a/payments/inbox/{short}/refund", token_from="/c/xa-a/payments/inbox")
    with app.app_context(), all_tenants():
        assert db.session.scalars(select(Refund)).all() == []
    assert transfer(app, short)["status"] == "short"


def test_the_refunds_page_lists_the_communes_refunds_those_to_send_first(app, client, world):
    first = arrive(app, world["intent_a"].reference_code, 200_000)
    login(client, "officer@a.vn")
    post_form(client, f"/c/xa-a/payments/inbox/{first}/refund", token_from="/c/xa-a/payments/inbox")
    sent = the_refund(app)
    post_form(client, f"/c/xa-a/payments/refunds/{sent.public_id}/confirm", token_from="/c/xa-a/payments/refunds/")
    second = arrive(app, world["intent_a"].reference_code, 150_000)  # paid twice
    post_form(client, f"/c/xa-a/payments/inbox/{second}/refund", token_from="/c/xa-a/payments/inbox")
    html = client.get("/c/xa-a/payments/refunds/").get_data(as_text=True)
    rows = re.findall(r'data-testid="refund-row">.*?<code>(HT\w+)</code>.*?badge \w+">([^<]+)<', html, re.S)
    assert [status for _code, status in rows] == ["Chờ chuyển", "Đã hoàn tiền"]
    assert rows[1][0] == sent.reference_code

    other = app.test_client()
    login(other, "officer@b.vn")
    assert 'data-testid="refunds-empty"' in other.get("/c/xa-b/payments/refunds/").get_data(as_text=True)
