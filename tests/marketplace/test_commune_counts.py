"""The catalogue's kept counts (``catalogue_counts``, per commune and product group, kept by database triggers)
follow every change of what the catalogue lists: publishing, unpublishing, selling out, a vendor stopping, a product
added, regrouped or deleted; on SQLite and PostgreSQL. The commune filter's count and the totals of the pages
without a text query equal the number of products those pages list."""

from __future__ import annotations

from sqlalchemy import delete, select, text, update

from app.extensions import db
from marketplace import queries, services
from marketplace.models import CatalogueCount, Product
from marketplace.statuses import CATEGORY_SLUGS
from tenants.market import services as market_services
from tenants.vendors.models import Vendor
from tenants.scoping import all_tenants, tenant_context
from tests.marketplace.helpers import checkout, make_product, make_vendor, product_state


def _counts(app) -> dict[str, int]:
    with app.app_context():
        return {slug: n for slug, _name, _kind, n in queries.public_communes()}


def _listed(app, commune: str | None = None, category: str | None = None) -> tuple[int, int]:
    """(the page's total, the products it lists): the total comes from the kept counts, the list from the products."""
    with app.app_context():
        page = queries.public_search(commune=commune, category=category, per_page=200)
        return page.total, len(page.items)


def _assert_counts_match_the_catalogue(app, expected: dict[str, int]) -> None:
    counts = _counts(app)
    assert counts == expected
    assert _listed(app) == (sum(expected.values()), sum(expected.values()))
    for slug, n in counts.items():
        assert _listed(app, slug) == (n, n), slug
        for group in CATEGORY_SLUGS:
            total, listed = _listed(app, slug, group)
            assert total == listed, (slug, group)


def _publish(app, tenant, vendor_id, product_id, published: bool) -> None:
    with app.app_context(), tenant_context(tenant):
        services.set_published(vendor_id, product_id, published)
        db.session.commit()


def test_counts_follow_publishing_and_unpublishing(app, shop):
    bat_trang, kieu_ky = shop["tenants"]["bat_trang"], shop["tenants"]["kieu_ky"]
    gom, vang = shop["vendors"]["gom"], shop["vendors"]["vang"]
    _assert_counts_match_the_catalogue(app, {"bat-trang": 2, "kieu-ky": 1})  # the draft is not counted

    _publish(app, bat_trang, gom, shop["products"]["draft"], True)
    _assert_counts_match_the_catalogue(app, {"bat-trang": 3, "kieu-ky": 1})

    _publish(app, bat_trang, gom, shop["products"]["binh"], False)
    _assert_counts_match_the_catalogue(app, {"bat-trang": 2, "kieu-ky": 1})

    _publish(app, kieu_ky, vang, shop["products"]["vang"], False)  # the commune's last product: it leaves the filter
    _assert_counts_match_the_catalogue(app, {"bat-trang": 2})
    _publish(app, kieu_ky, vang, shop["products"]["vang"], True)
    _assert_counts_match_the_catalogue(app, {"bat-trang": 2, "kieu-ky": 1})

    _publish(app, kieu_ky, vang, shop["products"]["vang"], True)  # published again: no double count
    _assert_counts_match_the_catalogue(app, {"bat-trang": 2, "kieu-ky": 1})


def test_a_sold_out_product_stays_listed_and_counted(app, shop):
    vang = shop["products"]["vang"]
    checkout(app, [(vang, 2)])  # its whole stock held by an order
    assert product_state(app, vang)["stock"] == product_state(app, vang)["reserved"] == 2
    _assert_counts_match_the_catalogue(app, {"bat-trang": 2, "kieu-ky": 1})
    with app.app_context(), tenant_context(shop["tenants"]["kieu_ky"]):
        services.set_stock(shop["vendors"]["vang"], vang, 2)
        db.session.commit()
    _assert_counts_match_the_catalogue(app, {"bat-trang": 2, "kieu-ky": 1})


def test_counts_follow_new_and_deleted_products(app, shop):
    kieu_ky = shop["tenants"]["kieu_ky"]
    vang = shop["vendors"]["vang"]
    new = make_product(app, kieu_ky, vang, "Tranh vàng quỳ chữ Phúc", price=800_000)
    make_product(app, kieu_ky, vang, "Tranh vàng quỳ nháp", publish=False)
    _assert_counts_match_the_catalogue(app, {"bat-trang": 2, "kieu-ky": 2})
    with app.app_context(), tenant_context(kieu_ky):
        db.session.execute(delete(Product).where(Product.id == new))
        db.session.commit()
    _assert_counts_match_the_catalogue(app, {"bat-trang": 2, "kieu-ky": 1})


def test_counts_follow_a_product_moved_to_another_group(app, shop):
    bat_trang = shop["tenants"]["bat_trang"]
    with app.app_context(), tenant_context(bat_trang):
        services.update_product(shop["vendors"]["gom"], shop["products"]["binh"], {
            "name": "Bình gốm men lam Bát Tràng", "category": "sinh-vat-canh", "price": "250000", "stock": "5",
            "unit": "cái"})
        db.session.commit()
    _assert_counts_match_the_catalogue(app, {"bat-trang": 2, "kieu-ky": 1})
    assert _listed(app, "bat-trang", "sinh-vat-canh") == (1, 1)
    assert _listed(app, "bat-trang", "thu-cong-my-nghe") == (1, 1)


