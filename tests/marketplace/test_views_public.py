"""Public pages: catalogue across communes, readable addresses, Open Graph, caching for visitors without a
session, constant query counts, the cart and guest checkout, the order page found again by code and phone."""

from __future__ import annotations

import re

import pytest

from tests.conftest import count_queries, data_statements
from tests.marketplace.helpers import check_out_page, make_product, make_vendor, sub_orders

pytestmark = pytest.mark.usefixtures("bank_secrets")


def test_home_lists_products_of_every_commune_but_no_drafts(client, shop):
    html = client.get("/marketplace/").get_data(as_text=True)
    assert "Bình gốm men lam Bát Tràng" in html and "Tranh vàng quỳ Kiêu Kỵ" in html
    assert "Đĩa gốm nháp" not in html
    assert "Bát Tràng" in html and "Kiêu Kỵ" in html  # by commune


def test_product_page_has_a_readable_address_and_open_graph_tags(client, shop):
    response = client.get("/marketplace/p/bat-trang/binh-gom-men-lam-bat-trang")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<meta property="og:title" content="Bình gốm men lam Bát Tràng – 250.000 ₫">' in html
    assert '<meta property="og:type" content="product">' in html
    assert 'property="og:url" content="http://localhost/marketplace/p/bat-trang/binh-gom-men-lam-bat-trang"' in html
    assert '<meta property="product:price:amount" content="250000">' in html
    assert client.get("/marketplace/p/kieu-ky/binh-gom-men-lam-bat-trang").status_code == 404  # not that commune
    assert client.get("/marketplace/p/bat-trang/dia-gom-nhap").status_code == 404  # a draft


def test_storefront_category_commune_filter_and_sorting(client, shop):
    html = client.get("/marketplace/shop/kieu-ky/" + _vendor_slug(client, "Tranh vàng quỳ Kiêu Kỵ")).get_data(
        as_text=True)
    assert "Tranh vàng quỳ Kiêu Kỵ" in html and "Bình gốm" not in html
    html = client.get("/marketplace/search?commune=kieu-ky").get_data(as_text=True)
    assert "Tranh vàng quỳ" in html and "Bình gốm" not in html
    html = client.get("/marketplace/category/thu-cong-my-nghe?sort=price_desc").get_data(as_text=True)
    assert html.index("Tranh vàng quỳ") < html.index("Ấm chén") < html.index("Bình gốm")
    html = client.get("/marketplace/search?sort=price_asc").get_data(as_text=True)
    assert html.index("Bình gốm") < html.index("Ấm chén") < html.index("Tranh vàng quỳ")
    html = client.get("/marketplace/search?sort=name").get_data(as_text=True)
    assert html.index("Ấm chén") < html.index("Bình gốm") < html.index("Tranh vàng quỳ")
    assert client.get("/marketplace/category/nothing").status_code == 404


def _vendor_slug(client, product_name: str) -> str:
    html = client.get("/marketplace/search?q=" + product_name).get_data(as_text=True)
    link = re.search(r'href="/marketplace/p/([^/]+)/([^"]+)"', html)
    page = client.get(f"/marketplace/p/{link.group(1)}/{link.group(2)}").get_data(as_text=True)
    return re.search(r'href="/marketplace/shop/[^/]+/([^"]+)"', page).group(1)


def test_pagination(app, client, make, shop):
    tenant = shop["tenants"]["kieu_ky"]
    for n in range(30):
        make_product(app, tenant, shop["vendors"]["vang"], f"Quạt giấy số {n}", price=10_000 + n)
    first = client.get("/marketplace/search?q=quat giay&sort=price_asc").get_data(as_text=True)
    second = client.get("/marketplace/search?q=quat giay&sort=price_asc&page=2").get_data(as_text=True)
    assert first.count('data-testid="product-card"') == 24 and second.count('data-testid="product-card"') == 6
    assert "Quạt giấy số 0<" in first and "Quạt giấy số 29<" in second


