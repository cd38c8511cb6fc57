"""Money under interleavings (PostgreSQL only: SQLite serialises writers, so it cannot show them).

Issue #15 item 1: a vendor's "I have received the money" racing the bank's notification of the same sale
deadlocked (one side locked the sale then the intent, the other the intent then the sale). Every path now takes the
payment intent before any domain row (app/locks.py), so the two queue: 60 races, never a 500 or a 503.

Item 2: a confirmation by hand is a claim, not money. Vendor first and bank after (or racing), the intent shows
the bank's amount once, nothing is flagged overpaid, and /v1/refunds refuses more than the bank moved.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import stripe
from sqlalchemy import select

from app import transactions
from app.auth.models import User
from app.errors import ValidationError
from app.extensions import db
from app.payments import refunds
from app.payments.bank import reconciliation
from app.payments.models import BankTransfer, PaymentIntent
from marketplace import services as marketplace_services
from tenants.market import payments as market_payments
from tenants.market import services as market_services
from tenants.scoping import all_tenants, tenant_context
from tests.conftest import csrf_token, login
from tests.marketplace.helpers import make_product, make_vendor_user, product_state, sub_orders
from tests.marketplace.helpers import make_vendor as make_marketplace_vendor
from tests.payments.helpers import claims, event_types, intent_state, sepay_payload, sepay_request, transfers
from tests.payments.test_concurrency import _all_at_once
from tests.tenants.market.helpers import make_market, make_vendor, sale

pytestmark = pytest.mark.usefixtures("bank_secrets", "postgres")

RACES = 60
ACCOUNT = "113366668888"


def _in_context(app, call):
    def job():
        with app.app_context():
            return call()
    return job


@pytest.fixture
def stall(app, make, client):
    tenant = make.tenant("trau-quy", "Trâu Quỳ")
    _, stalls = make_market(app, tenant)
    vendor = make_vendor(app, tenant, stall_id=stalls[0], account_number=ACCOUNT)
    login(client, vendor.email)
    return {"tenant": tenant, "vendor": vendor, "token": csrf_token(client, "/c/trau-quy/market/me/sales")}


def _new_sale(app, stall, amount=150_000) -> tuple[int, str]:
    with app.app_context(), tenant_context(stall["tenant"]):
        row = market_services.record_qr_sale(stall["vendor"].id, amount, "cá rô")
        db.session.commit()
        return row.id, market_payments.sale_intent(row.intent_id).public_id


def _reference(app, public_id: str) -> str:
    with app.app_context(), all_tenants():
        return db.session.scalar(select(PaymentIntent.reference_code).where(PaymentIntent.public_id == public_id))


def _bank(app, reference: str, amount: int, txn_id: int):
    body, headers = sepay_request(sepay_payload(ACCOUNT, reference, amount, txn_id=txn_id, gateway="VietinBank"))
    return _in_context(app, lambda: app.test_client().post("/webhooks/sepay", data=body, headers=headers).status_code)


def _bank_money(app, public_id: str) -> int:
    with app.app_context(), all_tenants():
        intent = db.session.scalar(select(PaymentIntent).where(PaymentIntent.public_id == public_id))
        return refunds.received_amount(intent)


def test_vendor_confirming_a_sale_racing_the_banks_notification_60_times(app, client, stall):
    outcomes = []
    for n in range(RACES):
        sale_id, public_id = _new_sale(app, stall)
        confirm = _in_context(app, lambda sale_id=sale_id: client.post(
            f"/c/trau-quy/market/me/sales/{sale_id}/confirm", data={"csrf_token": stall["token"]}).status_code)
        vendor, bank = _all_at_once([confirm, _bank(app, _reference(app, public_id), 150_000, 910_000 + n)])
        outcomes.append((vendor, bank))
        assert vendor == 302 and bank == 200, (n, vendor, bank)
        assert sale(app, sale_id).status == "paid"
        state = intent_state(app, public_id)
        assert (state["status"], state["amount_received"], state["flag"]) == ("succeeded", 150_000, None)
        assert event_types(app, public_id).count("payment_intent.succeeded") == 1
        assert _bank_money(app, public_id) == 150_000
    assert {t["status"] for t in transfers(app)} == {"matched"}  # nothing duplicate, nothing overpaid
    assert {c["status"] for c in claims(app)} <= {"settled"}  # a claim the vendor won was settled by the bank


def test_vendor_first_then_the_bank_counts_the_money_once_and_refunds_stop_at_it(app, client, stall, make_api_key,
                                                                                 live_server):
    from app.payments.accounts import create_api_key
    from app.payments.models import PaymentAccount

    sale_id, public_id = _new_sale(app, stall, 80_000)
    assert client.post(f"/c/trau-quy/market/me/sales/{sale_id}/confirm",
                       data={"csrf_token": stall["token"]}).status_code == 302
    assert intent_state(app, public_id)["amount_received"] == 0  # a claim is not money
    assert _bank(app, _reference(app, public_id), 80_000, 4242)() == 200
    state = intent_state(app, public_id)
    assert (state["status"], state["amount_received"], state["flag"]) == ("succeeded", 80_000, None)
    [claim] = claims(app)
    assert claim["status"] == "settled"
    with app.app_context(), tenant_context(stall["tenant"]):
        account = db.session.scalar(select(PaymentAccount).where(PaymentAccount.account_number == ACCOUNT))
        _key, secret = create_api_key(account)
        db.session.commit()
    sdk = stripe.StripeClient(api_key=secret, base_addresses={"api": live_server}, max_network_retries=0)
    with pytest.raises(stripe.InvalidRequestError):
        sdk.v1.refunds.create(params={"payment_intent": public_id, "amount": 160_000})
    assert sdk.v1.refunds.create(params={"payment_intent": public_id, "amount": 80_000}).amount == 80_000
    with pytest.raises(stripe.InvalidRequestError):
        sdk.v1.refunds.create(params={"payment_intent": public_id, "amount": 1})


def test_a_claim_never_funds_a_refund(app, client, stall):
    sale_id, public_id = _new_sale(app, stall, 80_000)
    client.post(f"/c/trau-quy/market/me/sales/{sale_id}/confirm", data={"csrf_token": stall["token"]})
    with app.app_context(), tenant_context(stall["tenant"]):
        intent = db.session.scalar(select(PaymentIntent).where(PaymentIntent.public_id == public_id))
        with pytest.raises(ValidationError):  # nothing left to refund: the bank moved nothing yet
            refunds.create_refund(intent)
        db.session.rollback()


# --- a marketplace sub-order ------------------------------------------------------------------------------------

@pytest.fixture
def shop(app, make):
    tenant = make.tenant("bat-trang", "Bát Tràng")
    vendor_id = make_marketplace_vendor(app, tenant)
    make_vendor_user(app, tenant, vendor_id, "gom@bat-trang.vn")
    officer = make.user("officer@bat-trang.vn", "officer", tenant)
    product = make_product(app, tenant, vendor_id, "Bình gốm", stock=RACES * 2, price=100_000)
    return {"tenant": tenant, "vendor_id": vendor_id, "product": product, "officer_id": officer.id}


def _order(app, shop) -> dict:
    with app.app_context():
        order = marketplace_services.checkout([(shop["product"], 1)],
                                              marketplace_services.clean_buyer("Khách", "0912345678", "Hà Nội"),
                                              timedelta(minutes=30))
        db.session.commit()
        code = order.code
    [sub] = sub_orders(app, code)
    return sub | {"code": code}


def _sub_bank(app, sub: dict, txn_id: int):
    body, headers = sepay_request(sepay_payload(sub["account_number"], sub["reference"], sub["amount"],
                                                txn_id=txn_id))
    return _in_context(app, lambda: app.test_client().post("/webhooks/sepay", data=body, headers=headers).status_code)


def test_staff_confirming_a_sub_order_by_hand_racing_the_bank_60_times(app, shop):
    def by_hand(sub):
        def work():
            with tenant_context(shop["tenant"]):
                return reconciliation.confirm_by_hand(sub["intent"], sub["amount"],
                                                      db.session.get(User, shop["officer_id"]), "seen in the app")
        return _in_context(app, lambda: _refused_or_done(lambda: transactions.run(work)))

    for n in range(RACES):
        sub = _order(app, shop)
        hand, bank = _all_at_once([by_hand(sub), _sub_bank(app, sub, 920_000 + n)])
        assert hand in ("claimed", "refused") and bank == 200, (n, hand, bank)
        [after] = sub_orders(app, sub["code"])
        assert (after["status"], after["refund_due"], after["intent_status"]) == ("paid", False, "succeeded")
        state = intent_state(app, sub["intent"])
        assert (state["amount_received"], state["flag"]) == (100_000, None)
    assert product_state(app, shop["product"]) == {"stock": RACES, "reserved": 0, "status": "published"}


def _refused_or_done(call):
    from app.errors import DomainError

    try:
        call()
        return "claimed"
    except DomainError:
        return "refused"


def test_a_vendor_canceling_a_sub_order_racing_the_bank_never_deadlocks(app, shop):
    vendor_client = app.test_client()
    login(vendor_client, "gom@bat-trang.vn")
    token = csrf_token(vendor_client, "/c/bat-trang/marketplace/orders")
    for n in range(RACES // 2):
        sub = _order(app, shop)
        cancel = _in_context(app, lambda sub=sub: vendor_client.post(
            f"/c/bat-trang/marketplace/orders/{sub['id']}/cancel",
            data={"csrf_token": token, "reason": "hết hàng"}).status_code)
        vendor, bank = _all_at_once([cancel, _sub_bank(app, sub, 930_000 + n)])
        assert vendor == 302 and bank == 200, (n, vendor, bank)
        [after] = sub_orders(app, sub["code"])
        assert after["status"] == "canceled"
        # Money that came: counted by the bank, waiting for the vendor's refund; no units held for a canceled order.
        with app.app_context(), all_tenants():
            moved = db.session.scalar(select(BankTransfer.status)
                                      .where(BankTransfer.provider_txn_id == str(930_000 + n)))
        assert moved in ("matched", "late")
        assert after["refund_due"] is (moved == "matched") or moved == "late"
    assert product_state(app, shop["product"])["reserved"] == 0
