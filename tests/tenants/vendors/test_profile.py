"""The vendor's profile page (/c/<slug>/vendor/profile): what the vendor may change about itself, what the domains
built on vendors say about it (the market: goods and stalls), and the tab bar they fill."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from tenants.scoping import tenant_context
from tenants.vendors.models import Vendor
from tests.conftest import csrf_token, login
from tests.tenants.market.helpers import english, make_market, make_vendor


def _vendor(app, tenant, vendor_id):
    with app.app_context(), tenant_context(tenant):
        vendor = db.session.scalar(select(Vendor).where(Vendor.id == vendor_id))
        db.session.expunge(vendor)
        return vendor


def test_the_profile_names_the_vendors_goods_and_stalls_and_saves_what_the_vendor_may_change(app, client, make):
    tenant = make.tenant("trau-quy", "Trâu Quỳ")
    _, stalls = make_market(app, tenant)
    vendor = make_vendor(app, tenant, stall_id=stalls[1])
    login(client, vendor.email)
    english(client)
    page = client.get("/c/trau-quy/vendor/profile").get_data(as_text=True)
    lines = re.search(r'data-testid="profile-lines">([^<]*)<', page).group(1)
    assert lines == "Vegetables · Chợ Trâu Quỳ A02"
    url = "/c/trau-quy/vendor/profile"
    response = client.post(url, data={"owner_name": "Nguyễn Thị Hường", "phone": "0987 654 321",
                                      "description": "Rau sạch mỗi sáng", "csrf_token": csrf_token(client, url)})
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    saved = _vendor(app, tenant, vendor.id)
    assert (saved.phone, saved.description) == ("0987654321", "Rau sạch mỗi sáng")


def test_a_bad_phone_is_refused_at_its_field_with_a_400_and_nothing_changes(app, client, make):
    tenant = make.tenant("trau-quy", "Trâu Quỳ")
    vendor = make_vendor(app, tenant)
    login(client, vendor.email)
    english(client)
    url = "/c/trau-quy/vendor/profile"
    response = client.post(url, data={"owner_name": "Nguyễn Thị Hường", "phone": "12ab",
                                      "description": "đổi", "csrf_token": csrf_token(client, url)})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(r'<p class="field-error">Enter a phone number of 8 to 15 digits.</p>', html)
    saved = _vendor(app, tenant, vendor.id)
    assert (saved.phone, saved.description) == ("0912345678", "")


def test_the_tab_bar_holds_the_markets_tabs_then_the_vendors_in_order(app, client, make):
    tenant = make.tenant("trau-quy", "Trâu Quỳ")
    vendor = make_vendor(app, tenant)
    login(client, vendor.email)
    for path, current in (("/c/trau-quy/vendor/profile", "tab-profile"), ("/c/trau-quy/vendor/bank", "tab-bank"),
                          ("/c/trau-quy/vendor/transfers", "tab-bank"), ("/c/trau-quy/market/me/sales", "tab-sales"),
                          ("/c/trau-quy/market/me/poster", "tab-poster")):
        html = client.get(path).get_data(as_text=True)
        tabs = re.findall(r'<a href="([^"]+)"\s+(aria-current="page"\s+)?data-testid="(tab-[a-z]+)"', html)
        assert [(href, testid) for href, _current, testid in tabs] == [
            ("/c/trau-quy/market/me/sales", "tab-sales"), ("/c/trau-quy/market/me/poster", "tab-poster"),
            ("/c/trau-quy/vendor/bank", "tab-bank"), ("/c/trau-quy/vendor/profile", "tab-profile")], path
        assert [testid for _href, marked, testid in tabs if marked] == [current], path
