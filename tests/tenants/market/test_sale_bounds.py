"""A mistyped sale (#19 item 1): a per-sale ceiling for QR and cash with a clear message, a "really?" step for cash
sales above a threshold, and a void the vendor can make of a cash sale (recorded, out of every figure)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.payments.models import PaymentIntent
from tenants.market import queries
from tenants.scoping import all_tenants, tenant_context
from tests.conftest import csrf_token
from tests.tenants.market.helpers import make_vendor, sale, sales_of
from tests.tenants.market.test_sales import sell, tenant, vendor  # noqa: F401 (the same vendor, signed in)

pytestmark = pytest.mark.usefixtures("bank_secrets")


def _paid_total(app, tenant):
    with app.app_context(), tenant_context(tenant):
        return queries.public_stats(queries.today(), queries.today())["sales_amount"]


@pytest.mark.parametrize("method", ["cash", "qr"])
def test_a_billion_dong_typo_is_refused_with_the_ceiling_named(app, client, vendor, method):
    response = sell(client, "1.000.000.000", method=method)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "50.000.000" in page and "1.000.000.000" in page
    assert sales_of(app, vendor.id) == []
    with app.app_context(), all_tenants():
        assert db.session.scalars(select(PaymentIntent)).all() == []


def test_the_ceiling_is_configurable(app, client, vendor, monkeypatch):
    monkeypatch.setitem(app.config, "MARKET_SALE_CEILING", 2_000_000_000)
    monkeypatch.setitem(app.config, "MARKET_SALE_CONFIRM_ABOVE", 2_000_000_000)
    assert sell(client, "1.000.000.000", method="qr").status_code == 302


def test_a_large_cash_sale_is_recorded_only_once_the_vendor_confirms_the_amount(app, client, tenant, vendor):
    asked = sell(client, "7.000.000", method="cash")
    assert asked.status_code == 200
    page = asked.get_data(as_text=True)
    assert 'data-testid="sell-confirm"' in page and "7.000.000" in page
    assert sales_of(app, vendor.id) == []  # nothing recorded yet
    token = csrf_token(client, "/c/trau-quy/market/me/sales")
    other = client.post("/c/trau-quy/market/me/sales", data={"amount": "70.000.000", "note": "", "method": "cash",
                                                              "confirmed": "7000000", "csrf_token": token})
    assert sales_of(app, vendor.id) == [] and other.status_code in (200, 400)  # a confirmation is for its amount
    yes = client.post("/c/trau-quy/market/me/sales", data={"amount": "7000000", "note": "", "method": "cash",
                                                            "confirmed": "7000000", "csrf_token": token})
    assert yes.status_code == 302
    [row] = sales_of(app, vendor.id)
    assert (row.status, row.amount) == ("paid", 7_000_000)
    assert sell(client, "5.000.000", method="cash").status_code == 302  # at the threshold: no question
    assert len(sales_of(app, vendor.id)) == 2


def test_the_vendor_voids_a_mistyped_cash_sale_and_it_leaves_every_figure(app, client, tenant, vendor, make):
    assert sell(client, "25 000", method="cash").status_code == 302
    assert sell(client, "4.500.000", method="cash").status_code == 302  # meant 45.000
    typo = sales_of(app, vendor.id)[-1]
    assert _paid_total(app, tenant) == 4_525_000
    page = client.get(f"/c/trau-quy/market/me/sales/{typo.id}").get_data(as_text=True)
    assert 'data-testid="void-form"' in page
    token = csrf_token(client, f"/c/trau-quy/market/me/sales/{typo.id}")
    no_reason = client.post(f"/c/trau-quy/market/me/sales/{typo.id}/void", data={"reason": " ", "csrf_token": token})
    assert no_reason.status_code == 302 and sale(app, typo.id).status == "paid"
    voided = client.post(f"/c/trau-quy/market/me/sales/{typo.id}/void",
                         data={"reason": "Gõ nhầm số tiền", "csrf_token": token})
    assert voided.status_code == 302
    row = sale(app, typo.id)
    assert (row.status, row.paid_at, row.void_reason) == ("voided", None, "Gõ nhầm số tiền")
    assert row.voided_at is not None and row.voided_by_id == vendor.user_id
    assert _paid_total(app, tenant) == 25_000  # the commune's public figures
    ledger = client.get("/c/trau-quy/market/me/sales").get_data(as_text=True)
    assert re.search(r'data-testid="today-amount">25\.000', ledger)
    assert "Voided" in ledger  # still listed in the ledger, marked
    again = client.post(f"/c/trau-quy/market/me/sales/{typo.id}/void", data={"reason": "x", "csrf_token": token})
    assert again.status_code == 302 and sale(app, typo.id).status == "voided"
    # another vendor's sale does not exist for this one
    other = make_vendor(app, tenant, name="Thịt lợn Tâm")
    with app.app_context(), tenant_context(tenant):
        from tenants.market import services

        theirs = services.record_cash_sale(other.id, 30_000)
        db.session.commit()
        theirs_id = theirs.id
    assert client.post(f"/c/trau-quy/market/me/sales/{theirs_id}/void",
                       data={"reason": "x", "csrf_token": token}).status_code == 404
    assert sale(app, theirs_id).status == "paid"


def test_a_qr_sale_is_not_voided_by_the_vendor(app, client, vendor):
    response = sell(client, "150.000", method="qr")
    sale_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    token = csrf_token(client, f"/c/trau-quy/market/me/sales/{sale_id}")
    client.post(f"/c/trau-quy/market/me/sales/{sale_id}/void", data={"reason": "x", "csrf_token": token})
    assert sale(app, sale_id).status == "pending"
