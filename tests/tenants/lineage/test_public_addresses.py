"""Printed QR codes and links outside /c/ (issue 18): the marketplace's product and shop pages of a commune a
reorganisation merged or split answer a permanent redirect to the page at the record's successor (found by the record,
not by the slug), and 404 only when the record does not exist."""

from __future__ import annotations

import json

from sqlalchemy import select

from marketplace.models import Product
from tenants.models import Tenant
from tenants.scoping import all_tenants
from tenants.vendors.models import Vendor
from app.extensions import db
from tests.tenants.lineage.test_plan_2025 import PLAN
from tests.tenants.lineage.test_splits import SPLIT, plan_file, tenant_id



def published(commune: str) -> list[tuple[int, str, int, str]]:
    """(product id, slug, vendor id, slug) of the published products of ``commune`` whose vendor is active."""
    with all_tenants():
        return list(db.session.execute(
            select(Product.id, Product.slug, Vendor.id, Vendor.slug).join(Vendor, (Vendor.id == Product.vendor_id)
                                                   & (Vendor.tenant_id == Product.tenant_id))
            .where(Product.tenant_id == tenant_id(commune), Product.status == "published",
                   Vendor.active.is_(True)).order_by(Product.id)).all())


def holder_of(table, record_id: int) -> str:
    with all_tenants():
        return db.session.scalar(select(Tenant.slug).join(table, table.tenant_id == Tenant.id)
                                 .where(table.id == record_id))


def test_a_merged_communes_product_and_shop_addresses_redirect_to_its_successor(seeded, runner, client):
    merges = [(line["predecessor"], line["successor"]) for line in json.loads(PLAN.read_text("utf-8"))["lines"]]
    with seeded.app_context():
        old_slug, new_slug, before = next((p, s, published(p)) for p, s in merges if published(p))
    _id, product, _vendor, shop = before[0]
    assert client.get(f"/marketplace/p/{old_slug}/{product}").status_code == 200

    done = runner.invoke(args=["tenants", "reorganise", str(PLAN)])
    assert done.exit_code == 0, done.output

    old = client.get(f"/marketplace/p/{old_slug}/{product}?utm=qr")
    assert old.status_code == 301
    assert old.headers["Location"].endswith(f"/marketplace/p/{new_slug}/{product}?utm=qr")
    assert client.get(old.headers["Location"]).status_code == 200
    old_shop = client.get(f"/marketplace/shop/{old_slug}/{shop}")
    assert old_shop.status_code == 301
    assert old_shop.headers["Location"].endswith(f"/marketplace/shop/{new_slug}/{shop}")
    assert client.get(old_shop.headers["Location"]).status_code == 200
    # No such record: still a 404, under the old slug and under an unknown one.
    assert client.get(f"/marketplace/p/{old_slug}/no-such-product").status_code == 404
    assert client.get(f"/marketplace/shop/{old_slug}/no-such-shop").status_code == 404
    assert client.get(f"/marketplace/p/no-such-commune/{product}").status_code == 404


def test_a_closed_communes_name_in_a_filter_redirects_to_its_successor(seeded, runner, client):
    """The commune filter of the catalogue's pages and of GET /api/products, in a printed link or a client's code."""
    assert client.get("/marketplace/search?commune=kim-lan").status_code == 200
    done = runner.invoke(args=["tenants", "reorganise", str(PLAN)])  # Kim Lan merged into Kim Đức
    assert done.exit_code == 0, done.output

    for old, new in (("/marketplace/search?q=g%E1%BB%91m&commune=kim-lan&sort=newest",
                      "/marketplace/search?q=g%E1%BB%91m&commune=kim-duc&sort=newest"),
                     ("/marketplace/category/thu-cong-my-nghe?commune=kim-lan",
                      "/marketplace/category/thu-cong-my-nghe?commune=kim-duc"),
                     ("/api/products?commune=kim-lan&per_page=5", "/api/products?commune=kim-duc&per_page=5")):
        answer = client.get(old)
        assert answer.status_code == 301, old
        assert answer.headers["Location"].endswith(new)
        assert client.get(answer.headers["Location"]).status_code == 200
    # A commune in force, or none: answered as before; an unknown one is still bad input.
    assert client.get("/api/products?commune=kim-duc").status_code == 200
    assert client.get("/api/products?commune=no-such-commune").status_code == 400
    assert client.get("/marketplace/search?q=x").status_code == 200


def test_a_split_communes_addresses_follow_each_record_to_its_own_successor(seeded, runner, client, tmp_path):
    with seeded.app_context():
        products = published("kieu-ky")
    assert products

    done = runner.invoke(args=["tenants", "reorganise", plan_file(tmp_path, SPLIT)])
    assert done.exit_code == 0, done.output

    with seeded.app_context():
        expected = {slug: holder_of(Product, id_) for id_, slug, _vendor, _shop in products}
        shops = {shop: holder_of(Vendor, vendor) for _id, _product, vendor, shop in products}
    assert set(expected.values()) <= {"bat-trang", "da-ton"}
    for slug, successor in expected.items():
        answer = client.get(f"/marketplace/p/kieu-ky/{slug}")
        assert answer.status_code == 301, slug
        assert answer.headers["Location"].endswith(f"/marketplace/p/{successor}/{slug}")
    for shop, successor in shops.items():
        answer = client.get(f"/marketplace/shop/kieu-ky/{shop}")
        assert answer.status_code == 301, shop
        assert answer.headers["Location"].endswith(f"/marketplace/shop/{successor}/{shop}")
    assert client.get("/marketplace/p/kieu-ky/no-such-product").status_code == 404