def test_counts_follow_a_vendor_stopping_and_coming_back(app, shop):
    bat_trang = shop["tenants"]["bat_trang"]
    men = shop["vendors"]["men"]
    with app.app_context(), tenant_context(bat_trang):
        market_services.deactivate_vendor(men, bat_trang.id)
        db.session.commit()
    _assert_counts_match_the_catalogue(app, {"bat-trang": 1, "kieu-ky": 1})
    _publish(app, bat_trang, men, shop["products"]["am"], False)  # unpublished while stopped: nothing to take off
    _assert_counts_match_the_catalogue(app, {"bat-trang": 1, "kieu-ky": 1})
    _publish(app, bat_trang, men, shop["products"]["am"], True)
    with app.app_context(), tenant_context(bat_trang):
        db.session.execute(update(Vendor).where(Vendor.id == men).values(active=True))
        db.session.commit()
    _assert_counts_match_the_catalogue(app, {"bat-trang": 2, "kieu-ky": 1})


def test_a_bulk_insert_of_several_communes_counts_each(app, make):
    """One INSERT statement of many rows (as an import or seed-scale writes them): each commune gets its share."""
    a, b = make.tenant("xa-a", "Xã A"), make.tenant("xa-b", "Xã B")
    va, vb = make_vendor(app, a, "Hộ A"), make_vendor(app, b, "Hộ B")
    stopped = make_vendor(app, b, "Hộ đã nghỉ", active=False)
    rows = [(a.id, va, "published"), (a.id, va, "published"), (a.id, va, "draft"), (b.id, vb, "published"),
            (b.id, stopped, "published")]
    with app.app_context(), all_tenants():
        db.session.execute(Product.__table__.insert(), [
            {"tenant_id": t, "vendor_id": v, "status": s, "category": "thuc-pham", "name": f"Hàng {i}",
             "name_folded": f"hang {i}", "name_lower": f"hàng {i}", "slug": f"hang-{i}", "description": "",
             "price": 1000, "unit": "cái", "stock": 1, "reserved": 0, "images": [], "featured": False}
            for i, (t, v, s) in enumerate(rows)])
        db.session.commit()
        stored = {(t, c): n for t, c, n in db.session.execute(
            select(CatalogueCount.tenant_id, CatalogueCount.category, CatalogueCount.products))}
    assert stored == {(a.id, "thuc-pham"): 2, (b.id, "thuc-pham"): 1}
    _assert_counts_match_the_catalogue(app, {"xa-a": 2, "xa-b": 1})


def test_an_inactive_commune_is_not_offered(app, shop):
    with app.app_context():
        db.session.execute(text("UPDATE tenants SET status = 'inactive' WHERE slug = 'kieu-ky'"))
        db.session.commit()
    assert _counts(app) == {"bat-trang": 2}


def test_the_cached_filter_shows_the_new_count_at_once(app, client, shop):
    """The search page (served from the response cache to visitors) shows the count as soon as it changes."""
    assert "Bát Tràng (2)" in client.get("/marketplace/search").get_data(as_text=True)
    _publish(app, shop["tenants"]["bat_trang"], shop["vendors"]["gom"], shop["products"]["draft"], True)
    assert "Bát Tràng (3)" in client.get("/marketplace/search").get_data(as_text=True)


def test_the_filter_options_are_escaped_and_mark_the_chosen_commune():
    from marketplace.views_public import commune_options

    communes = [("a-b", "Xã <A>", "xã", 3), ("kieu-ky", "Kiêu Kỵ", "xã", 1)]
    html = str(commune_options(communes, "kieu-ky"))
    assert html == ('<option value="a-b">Xã &lt;A&gt; (3)</option>'
                    '<option value="kieu-ky" selected>Kiêu Kỵ (1)</option>')
    assert "selected" not in str(commune_options(communes, "no-such-commune"))


def _home_reference(communes: list[tuple], n: int) -> list[tuple]:
    """What the home page showed when it read every commune: the n with the most products, by name."""
    return sorted(sorted(communes, key=lambda c: -c[3])[:n], key=lambda c: (c[1], c[0]))


def test_the_home_page_lists_the_communes_with_the_most_products_when_there_are_many(app, shop, make):
    """In SQL (issue #17: never the list of every commune): equal to sorting the full list in Python, ties included."""
    for i, products in enumerate((1, 3, 1, 2)):
        tenant = make.tenant(f"xa-{i}", f"Xã {'BADC'[i]}")
        vendor = make_vendor(app, tenant, f"Hộ {i}")
        for k in range(products):
            make_product(app, tenant, vendor, f"Sản phẩm {i} {k}")
    with app.app_context():
        full = queries.public_communes()
        assert len(full) == 6
        for n in range(1, 8):
            assert queries.top_communes(n) == (_home_reference(full, n), len(full)), n
