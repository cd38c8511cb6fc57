"""district_figures: one aggregate query per commune, checked against a small hand-computed data set."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app.extensions import db
from app.formatting import to_local
from marketplace import queries
from tests.conftest import count_queries
from tests.marketplace.helpers import checkout, sub_orders
from tests.payments.helpers import post_sepay, sepay_payload
from tests.district.helpers import month_periods, record_builds

pytestmark = pytest.mark.usefixtures("bank_secrets")


def test_district_figures_per_commune(app, client, shop):
    p = shop["products"]
    paid = checkout(app, [(p["binh"], 2), (p["vang"], 1)])  # Bát Tràng 500.000 + Kiêu Kỵ 1.200.000
    for sub in sub_orders(app, paid):
        if sub["subtotal"] == 500_000:
            post_sepay(client, sepay_payload(sub["account_number"], sub["reference"], sub["amount"]))
    checkout(app, [(p["am"], 1)])  # Bát Tràng, unpaid
    today = to_local(datetime.now(timezone.utc)).date()  # Hà Nội calendar days, both included
    with app.app_context():
        with count_queries(app) as statements:
            figures = queries.district_figures(today - timedelta(days=1), today)
        assert len([s for s in statements if "set_config" not in s]) == 1
        earlier = queries.district_figures(today - timedelta(days=10), today - timedelta(days=9))
        db.session.remove()
    bt, kk = shop["tenants"]["bat_trang"].id, shop["tenants"]["kieu_ky"].id
    assert figures == {
        bt: {"producers": 2, "products": 2, "orders": 2, "paid_value": 500_000},  # the draft is not counted
        kk: {"producers": 1, "products": 1, "orders": 1, "paid_value": 0},
    }
    assert earlier[bt] == {"producers": 2, "products": 2, "orders": 0, "paid_value": 0}


def _figures_by_python(app, start, end) -> dict[int, dict[str, int]]:
    """Per commune, summed in Python from every product and sub-order row (the reference for the SQL)."""
    from app.clock import as_utc
    from app.district.figures import local_bounds
    from marketplace.models import Product, SubOrder
    from tenants.scoping import all_tenants

    since, until = local_bounds(start, end)
    out: dict[int, dict] = {}

    def row(tenant_id):
        return out.setdefault(tenant_id, {"producers": set(), "products": 0, "orders": 0, "paid_value": 0})

    with app.app_context(), all_tenants():
        for product in db.session.query(Product).filter(Product.status == "published"):
            row(product.tenant_id)["producers"].add(product.vendor_id)
            row(product.tenant_id)["products"] += 1
        for sub in db.session.query(SubOrder):
            if since <= as_utc(sub.created_at) < until:
                row(sub.tenant_id)["orders"] += 1
                row(sub.tenant_id)["paid_value"] += sub.subtotal if sub.status in queries.PAID_STATUSES else 0
    return {tid: {**r, "producers": len(r["producers"])} for tid, r in out.items()}


def test_the_district_statement_is_built_once_and_answers_each_period_as_python_would(app, client, shop,
                                                                                      monkeypatch):
    """Issue #17, second read: the statement was built on every call; now once per process (as the market's), the
    period bound at execution. Periods asked one after the other each get their own answer, equal to Python's."""
    from marketplace.models import SubOrder
    from tenants.scoping import all_tenants

    built = record_builds(monkeypatch, queries)
    p = shop["products"]
    paid = checkout(app, [(p["binh"], 2), (p["vang"], 1)])
    for sub in sub_orders(app, paid):
        if sub["subtotal"] == 500_000:
            post_sepay(client, sepay_payload(sub["account_number"], sub["reference"], sub["amount"]))
    old = checkout(app, [(p["am"], 1)])
    with app.app_context(), all_tenants():  # an order of forty days ago
        for sub in db.session.query(SubOrder).filter(SubOrder.id.in_([s["id"] for s in sub_orders(app, old)])):
            sub.created_at = datetime.now(timezone.utc) - timedelta(days=40)
        db.session.commit()
    today = to_local(datetime.now(timezone.utc)).date()
    bt = shop["tenants"]["bat_trang"].id
    for days in (30, 60, 1, 60, 30):
        start = today - timedelta(days=days)
        with app.app_context():
            answer = queries.district_figures(start, today)
            db.session.remove()
        assert answer == _figures_by_python(app, start, today), days
        assert answer[bt]["orders"] == {30: 1, 60: 2, 1: 1}[days]
    with app.app_context():
        monthly = queries.district_monthly(today - timedelta(days=60), today)
        db.session.remove()
    for month, per_commune, first, last in month_periods(monthly, today - timedelta(days=60), today):
        assert per_commune == _figures_by_python(app, first, last), month
    assert built == [False, True]  # once each, whatever the number of requests
