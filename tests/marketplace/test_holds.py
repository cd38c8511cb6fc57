"""Bounded holds (#16 item 1): units held unpaid per network address, phone number and delivery address, a rate
limit on checkout, a short hold until the shopper opens the QR codes. Runs on SQLite and on PostgreSQL
(TEST_DATABASE_URL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.clock import as_utc, utcnow
from app.extensions import db
from app.payments.models import PaymentIntent
from marketplace import services
from marketplace.models import Order, SubOrder
from tenants.scoping import all_tenants
from tests.conftest import csrf_token
from tests.marketplace.helpers import make_product, make_vendor, product_state

pytestmark = pytest.mark.usefixtures("bank_secrets")

ATTACKER = "203.0.113.66"


def _client(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _check_out(client, lines, *, phone: str, address: str):
    for product_id, quantity in lines:
        client.post("/marketplace/cart/add", data={"product_id": str(product_id), "quantity": str(quantity)})
    token = csrf_token(client, "/marketplace/checkout")
    return client.post("/marketplace/checkout", data={"csrf_token": token, "name": "Khách", "phone": phone,
                                                      "address": address, "note": ""})


@pytest.fixture
def catalogue(app, make):
    """Bát Tràng's stock as in the attack: 2,850 units (30 products of 95)."""
    bat_trang = make.tenant("bat-trang", "Bát Tràng")
    vendor = make_vendor(app, bat_trang, "Gốm Minh Long")
    return [make_product(app, bat_trang, vendor, f"Bát gốm số {i}", price=50_000, stock=95) for i in range(30)]


def test_six_guest_checkouts_from_one_address_cannot_hold_the_catalogue(app, catalogue):
    answers = []
    for n in range(6):  # the attack: six guests, each with its own phone and address, one network address
        script = _client(app, ATTACKER)
        lines = [(pid, 95) for pid in catalogue[n * 5:(n + 1) * 5]]
        answers.append(_check_out(script, lines, phone=f"09123400{n:02d}", address=f"Số {n} ngõ {n}").status_code)
    held = sum(product_state(app, pid)["reserved"] for pid in catalogue)
    assert held <= app.config["MARKETPLACE_HELD_UNITS_LIMIT"], answers
    assert answers[-1] == 429  # checkouts are rate limited per address too
    honest = _client(app, "198.51.100.7")
    response = _check_out(honest, [(catalogue[0], 40), (catalogue[29], 10)], phone="0987654321",
                          address="Số 9 Trâu Quỳ")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert product_state(app, catalogue[0])["reserved"] == 40


def test_one_address_holds_up_to_the_limit_and_is_told_what_is_left(app, catalogue):
    script = _client(app, ATTACKER)
    first = _check_out(script, [(catalogue[0], 30)], phone="0912340001", address="Số 1 Trâu Quỳ")
    assert first.status_code == 302
    second = _check_out(_client(app, ATTACKER), [(catalogue[1], 30)], phone="0912340002", address="Số 2 Kiêu Kỵ")
    assert second.status_code == 400
    page = second.get_data(as_text=True)
    assert "30" in page and "20" in page  # already held, and what may still be held
    assert product_state(app, catalogue[1])["reserved"] == 0
    assert _check_out(_client(app, ATTACKER), [(catalogue[1], 20)], phone="0912340003",
                      address="Số 3 Đa Tốn").status_code == 302


def test_one_phone_number_or_one_delivery_address_is_bounded_whatever_the_network_address(app, catalogue):
    assert _check_out(_client(app, "198.51.100.1"), [(catalogue[0], 45)], phone="0912 340 001",
                      address="Số 1, Trâu Quỳ").status_code == 302
    same_phone = _check_out(_client(app, "198.51.100.2"), [(catalogue[1], 10)], phone="+84912340001",
                            address="Nơi khác")
    assert same_phone.status_code == 400
    same_address = _check_out(_client(app, "198.51.100.3"), [(catalogue[2], 10)], phone="0912340099",
                              address="số 1 TRÂU QUY")
    assert same_address.status_code == 400
    assert sum(product_state(app, pid)["reserved"] for pid in catalogue) == 45


