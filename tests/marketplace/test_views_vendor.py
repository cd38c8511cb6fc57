"""Vendor pages: own records only (404 for another vendor, even in the same commune, and for another commune),
listings, photos checked by content, CSV import with per-row errors, the work on sub-orders and its CSV."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from marketplace import images
from marketplace.statuses import SUB_ORDER_STATUS_VALUES, VENDOR_ACTIONS
from tests.conftest import csrf_token, login
from tests.marketplace.helpers import checkout, make_vendor_user, product_state, sub_orders
from tests.payments.helpers import post_sepay, sepay_payload

pytestmark = pytest.mark.usefixtures("bank_secrets")


@pytest.fixture
def vendors(app, shop):
    bt, kk = shop["tenants"]["bat_trang"], shop["tenants"]["kieu_ky"]
    make_vendor_user(app, bt, shop["vendors"]["gom"], "gom@bt.vn")
    make_vendor_user(app, bt, shop["vendors"]["men"], "men@bt.vn")
    make_vendor_user(app, kk, shop["vendors"]["vang"], "vang@kk.vn")
    return shop


def _post(client, path, data=None, **kwargs):
    token = csrf_token(client, "/c/bat-trang/marketplace/products/new")
    return client.post(path, data={**(data or {}), "csrf_token": token}, **kwargs)


def _paid_order(app, client, product_id, quantity=1):
    code = checkout(app, [(product_id, quantity)])
    [sub] = sub_orders(app, code)
    post_sepay(client, sepay_payload(sub["account_number"], sub["reference"], sub["amount"]))
    return code, sub_orders(app, code)[0]


def test_a_vendor_cannot_see_or_touch_another_vendors_products_or_orders(app, client, vendors):
    p = vendors["products"]
    code, sub = _paid_order(app, app.test_client(), p["am"])  # Men lam's order
    login(client, "gom@bt.vn")
    assert client.get(f"/c/bat-trang/marketplace/products/{p['binh']}").status_code == 200
    assert client.get(f"/c/bat-trang/marketplace/products/{p['am']}").status_code == 404
    assert _post(client, f"/c/bat-trang/marketplace/products/{p['am']}/unpublish").status_code == 404
    assert _post(client, f"/c/bat-trang/marketplace/products/{p['am']}/stock", {"stock": "0"}).status_code == 404
    assert _post(client, f"/c/bat-trang/marketplace/products/{p['am']}",
                 {"name": "X", "category": "do-uong", "price": "1"}).status_code == 404
    assert client.get(f"/c/bat-trang/marketplace/orders/{sub['id']}").status_code == 404
    assert _post(client, f"/c/bat-trang/marketplace/orders/{sub['id']}/confirm").status_code == 404
    assert code not in client.get("/c/bat-trang/marketplace/orders.csv").get_data(as_text=True)
    assert client.get("/c/kieu-ky/marketplace/").status_code == 404  # another commune: not their pages
    assert client.get(f"/c/kieu-ky/marketplace/products/{p['vang']}").status_code == 404
    assert product_state(app, p["am"])["status"] == "published"
    assert sub_orders(app, code)[0]["status"] == "paid"


def test_staff_and_visitors_are_not_vendors(app, client, make, vendors):
    make.user("officer@bt.vn", "officer", vendors["tenants"]["bat_trang"])
    assert client.get("/c/bat-trang/marketplace/").status_code == 302  # to sign in
    login(client, "officer@bt.vn")
    assert client.get("/c/bat-trang/marketplace/").status_code == 404


def test_create_edit_publish_and_stock(app, client, vendors):
    login(client, "gom@bt.vn")
    response = _post(client, "/c/bat-trang/marketplace/products/new", {
        "name": "Lọ hoa gốm men rạn", "category": "thu-cong-my-nghe", "price": "125.000 ₫", "unit": "cái",
        "stock": "7", "description": "Cao 30 cm", "ocop_stars": "4", "ocop_certificate": "123/QĐ-UBND",
        "ocop_expires_on": "31/12/2027"})
    assert response.status_code == 302
    product_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert product_state(app, product_id) == {"stock": 7, "reserved": 0, "status": "draft"}
    assert client.get("/marketplace/p/bat-trang/lo-hoa-gom-men-ran").status_code == 404
    _post(client, f"/c/bat-trang/marketplace/products/{product_id}/publish")  # no photo yet: stays a draft
    assert product_state(app, product_id)["status"] == "draft"
    _post(client, f"/c/bat-trang/marketplace/products/{product_id}/images",
          {"image": (io.BytesIO(_jpeg()), "lo-hoa.jpg")}, content_type="multipart/form-data")
    _post(client, f"/c/bat-trang/marketplace/products/{product_id}/publish")
    assert product_state(app, product_id)["status"] == "published"
    page = client.get("/marketplace/p/bat-trang/lo-hoa-gom-men-ran").get_data(as_text=True)
    assert "125.000 ₫" in page and "123/QĐ-UBND" in page and "31/12/2027" in page
    assert _post(client, f"/c/bat-trang/marketplace/products/{product_id}/stock", {"stock": "3"}).status_code == 302
    assert product_state(app, product_id)["stock"] == 3
    bad = _post(client, f"/c/bat-trang/marketplace/products/{product_id}", {
        "name": "Lọ hoa", "category": "thu-cong-my-nghe", "price": "12,5", "stock": "3"})
    assert bad.status_code == 400 and "125.000" in bad.get_data(as_text=True)
    _post(client, f"/c/bat-trang/marketplace/products/{product_id}/unpublish")
    assert product_state(app, product_id)["status"] == "draft"


def test_stock_cannot_go_below_what_unpaid_orders_hold(app, client, vendors):
    p = vendors["products"]
    checkout(app, [(p["binh"], 4)])
    login(client, "gom@bt.vn")
    _post(client, f"/c/bat-trang/marketplace/products/{p['binh']}/stock", {"stock": "3"})
    assert product_state(app, p["binh"]) == {"stock": 5, "reserved": 4, "status": "published"}


def _jpeg(size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "#b3261e").save(out, "JPEG")
    return out.getvalue()


def _upload(client, product_id, data: bytes, filename="photo.jpg"):
    token = csrf_token(client, f"/c/bat-trang/marketplace/products/{product_id}")
    return client.post(f"/c/bat-trang/marketplace/products/{product_id}/images",
                       data={"csrf_token": token, "image": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data", follow_redirects=True)


def test_photos_are_checked_by_content_reencoded_and_served(app, client, vendors):
    product_id = vendors["products"]["binh"]
    before = _product_images(app, product_id)  # the photo it was published with
    login(client, "gom@bt.vn")
    script = _upload(client, product_id, b"#!/bin/sh\nrm -rf /\n", "photo.jpg")
    assert "không phải là ảnh" in script.get_data(as_text=True) or "not a picture" in script.get_data(as_text=True)
    big = _upload(client, product_id, b"\xff\xd8\xff" + b"0" * (images.MAX_BYTES + 10))
    assert "5 MB" in big.get_data(as_text=True)
    huge = io.BytesIO()
    Image.new("1", (8000, 6000)).save(huge, "PNG")  # 48 megapixels in a small file
    assert "40 megapixel" in _upload(client, product_id, huge.getvalue(), "a.png").get_data(as_text=True)
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    assert "JPEG, PNG" in _upload(client, product_id, gif.getvalue(), "a.jpg").get_data(as_text=True)
    assert _product_images(app, product_id) == before

    ok = _upload(client, product_id, _jpeg((2400, 1800)))
    assert ok.status_code == 200
    [name] = [n for n in _product_images(app, product_id) if n not in before]
    visitor = app.test_client()
    full = visitor.get(f"/marketplace/images/{product_id}/{name}-full.jpg")
    thumb = visitor.get(f"/marketplace/images/{product_id}/{name}-thumb.jpg")
    assert full.status_code == thumb.status_code == 200
    assert Image.open(io.BytesIO(full.data)).size == (1200, 900)
    assert Image.open(io.BytesIO(thumb.data)).size == (400, 300)
    assert "immutable" in full.headers["Cache-Control"]
    assert visitor.get(f"/marketplace/images/{product_id}/{name}x-full.jpg").status_code == 404


def test_a_removed_photo_leaves_the_product_and_then_the_storage(app, client, vendors):
    """The row stops naming the picture, and its files go once that is committed (transactions.after_commit)."""
    from app import storage

    product_id = vendors["products"]["binh"]
    before = _product_images(app, product_id)
    login(client, "gom@bt.vn")
    _upload(client, product_id, _jpeg())
    [name] = [n for n in _product_images(app, product_id) if n not in before]
    tenant_id = vendors["tenants"]["bat_trang"].id
    with app.app_context():
        assert storage.load(images.key(tenant_id, product_id, name, "full"))
    response = _post(client, f"/c/bat-trang/marketplace/products/{product_id}/images/{name}/delete")
    assert response.status_code == 302
    assert _product_images(app, product_id) == before
    with app.app_context():
        for size in images.SIZES:
            with pytest.raises(FileNotFoundError):
                storage.load(images.key(tenant_id, product_id, name, size))


def _product_images(app, product_id):
    from sqlalchemy import select

    from app.extensions import db
    from marketplace.models import Product
    from tenants.scoping import all_tenants

    with app.app_context(), all_tenants():
        return db.session.scalar(select(Product.images).where(Product.id == product_id))


CSV_OK = ("Tên sản phẩm,Nhóm sản phẩm,Giá bán,Đơn vị tính,Tồn kho,Sao OCOP,Số chứng nhận,Đăng bán\n"
          "Mật ong hoa nhãn,thuc-pham,125.000,chai,20,4,OCOP-1,x\n"
          "Trà sen Tây Hồ,Đồ uống,\"250.000 ₫\",hộp,5,,,x\n"
          "Gối thảo dược,thao-duoc,12.5,cái,3,,,\n"
          ",thuc-pham,10.000,cái,1,,,\n"
          "Nến thơm,Nhóm lạ,50.000,cái,1,,,\n"
          "Bánh chưng,thuc-pham,80.000,cái,2,6,OCOP-2,x\n")


def _import(client, data: bytes, ndjson=False):
    token = csrf_token(client, "/c/bat-trang/marketplace/products/import")
    headers = {"Accept": "application/x-ndjson"} if ndjson else {}
    return client.post("/c/bat-trang/marketplace/products/import",
                       data={"csrf_token": token, "file": (io.BytesIO(data), "san-pham.csv")},
                       content_type="multipart/form-data", headers=headers)


def test_csv_import_saves_good_rows_and_reports_bad_ones_by_line(app, client, vendors):
    login(client, "gom@bt.vn")
    response = _import(client, CSV_OK.encode("utf-8-sig"))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Đã nhập 2 trên 6 sản phẩm." in html
    for line in (4, 5, 6, 7):
        assert f"Dòng {line}:" in html
    assert "Dòng 2:" not in html and "Dòng 3:" not in html
    imported = _imported(app)  # drafts: each is published once it has its photo
    assert imported["Mật ong hoa nhãn"] == (125_000, 20, 4, "draft")
    assert imported["Trà sen Tây Hồ"][0] == 250_000
    assert not any(name.startswith("Bánh chưng") for name in imported)


def _imported(app) -> dict:
    from sqlalchemy import select

    from app.extensions import db
    from marketplace.models import Product
    from tenants.scoping import all_tenants

    with app.app_context(), all_tenants():
        return {p.name: (p.price, p.stock, p.ocop_stars, p.status) for p in db.session.scalars(select(Product))}


def test_csv_import_streams_its_progress(app, client, vendors):
    login(client, "gom@bt.vn")
    rows = "Tên sản phẩm,Nhóm sản phẩm,Giá bán\n" + "".join(f"Bánh cốm {n},thuc-pham,30.000\n" for n in range(25))
    response = _import(client, rows.encode(), ndjson=True)
    import json

    events = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    assert [e["progress"] for e in events if "progress" in e] == [10, 20, 25]
    assert events[-1]["done"] and events[-1]["imported"] == 25 and events[-1]["errors"] == []


def test_a_file_that_is_not_a_csv_changes_nothing(app, client, vendors):
    login(client, "gom@bt.vn")
    for data in (b"\x89PNG\r\n\x1a\n\x00\x00", "tên,giá\nA,1\n".encode(), b"", "\xff\xfe".encode("latin-1")):
        assert _import(client, data).status_code == 400
    assert client.get("/api/products").get_json()["total"] == 3


# The vendor's work on a sub-order, as docs/decisions.md ("Marketplace") gives it: (state, action) -> new state.
# Every other pair is refused.
VENDOR_STATE_MACHINE = {
    ("paid", "confirm"): "confirmed", ("paid", "cancel"): "canceled",
    ("confirmed", "ship"): "shipped", ("confirmed", "cancel"): "canceled",
    ("shipped", "deliver"): "delivered", ("awaiting_payment", "cancel"): "canceled",
}
PAIRS = [(state, action) for state in SUB_ORDER_STATUS_VALUES for action in VENDOR_ACTIONS]
REASON = "Hết hàng, xin lỗi quý khách"


def _act(app, tenant, vendor_id: int, sub_id: int, action: str) -> None:
    from app.extensions import db
    from marketplace import services
    from tenants.scoping import tenant_context

    with app.app_context(), tenant_context(tenant):
        services.act_on_sub_order(vendor_id, sub_id, action, REASON)
        db.session.commit()  # the boundary's part


def _sub_order_in(app, shop, state: str) -> tuple[str, dict]:
    """A sub-order of Gốm Minh Long (2 of its "binh") brought to ``state`` by legal steps only: a checkout, the
    bank's notification of the payment, the vendor's own actions, or the hold running out."""
    from datetime import timedelta

    from app.clock import utcnow
    from app.extensions import db
    from marketplace import services

    tenant, vendor_id = shop["tenants"]["bat_trang"], shop["vendors"]["gom"]
    code = checkout(app, [(shop["products"]["binh"], 2)])
    [sub] = sub_orders(app, code)
    if state == "expired":
        with app.app_context():
            services.expire_holds(utcnow() + timedelta(hours=1))
            db.session.commit()
    elif state == "canceled":
        _act(app, tenant, vendor_id, sub["id"], "cancel")
    elif state != "awaiting_payment":
        post_sepay(app.test_client(), sepay_payload(sub["account_number"], sub["reference"], sub["amount"]))
        steps = {"paid": (), "confirmed": ("confirm",), "shipped": ("confirm", "ship"),
                 "delivered": ("confirm", "ship", "deliver")}[state]
        for step in steps:
            _act(app, tenant, vendor_id, sub["id"], step)
    [sub] = sub_orders(app, code)
    assert sub["status"] == state
    return code, sub


def _snapshot(sub_id: int, product_id: int) -> dict:
    """The sub-order's row as the session has it, and what the database holds of its product and its payment."""
    from sqlalchemy import select

    from app.extensions import db
    from app.payments.models import PaymentIntent
    from marketplace.models import Product, SubOrder

    sub = db.session.get(SubOrder, sub_id)
    return {"sub_order": {column.key: getattr(sub, column.key) for column in SubOrder.__table__.columns},
            "product": tuple(db.session.execute(select(Product.stock, Product.reserved, Product.status)
                                                .where(Product.id == product_id)).one()),
            "intent": tuple(db.session.execute(select(PaymentIntent.status, PaymentIntent.amount_received)
                                               .where(PaymentIntent.public_id == sub.intent_id)).one())}


