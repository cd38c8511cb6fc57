"""#19 item 3: a producer (a shop on the marketplace, no stall) who signs in lands on its shop and its orders, with
the shop's tabs and not the stall's (sales page, QR poster); a stallholder still lands on the sales page."""

from __future__ import annotations

import pytest

from tests.conftest import login
from tests.marketplace.helpers import make_vendor_user
from tests.tenants.market.helpers import make_vendor as market_vendor

pytestmark = pytest.mark.usefixtures("bank_secrets")


def _lands(client) -> str:
    first = client.get("/home")
    assert first.status_code == 302
    second = client.get(first.headers["Location"])
    assert second.status_code == 302, first.headers["Location"]
    return second.headers["Location"]


def test_a_producer_lands_on_its_shop_and_sees_the_shops_tabs(app, client, shop):
    bat_trang = shop["tenants"]["bat_trang"]
    make_vendor_user(app, bat_trang, shop["vendors"]["gom"], "gom@bt.vn")
    assert login(client, "gom@bt.vn").status_code == 302
    assert _lands(client).endswith("/c/bat-trang/marketplace/")
    desk = client.get("/c/bat-trang/marketplace/")
    assert desk.status_code == 200
    profile = client.get("/c/bat-trang/vendor/profile").get_data(as_text=True)
    assert 'data-testid="tab-shop"' in profile and 'data-testid="tab-orders"' in profile
    assert 'data-testid="tab-sales"' not in profile and 'data-testid="tab-poster"' not in profile


def test_a_stallholder_still_lands_on_the_sales_page(app, client, make):
    tenant = make.tenant("trau-quy", "Trâu Quỳ")
    info = market_vendor(app, tenant)
    login(client, info.email)
    assert _lands(client).endswith("/c/trau-quy/market/me/sales")
    profile = client.get("/c/trau-quy/vendor/profile").get_data(as_text=True)
    assert 'data-testid="tab-sales"' in profile and 'data-testid="tab-shop"' not in profile
