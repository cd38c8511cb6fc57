"""Every page of every role passes axe-core with no serious or critical WCAG 2.1 A/AA violation (#19): the URL map is
walked as a shopper (signed out), a market vendor, a marketplace producer, an officer, a commune admin and a district
admin, with one record of each kind in their commune, so a new page is swept the day it is added. Phones (360 px) for
shoppers, vendors and producers; a 1366 px desktop for staff."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.payments.accounts import create_account, create_api_key
from tenants.market import services as market_services
from tenants.scoping import tenant_context
from tests.e2e.axe import violations
from tests.e2e.test_security_journeys import sign_in
from tests.marketplace.helpers import checkout, make_product, make_vendor_user, sub_orders
from tests.marketplace.helpers import make_vendor as marketplace_vendor
from tests.payments.helpers import create_intent
from tests.tenants.heritage.helpers import heritage_records
from tests.tenants.market.helpers import make_market, make_vendor
from tests.tenants.onestop.conftest import online_dossier, procedure, vn

pytestmark = pytest.mark.e2e

PHONE = {"width": 360, "height": 780}
DESKTOP = {"width": 1366, "height": 768}
FIXED = {"size": "a4", "action": "deactivate", "kind": "png"}
NOT_PAGES = ("/static", "/api/", "/v1/", "/webhooks", "/lang/", "/healthz", "/metrics")
SERIOUS = ("serious", "critical")


@pytest.fixture
def commune_records(app, make):
    """A commune with a person of every role and one record of every kind its pages show: (slug, ids, emails)."""
    a = make.tenant("xa-a", "Xã A")
    make.user("admin@a.vn", "commune_admin", a)
    officer = make.user("officer@a.vn", "officer", a)
    make.user("district@gialam.vn", "district_admin")
    market_id, _stalls = make_market(app, a)
    vendor = make_vendor(app, a)
    with app.app_context(), tenant_context(a):
        account = create_account("Phí", "970415", "113000583", "UBND XA A")
        key, _secret = create_api_key(account)
        db.session.commit()
        intent = create_intent(account, 30_000, description="Lệ phí")
        proc = procedure()
        dossier = online_dossier(proc, vn(2026, 11, 30, 9, 0))
        db.session.commit()
        ids = {"notice_id": make.notice(a, "Thông báo").id, "user_id": officer.id, "market_id": market_id,
               "vendor_id": vendor.id, "public_id": intent.public_id, "key_id": key.id,
               "procedure_id": proc.id, "dossier_id": dossier.id, "code": dossier.code}
    shop = marketplace_vendor(app, a, "Gốm Xã A")
    make_vendor_user(app, a, shop, "producer@a.vn")
    ids["product_id"] = make_product(app, a, shop)
    order = checkout(app, [(ids["product_id"], 1)])
    ids["sub_order_id"] = sub_orders(app, order)[0]["id"]
    with app.app_context(), tenant_context(a):
        ids["sale_id"] = market_services.record_cash_sale(vendor.id, "20000").id
        db.session.commit()
    ids.update(heritage_records(app, a))
    return a.slug, ids, {"vendor": vendor.email, "producer": "producer@a.vn", "officer": "officer@a.vn",
                         "commune admin": "admin@a.vn", "district admin": "district@gialam.vn"}


def page_urls(app, slug: str, ids: dict) -> list[str]:
    """Every GET route of the URL map whose parameters we can fill, as a URL of the commune."""
    values = {"tenant_slug": slug, **FIXED, **ids}
    urls = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(NOT_PAGES) or rule.rule.endswith((".csv", ".png",
                                                                                                ".pdf", ".svg")):
            continue
        if not rule.arguments <= set(values):
            continue
        with app.test_request_context():
            urls.add(app.url_for(rule.endpoint, **{name: values[name] for name in rule.arguments}))
    return sorted(urls)


@pytest.mark.parametrize("role", ["shopper", "vendor", "producer", "officer", "commune admin", "district admin"])
def test_every_page_a_role_can_open_has_no_serious_accessibility_violation(app, browser_page, commune_records, role):
    slug, ids, emails = commune_records
    page = browser_page
    page.set_viewport_size(PHONE if role in ("shopper", "vendor", "producer") else DESKTOP)
    if role != "shopper":
        sign_in(page, emails[role])
        page.wait_for_load_state()
    swept, found = [], {}
    for url in page_urls(app, slug, ids):
        if url in ("/logout",):
            continue
        head = page.request.get(url, max_redirects=0)
        if head.status != 200 or "text/html" not in head.headers.get("content-type", ""):
            continue
        page.goto(url)
        swept.append(url)
        serious = [v for v in violations(page)[0] if v["impact"] in SERIOUS]
        if serious:
            found[url] = sorted({f'{v["id"]}: {v["nodes"][0]["target"]}' for v in serious})
    assert len(swept) >= 5, swept
    assert found == {}, found
