"""The marketplace demo: 13 producers of several communes, 139 published products with generated pictures, vendor
logins shop.<commune>.<n>@gialam.demo, seeded once."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import func, select

from app import demo
from app.extensions import db
from marketplace.models import Product
from tenants.vendors.models import Vendor
from tenants.scoping import all_tenants
from tests.conftest import login


def test_demo_catalogue(app, client):
    with app.app_context():
        counts = demo.seed(app.config["DEMO_PASSWORD"], payment_days=0)
        assert (counts["producers"], counts["products"]) == (13, 139)
        with all_tenants():
            assert db.session.scalar(select(func.count(func.distinct(Vendor.tenant_id)))) >= 5
            assert db.session.scalar(select(func.count()).select_from(Product).where(
                Product.status == "published", Product.ocop_stars.is_not(None))) >= 20
            ways = db.session.execute(select(Vendor.offers_delivery, Vendor.delivery_fee, Vendor.delivery_estimate,
                                             Vendor.offers_pickup, Vendor.pickup_place)).all()
            assert all(d or p for d, _fee, _est, p, _place in ways)  # a shopper can always get the goods (#19)
            assert any(d and fee > 0 and est for d, fee, est, _p, _place in ways)  # a flat fee with an estimate
            assert any(p and place and not d for d, _fee, _est, p, place in ways)  # pick-up only
            assert any(p and d for d, _fee, _est, p, _place in ways)  # both
        assert demo.seed(app.config["DEMO_PASSWORD"], payment_days=0).get("products") == 0  # once
    api = client.get("/api/products?per_page=200").get_json()
    assert api["total"] == 139
    assert {"bat-trang", "kieu-ky", "ninh-hiep"} <= {item["commune"] for item in api["items"]}
    names = [i["name"] for i in client.get("/api/products?q=bat trang&per_page=200").get_json()["items"]]
    assert names and all("Bát Tràng" in n or "bát tràng" in n.lower() for n in names[:3])
    html = client.get("/marketplace/").get_data(as_text=True)
    src = html.split('src="/marketplace/images/', 1)[1].split('"', 1)[0]
    picture = client.get("/marketplace/images/" + src)
    assert picture.status_code == 200 and Image.open(io.BytesIO(picture.data)).format == "JPEG"
    login(client, "shop.bat-trang.1@gialam.demo", app.config["DEMO_PASSWORD"])
    desk = client.get("/c/bat-trang/marketplace/products")
    assert desk.status_code == 200 and "Bình gốm men lam vẽ tay Bát Tràng cao 20 cm" in desk.get_data(as_text=True)