def test_catalogue_pages_are_cacheable_for_visitors_without_a_session(client, shop):
    response = client.get("/marketplace/")
    assert "public" in response.headers["Cache-Control"] and "max-age=60" in response.headers["Cache-Control"]
    etag = response.headers["ETag"]
    again = client.get("/marketplace/", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert "Set-Cookie" not in response.headers
    client.post("/marketplace/cart/add", data={"product_id": shop["products"]["binh"], "quantity": "1"})
    with_cart = client.get("/marketplace/")
    assert "private" in with_cart.headers["Cache-Control"] and "public" not in with_cart.headers["Cache-Control"]


def _grow(app, shop, n=30):
    tenant = shop["tenants"]["bat_trang"]
    for i in range(n):
        vendor = make_vendor(app, tenant, f"Lò gốm {i}")
        make_product(app, tenant, vendor, f"Bát gốm Bát Tràng số {i}", featured=True, stars=3)


def _count(app, client, path: str) -> int:
    with count_queries(app) as statements:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(data_statements(statements))


def test_query_counts_do_not_grow_with_the_page_size(app, client, shop):
    paths = ["/marketplace/", "/marketplace/search?q=bat trang", "/marketplace/search?commune=bat-trang",
             "/marketplace/category/thu-cong-my-nghe", "/marketplace/p/bat-trang/binh-gom-men-lam-bat-trang",
             "/api/products?per_page=200"]
    client.post("/marketplace/cart/add", data={"product_id": shop["products"]["binh"], "quantity": "1"})
    client.post("/marketplace/cart/add", data={"product_id": shop["products"]["vang"], "quantity": "1"})
    code = check_out_page(client)
    client.get(f"/marketplace/orders/{code}")  # the first opening extends the short holds (once; counted below)
    paths += ["/marketplace/cart", f"/marketplace/orders/{code}"]
    few = {path: _count(app, client, path) for path in paths}
    _grow(app, shop)
    many = {path: _count(app, client, path) for path in paths}
    assert many == few
    assert max(few.values()) <= 6, few


def test_guest_checkout_shows_one_qr_per_vendor_and_the_order_is_found_again_by_code_and_phone(app, client, shop):
    p = shop["products"]
    client.post("/marketplace/cart/add", data={"product_id": p["binh"], "quantity": "2"})
    client.post("/marketplace/cart/add", data={"product_id": p["vang"], "quantity": "1"})
    cart = client.get("/marketplace/cart").get_data(as_text=True)
    assert cart.count('data-testid="cart-group"') == 2 and "1.700.000 ₫" in cart
    code = check_out_page(client)
    html = client.get(f"/marketplace/orders/{code}").get_data(as_text=True)
    assert html.count('data-testid="qr"') == 2
    subs = sub_orders(app, code)
    for sub in subs:
        assert sub["reference"] in html
    assert client.get("/marketplace/cart").get_data(as_text=True).count('data-testid="cart-group"') == 0

    stranger = app.test_client()
    assert stranger.get(f"/marketplace/orders/{code}").status_code == 404  # the code alone opens nothing
    page = stranger.get("/marketplace/orders/find").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    wrong = stranger.post("/marketplace/orders/find", data={"csrf_token": token, "code": code, "phone": "0999999999"})
    assert wrong.status_code == 400
    right = stranger.post("/marketplace/orders/find", data={"csrf_token": token, "code": code.lower(),
                                                            "phone": "+84912345678"})
    assert right.headers["Location"].endswith(f"/marketplace/orders/{code}")
    status = stranger.get(f"/marketplace/orders/{code}/status").get_json()
    assert [s["status"] for s in status["sub_orders"]] == ["awaiting_payment", "awaiting_payment"]


def test_finding_an_order_by_code_and_phone_is_rate_limited_per_address(app, client, shop, monkeypatch):
    client.post("/marketplace/cart/add", data={"product_id": shop["products"]["binh"], "quantity": "1"})
    code = check_out_page(client)
    monkeypatch.setitem(app.config, "ORDER_LOOKUP_RATE_LIMIT", "3 per minute")
    guesser = app.test_client()
    page = guesser.get("/marketplace/orders/find").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    answers = [guesser.post("/marketplace/orders/find", data={"csrf_token": token, "code": code,
                                                               "phone": f"091234{i:04d}"}).status_code
               for i in range(4)]
    assert answers == [400, 400, 400, 429]
    right = guesser.post("/marketplace/orders/find", data={"csrf_token": token, "code": code, "phone": "0912345678"})
    assert right.status_code == 429  # guessing stops, right or wrong
    assert guesser.get("/marketplace/orders/find").status_code == 200  # the form itself still shows
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    page = other.get("/marketplace/orders/find").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    found = other.post("/marketplace/orders/find", data={"csrf_token": token, "code": code, "phone": "0912345678"})
    assert found.headers["Location"].endswith(f"/marketplace/orders/{code}")


def test_adding_more_than_the_stock_is_refused(client, shop):
    p = shop["products"]
    client.post("/marketplace/cart/add", data={"product_id": p["am"], "quantity": "2"})
    response = client.post("/marketplace/cart/add", data={"product_id": p["am"], "quantity": "2"},
                           follow_redirects=True)
    assert "Chỉ còn 3" in response.get_data(as_text=True) or "Only 3" in response.get_data(as_text=True)
    assert client.post("/marketplace/cart/add", data={"product_id": p["draft"], "quantity": "1"}).status_code == 404


def test_api_products(client, shop):
    data = client.get("/api/products?q=bat trang&per_page=1").get_json()
    assert data["total"] == 2 and data["page"] == 1 and data["per_page"] == 1
    assert set(data["items"][0]) == {"id", "slug", "name", "price", "unit", "stock", "vendor", "commune", "category",
                                     "ocop_stars"}
    data = client.get("/api/products?commune=kieu-ky&category=thu-cong-my-nghe").get_json()
    assert [i["name"] for i in data["items"]] == ["Tranh vàng quỳ Kiêu Kỵ"]
    assert data["items"][0] | {"id": 0} == {"id": 0, "slug": "tranh-vang-quy-kieu-ky", "name": "Tranh vàng quỳ Kiêu Kỵ",
                                            "price": 1_200_000, "unit": "cái", "stock": 2,
                                            "vendor": "Vàng quỳ Kiêu Kỵ", "commune": "kieu-ky",
                                            "category": "thu-cong-my-nghe", "ocop_stars": 5}
    for bad in ("per_page=201", "per_page=0", "page=-1", "page=x", "category=nope", "q=" + "a" * 101,
                "commune=nowhere"):
        response = client.get("/api/products?" + bad)
        assert response.status_code == 400, bad
        assert response.get_json()["error"]["message"]


def _served(app, client, path, **kwargs):
    """(response, served from the response cache?)"""
    cache = app.extensions["response_cache"]
    hits = cache.hits
    response = client.get(path, **kwargs)
    return response, cache.hits == hits + 1


CATALOGUE = ("/marketplace/", "/marketplace/search?q=binh gom", "/marketplace/category/thu-cong-my-nghe",
             "/marketplace/p/bat-trang/binh-gom-men-lam-bat-trang")


def test_visitors_without_a_session_are_served_the_stored_page_with_its_etag(app, client, shop):
    for path in CATALOGUE:
        first, first_hit = _served(app, client, path)
        again, again_hit = _served(app, client, path)
        assert not first_hit and again_hit, path
        assert again.get_data() == first.get_data() and again.headers["ETag"] == first.headers["ETag"], path
        assert again.headers["Cache-Control"] == "public, max-age=60", path
        not_modified, hit = _served(app, client, path, headers={"If-None-Match": first.headers["ETag"]})
        assert hit and not_modified.status_code == 304 and not_modified.get_data() == b"", path
        changed, hit = _served(app, client, path, headers={"If-None-Match": '"another"'})
        assert hit and changed.status_code == 200 and changed.get_data() == first.get_data(), path
    with client.session_transaction() as session:  # a cart: never the shared page
        session["cart"] = {str(shop["products"]["vang"]): 1}
    response, hit = _served(app, client, "/marketplace/")
    assert not hit and response.headers["Cache-Control"] == "private, no-cache"


def test_a_cached_page_shows_a_new_price_at_once(app, client, shop):
    from app.extensions import db
    from marketplace import services
    from tenants.scoping import tenant_context

    path = "/marketplace/p/bat-trang/binh-gom-men-lam-bat-trang"
    client.get(path)
    assert _served(app, client, path)[1] and "250.000 ₫" in client.get(path).get_data(as_text=True)
    with app.app_context(), tenant_context(shop["tenants"]["bat_trang"]):
        services.update_product(shop["vendors"]["gom"], shop["products"]["binh"], {
            "name": "Bình gốm men lam Bát Tràng", "category": "thu-cong-my-nghe", "price": "275.000", "stock": "5",
            "unit": "cái", "ocop_stars": "4", "ocop_certificate": "OCOP-1"})
        db.session.commit()
    response, hit = _served(app, client, path)
    assert not hit and "275.000 ₫" in response.get_data(as_text=True)
    assert "275.000 ₫" in client.get("/marketplace/search?q=binh gom").get_data(as_text=True)


def test_a_cached_page_shows_a_product_sold_out_by_a_checkout_and_a_new_product(app, client, shop):
    from tests.marketplace.helpers import checkout

    path = "/marketplace/p/kieu-ky/tranh-vang-quy-kieu-ky"
    assert 'data-testid="add-to-cart"' in client.get(path).get_data(as_text=True)
    assert _served(app, client, path)[1]
    checkout(app, [(shop["products"]["vang"], 2)])  # the last two held for an unpaid order
    response, hit = _served(app, client, path)
    assert not hit
    assert 'data-testid="add-to-cart"' not in response.get_data(as_text=True)
    assert "Sold out" in client.get(path + "?lang=en").get_data(as_text=True)
    client.get("/marketplace/search?q=binh gom")
    assert _served(app, client, "/marketplace/search?q=binh gom")[1]
    make_product(app, shop["tenants"]["bat_trang"], shop["vendors"]["gom"], "Bình gốm hoa sen")
    response, hit = _served(app, client, "/marketplace/search?q=binh gom")
    assert not hit and "Bình gốm hoa sen" in response.get_data(as_text=True)


def test_checkout_of_more_than_is_left_says_so_and_orders_nothing(app, client, shop):
    from tests.marketplace.helpers import checkout, product_state

    p = shop["products"]
    client.post("/marketplace/cart/add", data={"product_id": p["vang"], "quantity": "2"})
    checkout(app, [(p["vang"], 1)])  # someone else was quicker
    page = client.get("/marketplace/checkout").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/marketplace/checkout", data={
        "csrf_token": token, "name": "An", "phone": "0912345678", "address": "Hà Nội"})
    assert response.status_code == 400
    assert "Chỉ còn 1 “Tranh vàng quỳ Kiêu Kỵ”" in response.get_data(as_text=True)
    assert product_state(app, p["vang"])["reserved"] == 1
    bad_phone = client.post("/marketplace/checkout", data={
        "csrf_token": token, "name": "An", "phone": "12345", "address": "Hà Nội"})
    assert bad_phone.status_code == 400 and "10 chữ số" in bad_phone.get_data(as_text=True)


