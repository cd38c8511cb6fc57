"""The marketplace decides about the money it consumed (issue #15 item 4): refunding a paid sub-order's money goes
through its reaction to ``refund.created`` (units back, the sub-order canceled as refunded) or is refused with a
reason (goods shipped); a late payment the order took leaves the inbox, so "Give the money back" cannot refund goods
the shopper keeps. ``flask payments check`` stays clean."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from app import transactions
from app.errors import ValidationError
from app.extensions import db
from app.payments import refunds
from app.payments.bank import reconciliation
from app.payments.models import PaymentIntent
from marketplace import services
from marketplace.models import SubOrder
from tenants.scoping import all_tenants, tenant_context
from tests.marketplace.helpers import checkout, product_state, sub_orders
from tests.marketplace.test_checkout import _pay
from tests.payments.helpers import transfers

pytestmark = pytest.mark.usefixtures("bank_secrets")


def _refund(app, sub):
    def work():
        with tenant_context(sub["tenant_id"]):
            intent = db.session.scalar(select(PaymentIntent).where(PaymentIntent.public_id == sub["intent"]))
            return refunds.create_refund(intent).amount
    with app.app_context():
        return transactions.run(work)


def _clean(app) -> None:
    result = app.test_cli_runner().invoke(args=["payments", "check"])
    assert result.exit_code == 0, result.output


def test_refunding_a_paid_sub_order_gives_its_units_back_and_cancels_it(app, client, shop):
    p = shop["products"]
    code = checkout(app, [(p["binh"], 2)])
    [sub] = sub_orders(app, code)
    _pay(client, sub)
    assert product_state(app, p["binh"]) == {"stock": 3, "reserved": 0, "status": "published"}
    assert _refund(app, sub) == sub["amount"]
    [after] = sub_orders(app, code)
    assert (after["status"], after["refund_due"]) == ("canceled", False)
    assert product_state(app, p["binh"]) == {"stock": 5, "reserved": 0, "status": "published"}
    _clean(app)


def test_refunding_a_shipped_sub_order_is_refused_with_a_reason(app, client, shop):
    p = shop["products"]
    code = checkout(app, [(p["binh"], 1)])
    [sub] = sub_orders(app, code)
    _pay(client, sub)
    with app.app_context(), all_tenants():
        db.session.execute(update(SubOrder).where(SubOrder.id == sub["id"]).values(status="shipped"))
        db.session.commit()
    with pytest.raises(ValidationError, match="shipped|gửi đi"):
        _refund(app, sub)
    [after] = sub_orders(app, code)
    assert after["status"] == "shipped"
    with app.app_context(), all_tenants():
        assert db.session.scalar(select(PaymentIntent.amount_refunded)
                                 .where(PaymentIntent.public_id == sub["intent"])) == 0
    _clean(app)


def test_a_late_payment_the_order_took_leaves_the_inbox(app, client, shop):
    p = shop["products"]
    code = checkout(app, [(p["vang"], 1)])
    [sub] = sub_orders(app, code)
    with app.app_context(), all_tenants():  # its time ran out a while ago: the bank's transfer is late
        db.session.execute(update(PaymentIntent).where(PaymentIntent.public_id == sub["intent"])
                           .values(expires_at=datetime.now(timezone.utc) - timedelta(hours=9)))  # SePay dates in Hanoi time
        db.session.commit()
        transactions.run(lambda: services.expire_holds(datetime.now(timezone.utc)))
    assert sub_orders(app, code)[0]["status"] == "expired"
    assert _pay(client, sub).status_code == 200
    [after] = sub_orders(app, code)
    assert (after["status"], after["late_payment"], after["intent_status"]) == ("paid", True, "succeeded")
    [transfer] = transfers(app)
    assert transfer["status"] == "resolved"
    with app.app_context():
        assert reconciliation.inbox_count(sub["tenant_id"]) == 0
    _clean(app)


# --- the market and the one-stop office decide too ------------------------------------------------------------

def test_refunding_a_paid_market_sale_takes_it_out_of_the_ledger(app, client, make):
    from tenants.market import payments as market_payments
    from tenants.market import services as market_services
    from tests.payments.helpers import post_sepay, sepay_payload
    from tests.tenants.market.helpers import make_market, make_vendor, sale

    tenant = make.tenant("trau-quy", "Trâu Quỳ")
    _, stalls = make_market(app, tenant)
    vendor = make_vendor(app, tenant, stall_id=stalls[0], account_number="113366668888")
    with app.app_context(), tenant_context(tenant):
        row = market_services.record_qr_sale(vendor.id, 60_000)
        db.session.commit()
        sale_id, intent = row.id, market_payments.sale_intent(row.intent_id)
        public_id, reference = intent.public_id, intent.reference_code
    post_sepay(client, sepay_payload("113366668888", reference, 60_000, gateway="VietinBank"))
    assert sale(app, sale_id).status == "paid"
    assert _refund(app, {"tenant_id": tenant.id, "intent": public_id}) == 60_000
    assert (sale(app, sale_id).status, sale(app, sale_id).paid_at) == ("canceled", None)
    _clean(app)


def test_the_fee_of_a_processed_dossier_is_not_refunded(app, client, make):
    from tenants.onestop.models import Dossier
    from tests.payments.helpers import ACCOUNT_A, make_account, post_sepay, sepay_payload
    from tests.tenants.onestop.conftest import counter_dossier, procedure, vn
    from tenants.onestop import services as onestop_services

    tenant = make.tenant("bat-trang", "Bát Tràng")
    officer = make.user("officer@bat-trang.vn", "officer", tenant)
    make_account(app, tenant, ACCOUNT_A)
    with app.app_context(), tenant_context(tenant):
        d = counter_dossier(officer, procedure(fee=8_000), vn(2026, 3, 2, 8, 0))
        onestop_services.request_fee(d, db.session.merge(officer))
        db.session.commit()
        dossier_id = d.id
        intent = db.session.scalar(select(PaymentIntent).where(PaymentIntent.id == d.fee_intent_id))
        public_id, reference = intent.public_id, intent.reference_code
    post_sepay(client, sepay_payload(ACCOUNT_A, reference, 8_000))
    with app.app_context(), all_tenants():
        db.session.execute(update(Dossier).where(Dossier.id == dossier_id).values(status="processed"))
        db.session.commit()
    with pytest.raises(ValidationError):
        _refund(app, {"tenant_id": tenant.id, "intent": public_id})
    with app.app_context(), all_tenants():
        db.session.execute(update(Dossier).where(Dossier.id == dossier_id).values(status="processing"))
        db.session.commit()
    assert _refund(app, {"tenant_id": tenant.id, "intent": public_id}) == 8_000  # not yet processed: the office may
    _clean(app)
