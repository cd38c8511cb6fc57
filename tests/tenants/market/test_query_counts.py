"""The market's pages run a fixed number of SQL queries whatever how many vendors, stalls and sales they show."""

from __future__ import annotations

import pytest

from tenants.market import services
from tenants.scoping import tenant_context
from tests.conftest import count_queries, data_statements, login
from tests.tenants.market.helpers import make_market, make_vendor


def queries_of(app, client, path: str) -> int:
    with count_queries(app) as statements:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(data_statements(statements))


def grow(app, tenant, stall_ids, vendor, start: int, n: int):
    from app.extensions import db

    for i in range(n):
        make_vendor(app, tenant, stall_id=stall_ids[start + i])
    with app.app_context(), tenant_context(tenant):
        for amount in range(1, n * 3 + 1):
            services.record_cash_sale(vendor.id, amount * 1000)
            services.record_qr_sale(vendor.id, amount * 1000)
        db.session.commit()


@pytest.mark.parametrize("who, path", [
    ("admin", "/c/trau-quy/market/"),
    ("admin", "/c/trau-quy/market/vendors"),
    ("admin", "/c/trau-quy/market/markets"),
    ("admin", "/c/trau-quy/market/markets/{market_id}"),
    ("vendor", "/c/trau-quy/market/me/sales"),
    ("vendor", "/c/trau-quy/market/me/sales.csv"),
    ("vendor", "/c/trau-quy/market/me/poster"),
    (None, "/api/c/trau-quy/market/stats"),
])
def test_market_pages_do_not_grow_with_rows(app, client, make, who, path):
    tenant = make.tenant("trau-quy", "Trâu Quỳ")
    market_id, stall_ids = make_market(app, tenant, stalls=12)
    vendor = make_vendor(app, tenant, stall_id=stall_ids[0])
    make.user("admin@trauquy.vn", "commune_admin", tenant)
    if who:
        login(client, vendor.email if who == "vendor" else "admin@trauquy.vn")
    path = path.format(market_id=market_id)
    grow(app, tenant, stall_ids, vendor, 1, 1)
    few = queries_of(app, client, path)
    grow(app, tenant, stall_ids, vendor, 2, 6)
    assert queries_of(app, client, path) == few