@pytest.mark.parametrize("state, action", PAIRS, ids=[f"{s}-{a}" for s, a in PAIRS])
def test_transitions_table(app, shop, state, action):
    """Every (state, action) pair through the real service: an allowed one leads where the table says, with its
    effects on the stock and the money; any other is refused with nothing changed."""
    from app.errors import ValidationError
    from app.extensions import db
    from marketplace import services
    from tenants.scoping import tenant_context

    tenant, vendor_id, product_id = shop["tenants"]["bat_trang"], shop["vendors"]["gom"], shop["products"]["binh"]
    code, sub = _sub_order_in(app, shop, state)
    with app.app_context(), tenant_context(tenant):
        before = _snapshot(sub["id"], product_id)
        expected = VENDOR_STATE_MACHINE.get((state, action))
        if expected is None:
            with pytest.raises(ValidationError) as refused:
                services.act_on_sub_order(vendor_id, sub["id"], action, REASON)
            assert (refused.value.field, str(refused.value.message)) == (
                "action", "Đơn hàng này hiện không thể làm việc đó.")  # "This order cannot do that now."
            assert _snapshot(sub["id"], product_id) == before
            db.session.rollback()
            assert _snapshot(sub["id"], product_id) == before
            return
        services.act_on_sub_order(vendor_id, sub["id"], action, REASON)
        db.session.commit()
        after = _snapshot(sub["id"], product_id)
    done = after["sub_order"]
    assert done["status"] == expected
    stock, reserved, _status = before["product"]
    if action == "cancel":
        assert done["cancel_reason"] == REASON and done["canceled_at"] is not None
        if state == "awaiting_payment":  # the held units go back on sale, the QR stops being payable
            assert after["product"][:2] == (stock, reserved - 2) and not done["refund_due"]
            assert after["intent"] == ("canceled", 0)
        else:  # sold units come back to the stock; the money goes back to the shopper
            assert after["product"][:2] == (stock + 2, reserved) and done["refund_due"]
            assert after["intent"] == before["intent"]
    else:
        stamp = {"confirm": "confirmed_at", "ship": "shipped_at", "deliver": "delivered_at"}[action]
        assert before["sub_order"][stamp] is None and done[stamp] is not None
        assert after["product"] == before["product"] and after["intent"] == before["intent"]
    assert sub_orders(app, code)[0]["status"] == expected


