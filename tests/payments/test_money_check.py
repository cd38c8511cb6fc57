"""``flask payments check``: clean on the seeded demo, and each money invariant of issue #15 reported when broken
(exit code 1). tests/conftest.py also runs it after every PostgreSQL concurrency and race test."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.payments.bank.notifications import BankTransaction
from app.payments.bank.reconciliation import confirm_transfer
from app.payments.models import Event, PaymentIntent, Refund
from tenants.scoping import all_tenants
from tests.payments.helpers import ACCOUNT_A, make_account, make_intent

pytestmark = pytest.mark.usefixtures("bank_secrets")


def check(app) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["payments", "check"])
    return result.exit_code, result.output


def test_clean_on_the_seeded_demo(app, runner):
    app.config["DEMO_PAYMENT_DAYS"] = 3  # the demo's payment history too: paid, short, refunded, late
    try:
        seeded = runner.invoke(args=["seed-demo"])
        assert seeded.exit_code == 0, seeded.output
    finally:
        app.config["DEMO_PAYMENT_DAYS"] = 0
    assert check(app) == (0, "Money invariants: no violation.\n")


@pytest.fixture
def paid(app, make):
    tenant = make.tenant("bat-trang", "Bát Tràng")
    intent = make_intent(app, make_account(app, tenant, ACCOUNT_A), 100_000)
    with app.app_context():
        confirm_transfer(BankTransaction(
            provider="sepay", provider_txn_id=uuid.uuid4().hex, amount=100_000, content=intent.reference_code,
            account_number=ACCOUNT_A, bank=None, occurred_at=datetime.now(timezone.utc), reference="FT1", raw={}))
        db.session.commit()
    assert check(app)[0] == 0
    return intent


def _change(app, statement) -> None:
    with app.app_context(), all_tenants():
        db.session.execute(statement)
        db.session.commit()


def test_a_refund_over_what_the_bank_moved_is_reported(app, paid):
    with app.app_context(), all_tenants():
        intent = db.session.get(PaymentIntent, paid.id)
        db.session.add(Refund(tenant_id=intent.tenant_id, public_id="re_over", account_id=intent.account_id,
                              intent_id=intent.id, amount=150_000, status="pending", reference_code="HTOVER001"))
        intent.amount_refunded = 150_000
        db.session.commit()
    code, output = check(app)
    assert code == 1 and f"refunds: {paid.public_id}: refunded 150000" in output


def test_a_second_succeeded_event_is_reported(app, paid):
    with app.app_context(), all_tenants():
        event = db.session.scalar(select(Event).where(Event.type == "payment_intent.succeeded"))
        db.session.add(Event(tenant_id=event.tenant_id, public_id="evt_twice", account_id=event.account_id,
                             type=event.type, intent_id=event.intent_id, data=event.data))
        db.session.commit()
    code, output = check(app)
    assert code == 1 and f"events: {paid.public_id}: succeeded with 2" in output


def test_received_more_than_the_banks_reported_is_reported(app, paid):
    _change(app, update(PaymentIntent).where(PaymentIntent.id == paid.id).values(amount_received=200_000))
    code, output = check(app)
    assert code == 1 and f"received: {paid.public_id}: amount_received 200000 but banks reported 100000" in output


def test_reserved_stock_not_held_by_an_unpaid_sub_order_is_reported(app, make):
    from marketplace.models import Product
    from tests.marketplace.helpers import make_product, make_vendor

    tenant = make.tenant("bat-trang", "Bát Tràng")
    product = make_product(app, tenant, make_vendor(app, tenant), stock=5)
    _change(app, update(Product).where(Product.id == product).values(reserved=2))
    code, output = check(app)
    assert code == 1 and f"marketplace reserved stock: product {product}: reserved 2" in output


def test_a_paid_sale_whose_intent_did_not_succeed_is_reported(app, make):
    from tenants.market import services
    from tenants.market.models import MarketSale
    from tenants.scoping import tenant_context
    from tests.tenants.market.helpers import make_market, make_vendor

    tenant = make.tenant("trau-quy", "Trâu Quỳ")
    _, stalls = make_market(app, tenant)
    vendor = make_vendor(app, tenant, stall_id=stalls[0])
    with app.app_context(), tenant_context(tenant):
        sale_id = services.record_qr_sale(vendor.id, 50_000).id
        db.session.commit()
    assert check(app)[0] == 0
    _change(app, update(MarketSale).where(MarketSale.id == sale_id)
            .values(status="paid", paid_at=datetime.now(timezone.utc)))
    code, output = check(app)
    assert code == 1 and f"market ledger: sale {sale_id} is paid" in output
