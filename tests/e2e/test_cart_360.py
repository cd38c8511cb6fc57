"""The cart on a 360 px phone (#19): a picture per line, a subtotal per producer (goods + the producer's delivery
fee), the choice of delivery or pick-up, a remove button; nothing wider than the screen; no serious axe-core
violation. Headless Chromium, vi-VN."""

from __future__ import annotations

import io
import re

import pytest

from tests.marketplace.helpers import make_product, make_vendor, offer

pytestmark = pytest.mark.e2e

expect = pytest.importorskip("playwright.sync_api").expect


def _with_picture(app, tenant, vendor_id, name, price, color, stock=10):
    """A published product with a real stored picture (the pipeline a vendor's upload goes through)."""
    from PIL import Image

    from app.extensions import db
    from marketplace import images, services
    from tenants.scoping import tenant_context

    product_id = make_product(app, tenant, vendor_id, name, price=price, stock=stock, publish=False, photo=False)
    jpeg = io.BytesIO()
    Image.new("RGB", (320, 240), color).save(jpeg, "JPEG")
    with app.app_context(), tenant_context(tenant):
        picture, full, thumb = images.prepare(jpeg.getvalue())
        images.store(tenant.id, product_id, picture, full, thumb)
        product = services.get_product(vendor_id, product_id)
        product.images = [picture]
        services.set_published(vendor_id, product_id, True)
        db.session.commit()
    return product_id


def test_the_cart_at_360_px(app, browser_page, make, tmp_path, monkeypatch):
    from tests.e2e.axe import assert_accessible

    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    bat_trang = make.tenant("bat-trang", "Bát Tràng")
    gom = make_vendor(app, bat_trang, "Gốm Minh Long")
    men = make_vendor(app, bat_trang, "Men lam Hợp Thành")
    _with_picture(app, bat_trang, gom, "Bình gốm men lam Bát Tràng", 250_000, "#1b5e8c")
    _with_picture(app, bat_trang, men, "Ấm chén Bát Tràng men rạn", 450_000, "#8d5a2b")
    offer(app, bat_trang, gom, delivery_fee=20_000, delivery_estimate="2–3 ngày", offers_pickup=True,
          pickup_place="Xưởng gốm, thôn 3 Bát Tràng", pickup_estimate="Trong ngày")

    page = browser_page
    page.set_viewport_size({"width": 360, "height": 740})
    for added, slug in enumerate(("binh-gom-men-lam-bat-trang", "am-chen-bat-trang-men-ran"), start=1):
        page.goto(f"/marketplace/p/bat-trang/{slug}")
        page.get_by_test_id("add-to-cart").click()
        expect(page.get_by_test_id("cart-count")).to_have_text(str(added))
    page.goto("/marketplace/cart")
    expect(page.get_by_test_id("cart-line")).to_have_count(2)
    expect(page.get_by_test_id("cart-subtotal")).to_have_text(["270.000 ₫", "450.000 ₫"])  # delivery by default
    expect(page.get_by_test_id("cart-total")).to_have_text("720.000 ₫")
    choice = page.get_by_test_id("delivery-choice").first
    expect(choice).to_contain_text("2–3 ngày")
    expect(choice.get_by_test_id("way-delivery")).to_be_checked()
    pictures = page.get_by_test_id("cart-picture")
    expect(pictures).to_have_count(2)
    assert all(pictures.nth(i).evaluate("img => img.complete && img.naturalWidth > 0") for i in range(2))
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path="/tmp/marketplace_cart_360.png", full_page=True)
    assert_accessible(page)
    choice.get_by_label(re.compile("Nhận tại chỗ")).check()
    choice.get_by_test_id("save-way").click()
    expect(page.get_by_test_id("cart-subtotal")).to_have_text(["250.000 ₫", "450.000 ₫"])  # pick-up: no fee
    expect(page.get_by_test_id("delivery-choice").first.get_by_test_id("way-pickup")).to_be_checked()
    expect(page.get_by_test_id("cart-total")).to_have_text("700.000 ₫")
    page.get_by_test_id("cart-remove").first.click()
    expect(page.get_by_test_id("cart-line")).to_have_count(1)
    expect(page.get_by_test_id("cart-total")).to_have_text("450.000 ₫")
    assert page.js_errors == []