def test_paid_or_expired_orders_hold_nothing_and_free_the_limit(app, catalogue):
    with app.app_context():
        buyer = services.clean_buyer("An", "0912340001", "Số 1 Trâu Quỳ")
        limits = services.HoldLimits(50)
        services.checkout([(catalogue[0], 50)], buyer, timedelta(minutes=10), client_address=ATTACKER, limits=limits)
        db.session.commit()
        with pytest.raises(services.TooMuchHeld):
            services.checkout([(catalogue[1], 1)], buyer, timedelta(minutes=10), client_address=ATTACKER,
                              limits=limits)
        db.session.rollback()
        services.expire_holds(utcnow() + timedelta(minutes=11))
        db.session.commit()
        services.checkout([(catalogue[1], 50)], buyer, timedelta(minutes=10), client_address=ATTACKER, limits=limits)
        db.session.commit()
    assert product_state(app, catalogue[0])["reserved"] == 0
    assert product_state(app, catalogue[1])["reserved"] == 50


def _holds(app, code):
    with app.app_context(), all_tenants():
        order = db.session.scalar(select(Order).where(Order.code == code))
        sub = db.session.scalar(select(SubOrder).where(SubOrder.order_id == order.id))
        intent = db.session.scalar(select(PaymentIntent).where(PaymentIntent.public_id == sub.intent_id))
        return as_utc(order.created_at), as_utc(sub.hold_expires_at), as_utc(intent.expires_at)


def test_the_hold_is_short_until_the_shopper_opens_the_qr_then_runs_its_full_length(app, catalogue):
    shopper = _client(app, "198.51.100.7")
    response = _check_out(shopper, [(catalogue[0], 5)], phone="0987654321", address="Số 9 Trâu Quỳ")
    code = response.headers["Location"].rsplit("/", 1)[1]
    created, hold, qr = _holds(app, code)
    assert timedelta(minutes=9) < hold - created <= timedelta(minutes=10, seconds=2)
    assert abs(qr - hold) <= timedelta(seconds=1)
    assert shopper.get(f"/marketplace/orders/{code}").status_code == 200
    created, hold, qr = _holds(app, code)
    assert timedelta(minutes=29) < hold - created <= timedelta(minutes=30, seconds=2)
    assert qr == hold
    shopper.get(f"/marketplace/orders/{code}")  # a second look extends nothing further
    assert _holds(app, code)[1] == hold


def test_a_checkout_nobody_looks_at_gives_its_stock_back_after_the_short_hold(app, catalogue):
    script = _client(app, ATTACKER)
    assert _check_out(script, [(catalogue[0], 40)], phone="0912340001", address="Số 1").status_code == 302
    assert product_state(app, catalogue[0])["reserved"] == 40
    with app.app_context():
        services.expire_holds(utcnow() + timedelta(minutes=11))
        db.session.commit()
    assert product_state(app, catalogue[0])["reserved"] == 0


@pytest.mark.usefixtures("postgres")
def test_checkouts_of_one_shopper_at_the_same_instant_hold_no_more_than_the_limit(app, catalogue):
    """Eight checkouts of one shopper at once, each of 30 units, with a limit of 50: each counts what the others
    hold only after they committed (one checkout at a time per shopper), so one succeeds and seven are refused."""
    from tests.marketplace.test_concurrency import _all_at_once

    limit = app.config["MARKETPLACE_HELD_UNITS_LIMIT"]
    buyer = services.clean_buyer("Khách", "0912345678", "Số 1 ngõ 1")

    def job(n):
        def run():
            with app.app_context():
                try:
                    order = services.checkout([(catalogue[n], 30)], buyer, timedelta(minutes=30),
                                              client_address=ATTACKER, limits=services.HoldLimits(limit))
                    db.session.commit()
                    return order.code
                except services.TooMuchHeld:
                    db.session.rollback()
                    return "refused"
        return run

    results = _all_at_once([job(n) for n in range(8)])
    assert results.count("refused") == 8 - limit // 30, results
    assert sum(product_state(app, pid)["reserved"] for pid in catalogue) <= limit
