"""The catalogue's prebuilt statements (issue #17: built once per shape, given each request's values as bind
parameters) answer what the statements built per call answer: every page of every search, filter and order, the same
cards in the same order with the same total; and a product page finds exactly the published products of its own
commune. ``public_search_built`` is the straightforward definition (values inline, built per call)."""

from __future__ import annotations

import itertools

import pytest

from sqlalchemy import update

from app.extensions import db
from marketplace import queries
from marketplace.models import Product
from tenants.scoping import all_tenants, tenant_context
from tests.marketplace.helpers import make_product, make_vendor

# Each rank (exact whole word, exact inside a word, folded whole word, folded anywhere) is met by some query.
QUERIES = ["", "mat ong", "MẬT ONG", "bat trang", "tràng", "trang", "gốm", "la", "ong hoa nhan", "xyz", "100%", "a_b",
           "   ", "đường", "nhap", "gao tam xoan"]
SORTS = [*queries.SORTS, "no-such-sort"]
PAGES = [(1, 50), (2, 2)]


@pytest.fixture
def shops(app, make):
    bat_trang = make.tenant("bat-trang", "Bát Tràng")
    kieu_ky = make.tenant("kieu-ky", "Kiêu Kỵ")
    potter = make_vendor(app, bat_trang, "Hợp tác xã Bát Tràng")
    grocer = make_vendor(app, bat_trang, "Tạp hoá Gia Lâm")
    stopped = make_vendor(app, kieu_ky, "Cửa hàng đã nghỉ")
    bees = make_vendor(app, kieu_ky, "Vàng quỳ Kiêu Kỵ")
    for name, price in [("Bình gốm Bát Tràng men lam", 450_000), ("Bát tràng xưa vẽ tay", 120_000),
                        ("Cốc gốm Battrang", 80_000), ("Đĩa gốm 100% thủ công", 80_000),
                        ("Bình hoa Tràngan", 80_000)]:  # "tràng" inside a word, the newest: ranks decide
        make_product(app, bat_trang, potter, name, price=price)
    for name, price in [("Mật ong rừng", 250_000), ("Đường phèn Gia Lâm", 30_000), ("Kẹo duong la", 30_000)]:
        make_product(app, bat_trang, grocer, name, price=price, category="thuc-pham")
    make_product(app, kieu_ky, bees, "Mật ong hoa nhãn Kiêu Kỵ", category="thuc-pham", stars=4)
    make_product(app, kieu_ky, bees, "Mật ong nháp chưa bán", category="thuc-pham", publish=False)
    make_product(app, kieu_ky, bees, "Gạo tám xoan", price=30_000, category="thuc-pham")
    make_product(app, kieu_ky, stopped, "Mật ong của cửa hàng nghỉ", category="thuc-pham")
    with app.app_context(), all_tenants():
        db.session.execute(update(queries.Vendor).where(queries.Vendor.id == stopped).values(active=False))
        db.session.commit()
    return {"bat-trang": bat_trang, "kieu-ky": kieu_ky, "potter": (bat_trang.id, potter),
            "bees": (kieu_ky.id, bees), "stopped": (kieu_ky.id, stopped)}


def _filters(shops):
    return [{}, {"commune": "bat-trang"}, {"commune": "kieu-ky", "category": "thuc-pham"},
            {"category": "thu-cong-my-nghe"}, {"commune": "no-such-commune"}, {"category": "do-uong"},
            {"vendor": shops["potter"]}, {"vendor": shops["bees"], "category": "thuc-pham"},
            {"vendor": shops["stopped"]}]


def test_every_search_answers_as_the_statements_built_per_call(app, shops):
    compared = found = 0
    with app.app_context(), tenant_context(shops["kieu-ky"]):  # even from inside one commune: the catalogue's rule
        for q, sort, filters, (page, per_page) in itertools.product(QUERIES, SORTS, _filters(shops), PAGES):
            arguments = dict(q=q, sort=sort, page=page, per_page=per_page, **filters)
            prebuilt, built = queries.public_search(**arguments), queries.public_search_built(**arguments)
            assert prebuilt == built, arguments
            compared += 1
            found += len(built.items)
        again = queries.public_search(q="mat ong", sort="relevance")  # a reused statement, new values
        assert again == queries.public_search_built(q="mat ong", sort="relevance")
        assert [c.name for c in again.items] == ["Mật ong hoa nhãn Kiêu Kỵ", "Mật ong rừng"]
    assert compared == len(QUERIES) * len(SORTS) * len(_filters(shops)) * len(PAGES)
    assert found > 250  # the grid is not a comparison of empty pages


def test_a_shape_is_built_once_and_the_memo_stays_bounded(app, shops, monkeypatch):
    # filters without a text query: prebuilt on both databases (PostgreSQL's text search goes through its function)
    with app.app_context():
        queries._PREBUILT.clear()
        queries.public_search(commune="kieu-ky", category="thuc-pham", sort="price_asc")
        built = dict(queries._PREBUILT)
        assert len(built) == 1
        queries.public_search(commune="bat-trang", category="thu-cong-my-nghe", sort="price_asc", page=2)  # new values
        assert queries._PREBUILT == built and all(queries._PREBUILT[k] is v for k, v in built.items())
        monkeypatch.setattr(queries, "PREBUILT_MAX", 2)
        queries.public_search(sort="name")
        queries.public_search(vendor=shops["bees"], sort="name")  # full: emptied, then this shape
        assert len(queries._PREBUILT) == 1
        assert queries.public_search(vendor=shops["bees"], sort="name") == queries.public_search_built(
            vendor=shops["bees"], sort="name")


def test_a_product_page_finds_the_published_products_of_its_own_commune_only(app, shops):
    with app.app_context():
        with all_tenants():
            products = db.session.execute(
                queries.select(Product.slug, Product.tenant_id, Product.vendor_id, Product.status)).all()
        slugs = {shops["bat-trang"].id: "bat-trang", shops["kieu-ky"].id: "kieu-ky"}
        shown = 0
        for slug, tenant_id, vendor_id, _status in products:
            newest = queries.public_search_built(vendor=(tenant_id, vendor_id), per_page=50).items
            listed = {c.slug: c for c in newest}
            detail = queries.public_product(slugs[tenant_id], slug)
            if slug in listed:
                assert detail is not None and detail.card == listed[slug]
                shown += 1
            else:  # a draft, a stopped vendor's
                assert detail is None
            for limit in (1, 2, 5):  # the product page's "more from this producer": the first cards, no count
                assert queries.producer_newest((tenant_id, vendor_id), limit) == newest[:limit]
            other = "kieu-ky" if slugs[tenant_id] == "bat-trang" else "bat-trang"
            assert queries.public_product(other, slug) is None  # never under another commune's address
        assert shown == 10
        assert queries.public_product("bat-trang", "no-such-product") is None


def test_the_commune_filter_answers_as_the_statement_built_per_call(app, shops):
    compared = found = 0
    with app.app_context(), tenant_context(shops["bat-trang"]):
        for q, category, limit in itertools.product(QUERIES, [None, "thuc-pham", "do-uong"], [None, 1, 60]):
            prebuilt = queries.search_communes(q, category, limit=limit)
            assert prebuilt == queries.search_communes_built(q, category, limit=limit), (q, category, limit)
            compared += 1
            found += len(prebuilt)
    assert compared == len(QUERIES) * 9 and found > 40