def test_vendor_confirms_ships_delivers_and_the_shopper_sees_each_step(app, client, vendors):
    code, sub = _paid_order(app, app.test_client(), vendors["products"]["binh"], 2)
    login(client, "gom@bt.vn")
    desk = client.get("/c/bat-trang/marketplace/").get_data(as_text=True)
    assert code in desk and 'data-testid="new-order"' in desk
    chart = desk.split('data-testid="sales-chart"', 1)[1].split("</figure>", 1)[0]
    assert chart.count("<rect") == 14 and "500.000 ₫" in chart  # today's bar: the paid order
    assert _post(client, f"/c/bat-trang/marketplace/orders/{sub['id']}/ship").status_code == 302
    assert sub_orders(app, code)[0]["status"] == "paid"  # cannot ship before confirming
    for action, status in (("confirm", "confirmed"), ("ship", "shipped"), ("deliver", "delivered")):
        _post(client, f"/c/bat-trang/marketplace/orders/{sub['id']}/{action}")
        assert sub_orders(app, code)[0]["status"] == status
    export = client.get("/c/bat-trang/marketplace/orders.csv")
    text = export.data.decode("utf-8-sig")
    assert code in text and "2 × Bình gốm men lam Bát Tràng" in text and "500000" in text


def test_cancel_needs_a_reason_and_returns_the_stock(app, client, vendors):
    p = vendors["products"]
    code, sub = _paid_order(app, app.test_client(), p["binh"], 2)
    login(client, "gom@bt.vn")
    _post(client, f"/c/bat-trang/marketplace/orders/{sub['id']}/cancel", {"reason": " "})
    assert sub_orders(app, code)[0]["status"] == "paid"
    _post(client, f"/c/bat-trang/marketplace/orders/{sub['id']}/cancel", {"reason": "Hết men lam"})
    after = sub_orders(app, code)[0]
    assert (after["status"], after["refund_due"]) == ("canceled", True)
    assert product_state(app, p["binh"]) == {"stock": 5, "reserved": 0, "status": "published"}
    unpaid = checkout(app, [(p["binh"], 1)])
    [waiting] = sub_orders(app, unpaid)
    _post(client, f"/c/bat-trang/marketplace/orders/{waiting['id']}/cancel", {"reason": "Không giao được"})
    waiting = sub_orders(app, unpaid)[0]
    assert (waiting["status"], waiting["intent_status"], waiting["refund_due"]) == ("canceled", "canceled", False)
    assert product_state(app, p["binh"])["reserved"] == 0


