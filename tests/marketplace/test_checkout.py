"""Checkout: one order, one sub-order per vendor with its own intent on the vendor's account, stock held by a
conditional update; payments move sub-orders on (paid, expired, late, duplicate)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app import transactions

from app.errors import ValidationError
from marketplace import services
from tests.marketplace.helpers import checkout, make_product, make_vendor, product_state, sub_orders
from tests.payments.helpers import post_sepay, sepay_payload

pytestmark = pytest.mark.usefixtures("bank_secrets")


def test_one_checkout_splits_into_one_sub_order_per_vendor_each_paid_to_its_own_account(app, shop):
    p = shop["products"]
    code = checkout(app, [(p["binh"], 2), (p["am"], 1), (p["vang"], 1)])
    subs = sub_orders(app, code)
    assert [s["subtotal"] for s in subs] == [500_000, 450_000, 1_200_000]
    assert len({s["account_number"] for s in subs}) == 3
    assert all(s["purpose"] == "marketplace_order" and s["status"] == "awaiting_payment" for s in subs)
    assert [s["intent_tenant"] for s in subs] == [s["tenant_id"] for s in subs]
    assert subs[2]["tenant_id"] == shop["tenants"]["kieu_ky"].id
    assert [s["amount"] for s in subs] == [s["subtotal"] for s in subs]
    assert product_state(app, p["binh"]) == {"stock": 5, "reserved": 2, "status": "published"}


def test_two_lines_of_one_product_cannot_exceed_its_stock(app, shop):
    p = shop["products"]
    with pytest.raises(services.OutOfStock):
        checkout(app, [(p["am"], 2), (p["am"], 2)])
    assert product_state(app, p["am"])["reserved"] == 0


def test_out_of_stock_in_one_vendor_orders_nothing_at_all(app, shop):
    p = shop["products"]
    with pytest.raises(services.OutOfStock):
        checkout(app, [(p["binh"], 1), (p["vang"], 3)])
    assert product_state(app, p["binh"])["reserved"] == 0
    assert product_state(app, p["vang"])["reserved"] == 0


def test_drafts_and_vendors_without_account_cannot_be_bought(app, make, shop):
    p = shop["products"]
    with pytest.raises(ValidationError):
        checkout(app, [(p["draft"], 1)])
    tenant = shop["tenants"]["bat_trang"]
    no_account = make_vendor(app, tenant, "Hộ chưa có tài khoản", account=False)
    product = make_product(app, tenant, no_account, "Lọ hoa gốm")
    with pytest.raises(ValidationError):
        checkout(app, [(product, 1), (p["binh"], 1)])
    assert product_state(app, p["binh"])["reserved"] == 0


def _pay(client, sub, amount=None, txn_id=None):
    return post_sepay(client, sepay_payload(sub["account_number"], f"thanh toan {sub['reference']}",
                                            amount or sub["amount"], txn_id=txn_id))


def test_a_payment_sells_the_held_units_and_a_duplicate_notification_does_not_pay_twice(app, client, shop):
    p = shop["products"]
    code = checkout(app, [(p["binh"], 2)])
    [sub] = sub_orders(app, code)
    assert _pay(client, sub, txn_id=777).status_code == 200
    assert _pay(client, sub, txn_id=777).status_code == 200
    [sub] = sub_orders(app, code)
    assert sub["status"] == "paid" and sub["intent_status"] == "succeeded"
    assert product_state(app, p["binh"]) == {"stock": 3, "reserved": 0, "status": "published"}


def test_a_second_different_transfer_for_a_paid_sub_order_flags_a_refund(app, client, shop):
    p = shop["products"]
    code = checkout(app, [(p["binh"], 1)])
    [sub] = sub_orders(app, code)
    _pay(client, sub, txn_id=1)
    _pay(client, sub, txn_id=2)
    [sub] = sub_orders(app, code)
    assert sub["status"] == "paid" and sub["refund_due"] is True
    assert product_state(app, p["binh"]) == {"stock": 4, "reserved": 0, "status": "published"}


def test_expiry_releases_the_held_stock(app, shop):
    p = shop["products"]
    code = checkout(app, [(p["vang"], 2)])
    assert product_state(app, p["vang"])["reserved"] == 2
    with app.app_context():
        assert transactions.run(lambda: services.expire_holds(datetime.now(timezone.utc) + timedelta(minutes=31))) == 1
    [sub] = sub_orders(app, code)
    assert sub["status"] == "expired" and sub["intent_status"] == "canceled"
    assert product_state(app, p["vang"]) == {"stock": 2, "reserved": 0, "status": "published"}


def test_the_hold_is_configurable(app, shop):
    code = checkout(app, [(shop["products"]["vang"], 1)], hold=timedelta(minutes=5))
    with app.app_context():
        assert transactions.run(lambda: services.expire_holds(datetime.now(timezone.utc) + timedelta(minutes=6))) == 1
    assert sub_orders(app, code)[0]["status"] == "expired"


def test_a_late_payment_takes_the_stock_again_when_it_is_still_there(app, client, shop):
    p = shop["products"]
    code = checkout(app, [(p["vang"], 1)])
    with app.app_context():
        transactions.run(lambda: services.expire_holds(datetime.now(timezone.utc) + timedelta(minutes=31)))
    [sub] = sub_orders(app, code)
    assert _pay(client, sub).status_code == 200
    [sub] = sub_orders(app, code)
    assert (sub["status"], sub["late_payment"], sub["refund_due"]) == ("paid", True, False)
    assert product_state(app, p["vang"]) == {"stock": 1, "reserved": 0, "status": "published"}


def test_a_late_payment_without_stock_is_flagged_for_a_refund(app, client, shop):
    p = shop["products"]
    code = checkout(app, [(p["vang"], 2)])
    with app.app_context():
        transactions.run(lambda: services.expire_holds(datetime.now(timezone.utc) + timedelta(minutes=31)))
    other = checkout(app, [(p["vang"], 1)])  # someone else holds one of the two units meanwhile
    [sub] = sub_orders(app, code)
    _pay(client, sub)
    [sub] = sub_orders(app, code)
    assert (sub["status"], sub["refund_due"]) == ("expired", True)
    assert product_state(app, p["vang"]) == {"stock": 2, "reserved": 1, "status": "published"}
    assert sub_orders(app, other)[0]["status"] == "awaiting_payment"


def test_buyer_details_are_checked(app):
    with app.app_context():
        with pytest.raises(ValidationError) as err:
            services.clean_buyer("An", "12345", "Hà Nội")
        assert err.value.field == "phone"
        assert services.clean_buyer(" An ", "+84 912 345 678", "Hà Nội").phone == "0912345678"


def test_the_payments_expire_command_releases_holds_past_their_time(app, runner, shop):
    code = checkout(app, [(shop["products"]["vang"], 1)], hold=timedelta(seconds=1))
    import time

    time.sleep(2.1)  # deadlines are whole seconds, rounded up
    result = runner.invoke(args=["payments", "expire"])  # the one expiry command, for every purpose
    assert result.exit_code == 0 and "1 payment intents expired." in result.output
    assert sub_orders(app, code)[0]["status"] == "expired"
    assert product_state(app, shop["products"]["vang"])["reserved"] == 0


def test_there_is_one_expiry_command(runner):
    """`flask payments expire` expires every purpose's intents; the marketplace has no command repeating it."""
    assert runner.invoke(args=["marketplace", "expire"]).exit_code != 0
    assert runner.invoke(args=["payments", "expire", "--help"]).exit_code == 0


