"""Races that break marketplaces (PostgreSQL only: SQLite serialises writers, so it cannot show them)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest

from app import transactions

from app.extensions import db
from marketplace import services
from tests.marketplace.helpers import make_product, make_vendor, product_state, sub_orders
from tests.payments.helpers import sepay_payload, sepay_request

pytestmark = pytest.mark.usefixtures("bank_secrets", "postgres")

SHOPPERS = 12


def _all_at_once(jobs) -> list:
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(index, job):
        barrier.wait(timeout=30)
        try:
            results[index] = job()
        except Exception as exc:  # noqa: BLE001 - counted by the assertions
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _checkout_job(app, lines):
    def job():
        with app.app_context():
            try:
                order = services.checkout(lines, services.clean_buyer("Khách", "0912345678", "Hà Nội"),
                                          timedelta(minutes=30))
                db.session.commit()
                return order.code
            except services.OutOfStock:
                db.session.rollback()
                return "out of stock"
    return job


def test_many_shoppers_of_the_last_units_exactly_the_stock_succeeds(app, make):
    tenant = make.tenant("bat-trang", "Bát Tràng")
    vendor = make_vendor(app, tenant, "Gốm Minh Long")
    other = make_vendor(app, tenant, "Men lam Hợp Thành")
    last = make_product(app, tenant, vendor, "Bình gốm cuối cùng", stock=3)
    plenty = make_product(app, tenant, other, "Chén trà", stock=1000)
    results = _all_at_once([_checkout_job(app, [(plenty, 1), (last, 1)]) for _ in range(SHOPPERS)])
    codes = [r for r in results if isinstance(r, str) and r.startswith("DH")]
    assert len(codes) == 3, results
    assert results.count("out of stock") == SHOPPERS - 3
    assert product_state(app, last) == {"stock": 3, "reserved": 3, "status": "published"}
    assert product_state(app, plenty) == {"stock": 1000, "reserved": 3, "status": "published"}  # all or nothing
    assert all(len(sub_orders(app, code)) == 2 for code in codes)


def test_two_lines_of_one_product_race_too(app, make):
    tenant = make.tenant("bat-trang", "Bát Tràng")
    vendor = make_vendor(app, tenant)
    product = make_product(app, tenant, vendor, "Ấm tích", stock=4)
    results = _all_at_once([_checkout_job(app, [(product, 1), (product, 1)]) for _ in range(6)])
    assert len([r for r in results if str(r).startswith("DH")]) == 2, results
    assert product_state(app, product)["reserved"] == 4


def _post(url: str, body: bytes, headers: dict):
    request = urllib.request.Request(url + "/webhooks/sepay", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_the_same_bank_notification_delivered_8_times_at_once_pays_once(app, make, live_server):
    tenant = make.tenant("bat-trang", "Bát Tràng")
    vendor = make_vendor(app, tenant)
    product = make_product(app, tenant, vendor, "Bình hút lộc", stock=5, price=300_000)
    with app.app_context():
        order = services.checkout([(product, 2)], services.clean_buyer("Khách", "0912345678", "Hà Nội"),
                                  timedelta(minutes=30))
        db.session.commit()
        code = order.code
    [sub] = sub_orders(app, code)
    body, headers = sepay_request(sepay_payload(sub["account_number"], sub["reference"], 600_000, txn_id=98765))
    results = _all_at_once([lambda: _post(live_server, body, headers)] * 8)
    assert all(status == 200 for status, _ in results), results
    [sub] = sub_orders(app, code)
    assert sub["status"] == "paid" and sub["refund_due"] is False
    assert product_state(app, product) == {"stock": 3, "reserved": 0, "status": "published"}


def test_expiry_racing_a_payment_never_loses_either(app, make, live_server):
    """The expiry job and the bank notification at the same moment: either the payment wins (paid, sold once) or
    the expiry does and the payment is late (taken again, the stock being free): stock is right either way."""
    tenant = make.tenant("bat-trang", "Bát Tràng")
    vendor = make_vendor(app, tenant)
    product = make_product(app, tenant, vendor, "Đĩa sứ", stock=2, price=100_000)
    with app.app_context():
        order = services.checkout([(product, 2)], services.clean_buyer("Khách", "0912345678", "Hà Nội"),
                                  timedelta(minutes=30))
        db.session.commit()
        code = order.code
    [sub] = sub_orders(app, code)
    body, headers = sepay_request(sepay_payload(sub["account_number"], sub["reference"], 200_000, txn_id=5555))

    def expire():
        with app.app_context():
            return transactions.run(lambda: services.expire_holds(datetime.now(timezone.utc) + timedelta(minutes=31)))

    _all_at_once([expire, lambda: _post(live_server, body, headers)])
    [sub] = sub_orders(app, code)
    assert sub["status"] == "paid" and sub["refund_due"] is False
    assert product_state(app, product) == {"stock": 0, "reserved": 0, "status": "published"}


def test_the_losers_of_a_stock_race_are_told_the_count_read_under_the_lock(app, make):
    """Issue #15 item 6: 3 units, shoppers of 2 each. The catalogue read before the lock says 3; the winner takes 2,
    and every loser is told what stopped them: 1 left."""
    tenant = make.tenant("bat-trang", "Bát Tràng")
    product = make_product(app, tenant, make_vendor(app, tenant), "Bình vôi", stock=3)

    def shopper():
        with app.app_context():
            try:
                services.checkout([(product, 2)], services.clean_buyer("Khách", "0912345678", "Hà Nội"),
                                  timedelta(minutes=30))
                db.session.commit()
                return "bought"
            except services.OutOfStock as err:
                db.session.rollback()
                return str(err.message)

    results = _all_at_once([shopper for _ in range(6)])
    assert results.count("bought") == 1, results
    assert {r for r in results if r != "bought"} == {"Chỉ còn 1 “Bình vôi”; hãy đổi số lượng rồi thử lại."}
