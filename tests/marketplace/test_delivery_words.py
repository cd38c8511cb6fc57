"""#19 item 4 and the shopper's "I received it": "delivering" and "delivered" read differently in Vietnamese and
English, the order's headline follows delivery, the vendor ledger's "To" date is a date; the shopper confirms a
producer's part arrived, and the producer sees it."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from marketplace import services
from tests.conftest import csrf_token, login
from tests.marketplace.helpers import checkout, sub_orders
from tests.marketplace.test_views_vendor import _paid_order, _post, vendors  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("bank_secrets")


def _labels(app, lang):
    from flask_babel import force_locale

    from marketplace.statuses import status_label

    with app.test_request_context(), force_locale(lang):
        return str(status_label("shipped")), str(status_label("delivered"))


def test_shipped_and_delivered_read_differently_in_both_languages(app):
    assert _labels(app, "vi") == ("Đang giao hàng", "Đã giao hàng")
    assert _labels(app, "en") == ("Shipped", "Delivered")


def _headline(client, code):
    page = client.get(f"/marketplace/orders/{code}").get_data(as_text=True)
    return re.search(r'data-testid="order-state" data-state="(\w+)"', page).group(1)


def _order_of_shopper(app, shopper, product_id):
    shopper.post("/marketplace/cart/add", data={"product_id": product_id, "quantity": "1"})
    token = csrf_token(shopper, "/marketplace/checkout")
    response = shopper.post("/marketplace/checkout", data={"csrf_token": token, "name": "Bình", "phone":
                                                           "0912345678", "address": "Trâu Quỳ"})
    code = response.headers["Location"].rsplit("/", 1)[1]
    [sub] = sub_orders(app, code)
    from tests.payments.helpers import post_sepay, sepay_payload

    post_sepay(app.test_client(), sepay_payload(sub["account_number"], sub["reference"], sub["amount"]))
    return code, sub


def test_the_headline_follows_delivery_and_the_shopper_says_i_received_it(app, client, vendors):
    shopper = app.test_client()
    code, sub = _order_of_shopper(app, shopper, vendors["products"]["binh"])
    assert _headline(shopper, code) == "paid"
    login(client, "gom@bt.vn")
    page = shopper.get(f"/marketplace/orders/{code}").get_data(as_text=True)
    assert 'data-testid="received"' not in page  # not before the producer has confirmed
    _post(client, f"/c/bat-trang/marketplace/orders/{sub['id']}/confirm")
    _post(client, f"/c/bat-trang/marketplace/orders/{sub['id']}/ship")
    assert _headline(shopper, code) == "shipped"
    token = csrf_token(shopper, f"/marketplace/orders/{code}")
    stranger = app.test_client()  # not the session that placed the order: the order does not exist for it
    assert stranger.post(f"/marketplace/orders/{code}/received/{sub['id']}",
                         data={"csrf_token": csrf_token(stranger, "/marketplace/orders/find")}).status_code == 404
    answer = shopper.post(f"/marketplace/orders/{code}/received/{sub['id']}", data={"csrf_token": token})
    assert answer.status_code == 302
    assert sub_orders(app, code)[0]["status"] == "delivered"
    assert _headline(shopper, code) == "delivered"
    assert 'data-testid="received-by-shopper"' in shopper.get(f"/marketplace/orders/{code}").get_data(as_text=True)
    vendor_page = client.get(f"/c/bat-trang/marketplace/orders/{sub['id']}").get_data(as_text=True)
    assert 'data-testid="received-by-shopper"' in vendor_page
    again = shopper.post(f"/marketplace/orders/{code}/received/{sub['id']}", data={"csrf_token": token})
    assert again.status_code == 302 and sub_orders(app, code)[0]["status"] == "delivered"


def test_an_unpaid_part_cannot_be_marked_received(app, shop):
    code = checkout(app, [(shop["products"]["binh"], 1)])
    [sub] = sub_orders(app, code)
    with app.app_context():
        from marketplace.models import Order
        from sqlalchemy import select

        order = db.session.scalar(select(Order).where(Order.code == code))
        with pytest.raises(services.ValidationError):
            services.shopper_received(order, sub["id"])


def test_the_vendor_ledger_to_date_is_a_date_not_a_recipient(app, client, make):
    from tests.tenants.market.helpers import make_vendor

    tenant = make.tenant("trau-quy", "Trâu Quỳ")
    login(client, make_vendor(app, tenant).email)
    page = client.get("/c/trau-quy/market/me/sales").get_data(as_text=True)  # Vietnamese, the default
    assert "Người nhận" not in page
    assert re.search(r"Đến ngày\s*<input type=\"date\" name=\"end\"", page)