def test_another_vendors_product_photos_cannot_be_added_or_removed(app, client, vendors):
    login(client, "gom@bt.vn")
    other = vendors["products"]["am"]
    before = _product_images(app, other)
    token = csrf_token(client, "/c/bat-trang/marketplace/products/new")
    response = client.post(f"/c/bat-trang/marketplace/products/{other}/images",
                           data={"csrf_token": token, "image": (io.BytesIO(_jpeg()), "a.jpg")},
                           content_type="multipart/form-data")
    assert response.status_code == 404
    assert _post(client, f"/c/bat-trang/marketplace/products/{other}/images/abc/delete").status_code == 404
    assert _product_images(app, other) == before


def test_vendor_routes_answer_garbage_without_500(app, client, vendors, monkeypatch):
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    login(client, "gom@bt.vn")
    token = csrf_token(client, "/c/bat-trang/marketplace/products/new")
    own = vendors["products"]["binh"]
    garbage = {"csrf_token": token, "name": "\x00" * 300, "category": "☃", "price": "-1e309", "stock": "9" * 40,
               "ocop_stars": "7", "ocop_expires_on": "31/02/2027", "reason": "😀" * 400, "quantity": "x",
               "image": "not a file", "file": "not a file", "publish": "y"}
    failures = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("marketplace"):
            continue
        values = {"tenant_slug": "bat-trang", "product_id": own, "sub_order_id": 999999, "action": "ship",
                  "name": "abc", "size": "full", "commune_slug": "bat-trang", "slug": "x", "vendor_slug": "x",
                  "code": "DHNOPE"}
        path = rule.build({k: v for k, v in values.items() if k in rule.arguments}, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method, data=garbage if method == "POST" else None)
            if response.status_code >= 500:
                failures.append(f"{method} {path} -> {response.status_code}")
    assert failures == []
    assert product_state(app, own) == {"stock": 5, "reserved": 0, "status": "published"}


def test_ids_beyond_the_integer_range_are_404_not_database_errors(app, client, vendors):
    huge = 2**35  # 11 digits: a well-formed id no integer column holds
    assert app.test_client().get(f"/marketplace/images/{huge}/abc-full.jpg").status_code == 404
    assert app.test_client().post("/marketplace/cart/add", data={"product_id": str(huge)}).status_code == 404
    login(client, "gom@bt.vn")
    assert client.get(f"/c/bat-trang/marketplace/products/{huge}").status_code == 404
    assert client.get(f"/c/bat-trang/marketplace/orders/{huge}").status_code == 404
    assert _post(client, f"/c/bat-trang/marketplace/orders/{huge}/confirm").status_code == 404