def test_a_new_order_code_that_collides_is_drawn_again(app, shop, monkeypatch):
    p = shop["products"]
    taken = checkout(app, [(p["binh"], 1)])
    draws = iter([taken, taken, "DH2345ABCD"])
    monkeypatch.setattr(services, "new_order_code", lambda: next(draws))
    code = checkout(app, [(p["am"], 1)], phone="0912000111")
    assert code == "DH2345ABCD"
    assert [s["subtotal"] for s in sub_orders(app, code)] == [450_000]
    assert len(sub_orders(app, taken)) == 1  # the first order is untouched
    assert product_state(app, p["am"])["reserved"] == 1


def test_a_code_that_keeps_colliding_orders_nothing_and_says_so(app, shop, monkeypatch):
    from app.errors import Conflict

    p = shop["products"]
    taken = checkout(app, [(p["binh"], 1)])
    monkeypatch.setattr(services, "new_order_code", lambda: taken)

    def work():
        services.checkout([(p["am"], 1)], services.clean_buyer("Trần Thị Bình", "0912000111", "Số 1 Trâu Quỳ"),
                          timedelta(minutes=30))

    with app.app_context(), pytest.raises(Conflict):
        transactions.run(work)
    assert product_state(app, p["am"])["reserved"] == 0 and len(sub_orders(app, taken)) == 1
