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
    with pytest.raises(ValidationError, match="shipped|giao"):
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
