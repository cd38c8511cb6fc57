"""Races on a market sale's money (PostgreSQL only: SQLite serialises writers). A live, threaded server receives the
same bank notification from 8 threads at once, or two different full transfers at once: the sale is paid exactly
once, and counted once in the figures."""

from __future__ import annotations

import pytest

from app.extensions import db
from tenants.market import queries, services
from tenants.scoping import tenant_context
from tests.payments.helpers import sepay_payload, sepay_request, transfers
from tests.payments.test_concurrency import THREADS, _all_at_once, _post
from tests.tenants.market.helpers import make_market, make_vendor, sale

pytestmark = pytest.mark.usefixtures("bank_secrets", "postgres")


@pytest.fixture
def pending_sale(app, make):
    tenant = make.tenant("trau-quy", "Trâu Quỳ")
    _, stalls = make_market(app, tenant)
    vendor = make_vendor(app, tenant, stall_id=stalls[0], account_number="113366668888")
    with app.app_context(), tenant_context(tenant):
        row = services.record_qr_sale(vendor.id, 150_000, "cá rô")
        db.session.commit()
        from tenants.market import payments

        reference = payments.sale_intent(row.intent_id).reference_code
        return {"tenant": tenant, "vendor": vendor, "sale_id": row.id, "reference": reference}


def paid_totals(app, tenant):
    with app.app_context(), tenant_context(tenant):
        day = queries.today()
        return queries.sales_totals(day, day)


def test_the_same_notification_from_8_threads_pays_the_sale_once(app, live_server, pending_sale):
    body, headers = sepay_request(sepay_payload("113366668888", f"{pending_sale['reference']} ca ro", 150_000,
                                                txn_id=777001, gateway="VietinBank"))
    results = _all_at_once([lambda: _post(live_server, body, headers)] * THREADS)
    assert results == [(200, {"success": True})] * THREADS
    assert len(transfers(app)) == 1
    row = sale(app, pending_sale["sale_id"])
    assert (row.status, row.confirmation) == ("paid", "bank")
    totals = paid_totals(app, pending_sale["tenant"])
    assert (totals.sales, totals.amount, totals.qr_sales) == (1, 150_000, 1)


def test_two_different_transfers_at_once_pay_the_sale_once(app, live_server, pending_sale):
    jobs = []
    for txn_id in (777002, 777003):
        body, headers = sepay_request(sepay_payload("113366668888", pending_sale["reference"], 150_000,
                                                    txn_id=txn_id, gateway="VietinBank"))
        jobs.append(lambda body=body, headers=headers: _post(live_server, body, headers))
    results = _all_at_once(jobs)
    assert [status for status, _answer in results] == [200, 200]
    assert sorted(t["status"] for t in transfers(app)) == ["duplicate", "matched"]  # the second waits for a refund
    assert sale(app, pending_sale["sale_id"]).status == "paid"
    totals = paid_totals(app, pending_sale["tenant"])
    assert (totals.sales, totals.amount) == (1, 150_000)
