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