def test_nul_characters_anywhere_are_refused_or_ignored_not_a_database_error(app, client, shop, monkeypatch):
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    for path in ("/marketplace/search?q=g%00m", "/marketplace/search?commune=a%00", "/marketplace/p/bat-trang/a%00",
                 "/marketplace/shop/bat-trang/a%00", "/api/products?q=%00", "/api/products?commune=a%00",
                 "/marketplace/orders/DH%00"):
        assert client.get(path).status_code < 500, path
    client.post("/marketplace/cart/add", data={"product_id": shop["products"]["binh"], "quantity": "1"})
    page = client.get("/marketplace/checkout").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/marketplace/checkout", data={
        "csrf_token": token, "name": "An\x00", "phone": "0912345678", "address": "Hà\x00 Nội", "note": "\x00"})
    assert response.status_code == 400  # refused with a clear message, before any view (app/bounds.py)
    assert client.post("/marketplace/orders/find", data={"csrf_token": token, "code": "DH\x00",
                                                         "phone": "0912345678"}).status_code == 400


def test_a_checkout_run_again_after_a_deadlock_orders_once_and_then_empties_the_cart(app, client, shop, monkeypatch):
    """The cart empties after the order is committed (transactions.after_commit): when the first run's commit is
    lost to a deadlock, the view runs again with the cart still full, and the order is placed once."""
    from sqlalchemy import func, select
    from sqlalchemy.exc import OperationalError

    from app import transactions
    from app.extensions import db
    from marketplace.models import Order
    from tests.marketplace.helpers import product_state

    class Deadlock(Exception):
        sqlstate = "40P01"

    real_commit, commits = transactions._commit, []

    def commit_lost_once():
        commits.append(1)
        if len(commits) == 1:
            raise OperationalError("COMMIT", {}, Deadlock("deadlock detected"))
        real_commit()

    p = shop["products"]
    client.post("/marketplace/cart/add", data={"product_id": p["binh"], "quantity": "2"})
    page = client.get("/marketplace/checkout").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    monkeypatch.setattr(transactions, "_commit", commit_lost_once)
    response = client.post("/marketplace/checkout", data={
        "csrf_token": token, "name": "Trần Thị Bình", "phone": "0912345678", "address": "Số 1 Trâu Quỳ"})
    monkeypatch.setattr(transactions, "_commit", real_commit)
    assert response.status_code == 302 and "/marketplace/orders/" in response.headers["Location"]
    assert len(commits) == 2
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 1
    assert product_state(app, p["binh"])["reserved"] == 2
    assert client.get("/marketplace/cart").get_data(as_text=True).count('data-testid="cart-group"') == 0
