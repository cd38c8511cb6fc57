"""The producer's delivery (flat fee, estimate) or pick-up (place, estimate) and the shopper's choice per producer
in the cart (#19): the server computes the fee into the sub-order's amount and its VietQR; bad input is a 400 that
changes nothing; the order page, the producer's order and the receipt show the choice. Plus the receipt line per
paid part on the order page, and the payee's name before paying."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.errors import ValidationError
from app.extensions import db
from app.payments import vietqr
from app.payments.models import PaymentIntent
from marketplace import services
from marketplace.models import Order, SubOrder
from tenants.scoping import all_tenants
from tenants.vendors.models import Vendor
from tests.conftest import csrf_token, login
from tests.marketplace.helpers import check_out_page, checkout, make_vendor_user, offer, product_state, sub_orders
from tests.payments.helpers import post_sepay, sepay_payload

pytestmark = pytest.mark.usefixtures("bank_secrets")


def _vendor(app, vendor_id) -> dict:
    with app.app_context(), all_tenants():
        v = db.session.scalar(select(Vendor).where(Vendor.id == vendor_id))
        return {"offers_delivery": v.offers_delivery, "delivery_fee": v.delivery_fee,
                "delivery_estimate": v.delivery_estimate, "offers_pickup": v.offers_pickup,
                "pickup_place": v.pickup_place, "pickup_estimate": v.pickup_estimate}


@pytest.fixture
def both(app, shop):
    """Gốm Minh Long delivers for 30.000 ₫ in 2–3 days or has its goods picked up at the workshop."""
    offer(app, shop["tenants"]["bat_trang"], shop["vendors"]["gom"], delivery_fee=30_000,
           delivery_estimate="2–3 ngày", offers_pickup=True, pickup_place="Xưởng gốm, thôn 3 Bát Tràng",
           pickup_estimate="1 ngày")
    return shop


def _orders(app) -> int:
    with app.app_context(), all_tenants():
        return db.session.scalar(select(func.count()).select_from(Order))


# ------------------------------------------------------------------------------------------------ the settings


@pytest.mark.parametrize("data, field", [
    ({"offers_delivery": True, "delivery_fee": "-5000"}, "delivery_fee"),
    ({"offers_delivery": True, "delivery_fee": "ba mươi nghìn"}, "delivery_fee"),
    ({"offers_delivery": True, "delivery_fee": "20.000.000"}, "delivery_fee"),
    ({"offers_delivery": True, "delivery_fee": ""}, "delivery_fee"),
    ({"offers_delivery": False, "offers_pickup": False}, "offers_delivery"),
    ({"offers_pickup": True, "pickup_place": "  "}, "pickup_place"),
    ({"offers_delivery": True, "delivery_fee": "0", "delivery_estimate": "x" * 61}, "delivery_estimate"),
])
def test_bad_delivery_settings_are_refused_by_field(data, field):
    with pytest.raises(ValidationError) as refused:
        services.clean_shop_delivery(data)
    assert refused.value.field == field


def test_delivery_settings_take_the_fee_as_vietnamese_write_it_and_zero_is_free():
    assert services.clean_shop_delivery({"offers_delivery": True, "delivery_fee": "30.000 ₫",
                                         "delivery_estimate": " 2–3 ngày "}) == {
        "offers_delivery": True, "delivery_fee": 30_000, "delivery_estimate": "2–3 ngày", "offers_pickup": False,
        "pickup_place": "", "pickup_estimate": ""}
    assert services.clean_shop_delivery({"offers_delivery": True, "delivery_fee": "0"})["delivery_fee"] == 0
    only_pickup = services.clean_shop_delivery({"offers_pickup": True, "pickup_place": "Quầy 12 chợ Bát Tràng",
                                                "delivery_fee": "50.000"})
    assert only_pickup["delivery_fee"] == 0 and only_pickup["offers_delivery"] is False


def test_the_producer_sets_delivery_and_pick_up_in_its_shop_settings(app, client, both):
    make_vendor_user(app, both["tenants"]["bat_trang"], both["vendors"]["gom"], "gom@bt.vn")
    login(client, "gom@bt.vn")
    page = client.get("/c/bat-trang/marketplace/delivery")
    assert page.status_code == 200 and 'value="30000"' in page.get_data(as_text=True)
    token = csrf_token(client, "/c/bat-trang/marketplace/delivery")
    before = _vendor(app, both["vendors"]["gom"])
    refused = client.post("/c/bat-trang/marketplace/delivery", data={
        "csrf_token": token, "offers_delivery": "y", "delivery_fee": "-1", "delivery_estimate": "1 ngày"})
    assert refused.status_code == 400 and 'class="field-error"' in refused.get_data(as_text=True)
    assert _vendor(app, both["vendors"]["gom"]) == before  # nothing changed
    saved = client.post("/c/bat-trang/marketplace/delivery", data={
        "csrf_token": token, "offers_delivery": "y", "delivery_fee": "25.000", "delivery_estimate": "Trong ngày",
        "pickup_place": "", "pickup_estimate": ""})
    assert saved.status_code == 302
    assert _vendor(app, both["vendors"]["gom"]) == {
        "offers_delivery": True, "delivery_fee": 25_000, "delivery_estimate": "Trong ngày", "offers_pickup": False,
        "pickup_place": "", "pickup_estimate": ""}


# ------------------------------------------------------------------------------------------------ the checkout


def test_delivery_adds_the_producers_fee_to_the_sub_order_its_intent_and_its_vietqr(app, both):
    p = both["products"]
    code = checkout(app, [(p["binh"], 2), (p["vang"], 1)])  # no choice: each producer's first way, delivery
    gom, vang = sub_orders(app, code)
    assert gom["subtotal"] == gom["amount"] == 2 * 250_000 + 30_000
    assert vang["subtotal"] == vang["amount"] == 1_200_000  # free delivery (the default of every producer)
    with app.app_context(), all_tenants():
        payload = db.session.scalar(select(PaymentIntent.qr_payload).where(PaymentIntent.public_id == gom["intent"]))
        sub = db.session.scalar(select(SubOrder).where(SubOrder.id == gom["id"]))
        order = db.session.scalar(select(Order).where(Order.code == code))
        assert (sub.fulfilment, sub.shipping_fee, sub.fulfilment_estimate, sub.goods) == (
            "delivery", 30_000, "2–3 ngày", 500_000)
        assert order.total == 500_000 + 30_000 + 1_200_000
    decoded = vietqr.decode(payload)
    assert int(decoded.amount) == 530_000 and decoded.memo == gom["reference"]


def test_pick_up_costs_nothing_and_keeps_the_place_and_estimate(app, both):
    p = both["products"]
    with app.app_context():
        order = services.checkout([(p["binh"], 1)], services.clean_buyer("Bình", "0912345678", "Số 1 Trâu Quỳ"),
                                  timedelta(minutes=30),
                                  choices={(both["tenants"]["bat_trang"].id, both["vendors"]["gom"]): "pickup"})
        db.session.commit()
        code = order.code
    [sub] = sub_orders(app, code)
    assert sub["subtotal"] == sub["amount"] == 250_000
    with app.app_context(), all_tenants():
        row = db.session.scalar(select(SubOrder).where(SubOrder.id == sub["id"]))
        assert (row.fulfilment, row.shipping_fee, row.pickup_place, row.fulfilment_estimate) == (
            "pickup", 0, "Xưởng gốm, thôn 3 Bát Tràng", "1 ngày")


def test_a_way_the_producer_does_not_offer_orders_nothing(app, shop):
    p = shop["products"]
    before = _orders(app)
    with app.app_context(), pytest.raises(services.ChoiceNotOffered):
        services.checkout([(p["binh"], 1)], services.clean_buyer("Bình", "0912345678", "Số 1 Trâu Quỳ"),
                          timedelta(minutes=30),
                          choices={(shop["tenants"]["bat_trang"].id, shop["vendors"]["gom"]): "pickup"})
    assert _orders(app) == before
    assert product_state(app, p["binh"])["reserved"] == 0


# ------------------------------------------------------------------------------------------------ the pages


def test_the_cart_offers_each_producers_ways_and_the_choice_reaches_the_order(app, client, both):
    p = both["products"]
    client.post("/marketplace/cart/add", data={"product_id": p["binh"], "quantity": "2"})
    client.post("/marketplace/cart/add", data={"product_id": p["vang"], "quantity": "1"})
    html = client.get("/marketplace/cart").get_data(as_text=True)
    assert html.count('data-testid="delivery-choice"') == 2
    assert 'data-testid="way-delivery" checked' in html and 'data-testid="way-pickup"' in html
    assert "30.000 ₫" in html and "2–3 ngày" in html and "Xưởng gốm, thôn 3 Bát Tràng" in html
    assert "530.000 ₫" in html and "1.730.000 ₫" in html  # goods + fee, and the total with it

    gom = f"{both['tenants']['bat_trang'].id}-{both['vendors']['gom']}"
    vang = f"{both['tenants']['kieu_ky'].id}-{both['vendors']['vang']}"
    # Refused, nothing changed: a way Vàng quỳ does not offer, an unknown way, a producer not in the cart.
    for data in ({"producer": vang, "fulfilment": "pickup"}, {"producer": gom, "fulfilment": "drone"},
                 {"producer": f"{both['tenants']['bat_trang'].id}-{both['vendors']['men']}", "fulfilment": "delivery"},
                 {"producer": "x", "fulfilment": "pickup"}):
        assert client.post("/marketplace/cart/delivery", data=data).status_code == 400
    assert 'data-testid="way-delivery" checked' in client.get("/marketplace/cart").get_data(as_text=True)

    chosen = client.post("/marketplace/cart/delivery", data={"producer": gom, "fulfilment": "pickup",
                                                             "delivery_fee": "0"})
    assert chosen.status_code == 302
    html = client.get("/marketplace/cart").get_data(as_text=True)
    assert 'data-testid="way-pickup" checked' in html and "1.700.000 ₫" in html

    code = check_out_page(client, "0912345678", shipping_fee="0", delivery_fee="0")  # a tampered fee is ignored
    subs = sub_orders(app, code)
    assert [(s["subtotal"], s["amount"]) for s in subs] == [(500_000, 500_000), (1_200_000, 1_200_000)]
    page = client.get(f"/marketplace/orders/{code}").get_data(as_text=True)
    assert "Xưởng gốm, thôn 3 Bát Tràng" in page and page.count('data-testid="sub-order-way"') == 2


def test_a_choice_the_producer_withdrew_before_checkout_is_refused_and_orders_nothing(app, client, both):
    p = both["products"]
    client.post("/marketplace/cart/add", data={"product_id": p["binh"], "quantity": "1"})
    gom = f"{both['tenants']['bat_trang'].id}-{both['vendors']['gom']}"
    assert client.post("/marketplace/cart/delivery", data={"producer": gom, "fulfilment": "pickup"}).status_code == 302
    offer(app, both["tenants"]["bat_trang"], both["vendors"]["gom"], offers_pickup=False)  # meanwhile
    page = client.get("/marketplace/checkout").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    before = _orders(app)
    refused = client.post("/marketplace/checkout", data={
        "csrf_token": token, "name": "Trần Thị Bình", "phone": "0912345678", "address": "Số 1 Trâu Quỳ"})
    assert refused.status_code == 400
    assert "Cơ sở này không có cách nhận hàng đó" in refused.get_data(as_text=True)
    assert _orders(app) == before and product_state(app, p["binh"])["reserved"] == 0


def test_the_fee_is_in_the_order_page_the_producers_order_and_the_receipt(app, client, both):
    p = both["products"]
    client.post("/marketplace/cart/add", data={"product_id": p["binh"], "quantity": "1"})
    code = check_out_page(client, "0912345678")
    [sub] = sub_orders(app, code)
    assert sub["amount"] == 280_000
    page = client.get(f"/marketplace/orders/{code}").get_data(as_text=True)
    assert "280.000 ₫" in page and "30.000 ₫" in page and "2–3 ngày" in page
    assert 'data-testid="qr-payee">NGUYEN VAN AN<' in page  # the payee's name before paying
    assert 'data-testid="part-receipt"' not in page

    payload = sepay_payload(sub["account_number"], f"thanh toan {sub['reference']}", sub["amount"], txn_id=4242,
                            reference="FT26341778899")
    assert post_sepay(client, payload).status_code == 200
    page = client.get(f"/marketplace/orders/{code}").get_data(as_text=True)
    receipt = re.search(r'data-testid="part-receipt">(.*?)</dl>', page, re.S).group(1)
    assert "NGUYEN VAN AN" in receipt and "280.000 ₫" in receipt and "FT26341778899" in receipt
    paid_at = re.search(r'data-testid="receipt-paid-at">([^<]*)<', receipt).group(1)
    assert re.match(r"\d{2}/\d{2}/\d{4}", paid_at), paid_at

    make_vendor_user(app, both["tenants"]["bat_trang"], both["vendors"]["gom"], "gom@bt.vn")
    vendor = app.test_client()
    login(vendor, "gom@bt.vn")
    mine = vendor.get(f"/c/bat-trang/marketplace/orders/{sub['id']}").get_data(as_text=True)
    assert 'data-testid="vendor-order-way">Giao hàng · 30.000 ₫ · dự kiến 2–3 ngày</dd>' in mine


def test_postgresql_refuses_a_negative_fee_no_way_at_all_and_a_fee_above_the_amount(app, postgres, both):
    """The database's own CHECKs (0031_uxcart, PostgreSQL): a fee no form or script may leave behind."""
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    code = checkout(app, [(both["products"]["binh"], 1)])
    [sub] = sub_orders(app, code)
    for table, where, values in (
            (Vendor, Vendor.id == both["vendors"]["gom"], {"delivery_fee": -1}),
            (Vendor, Vendor.id == both["vendors"]["gom"], {"offers_delivery": False, "offers_pickup": False}),
            (SubOrder, SubOrder.id == sub["id"], {"shipping_fee": sub["subtotal"]}),
            (SubOrder, SubOrder.id == sub["id"], {"fulfilment": "pickup"}),  # a pick-up with a delivery fee
            (SubOrder, SubOrder.id == sub["id"], {"fulfilment": "drone"})):
        with app.app_context(), all_tenants():
            with pytest.raises(IntegrityError):
                db.session.execute(update(table).where(where).values(**values))
                db.session.flush()
            db.session.rollback()
