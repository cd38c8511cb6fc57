"""A producer's cancel is one unit of work with what its caller does (issue #15, item 5): payments flush, the
caller's boundary commits or rolls everything back. Runs on PostgreSQL too (TEST_DATABASE_URL)."""

from __future__ import annotations

import pytest

from app import transactions
from marketplace import services
from tenants.scoping import tenant_context
from tests.conftest import csrf_token, login
from tests.marketplace.helpers import checkout, make_vendor_user, product_state, sub_orders
from tests.payments.helpers import deadlock_once, event_types


def test_a_cancel_the_caller_rolls_back_cancels_nothing_and_releases_no_stock(app, shop):
    """Before: ``cancel_intent`` committed inside payments, so the sub-order and its intent stayed canceled and
    the units released after the caller rolled back."""
    p = shop["products"]
    code = checkout(app, [(p["binh"], 2)])
    [sub] = sub_orders(app, code)
    assert product_state(app, p["binh"])["reserved"] == 2

    with app.app_context(), tenant_context(shop["tenants"]["bat_trang"]):
        def cancel_then_fail():
            services.act_on_sub_order(sub["vendor_id"], sub["id"], "cancel", "Hết hàng")
            raise RuntimeError("the caller fails after the cancel")

        with pytest.raises(RuntimeError):
            transactions.run(cancel_then_fail)

    [after] = sub_orders(app, code)
    assert (after["status"], after["intent_status"]) == ("awaiting_payment", "requires_action")
    assert product_state(app, p["binh"])["reserved"] == 2


def test_a_cancel_that_commits_cancels_the_sub_order_and_its_intent_together(app, shop):
    p = shop["products"]
    code = checkout(app, [(p["binh"], 2)])
    [sub] = sub_orders(app, code)
    with app.app_context(), tenant_context(shop["tenants"]["bat_trang"]):
        transactions.run(lambda: services.act_on_sub_order(sub["vendor_id"], sub["id"], "cancel", "Hết hàng"))
    [after] = sub_orders(app, code)
    assert (after["status"], after["intent_status"]) == ("canceled", "canceled")
    assert product_state(app, p["binh"])["reserved"] == 0


def test_a_vendors_cancel_that_deadlocks_applies_once_on_the_retry(app, client, shop, postgres):
    """PostgreSQL: the cancel's transaction is aborted by a deadlock after the sub-order, the stock and the intent
    were written; the boundary runs the post again, and the units are released once."""
    p = shop["products"]
    code = checkout(app, [(p["binh"], 2)])
    [sub] = sub_orders(app, code)
    make_vendor_user(app, shop["tenants"]["bat_trang"], shop["vendors"]["gom"], "gom@bt.vn")
    login(client, "gom@bt.vn")
    token = csrf_token(client, "/c/bat-trang/marketplace/products/new")
    with deadlock_once("payment_intent.canceled") as seen:
        response = client.post(f"/c/bat-trang/marketplace/orders/{sub['id']}/cancel",
                               data={"reason": "Hết hàng", "csrf_token": token})
    assert response.status_code == 302
    assert len(seen) == 2
    [after] = sub_orders(app, code)
    assert (after["status"], after["intent_status"]) == ("canceled", "canceled")
    assert product_state(app, p["binh"]) == {"stock": 5, "reserved": 0, "status": "published"}
    assert event_types(app, sub["intent"]).count("payment_intent.canceled") == 1
