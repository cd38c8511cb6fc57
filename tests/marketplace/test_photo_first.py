"""#19: a product gets its photo before it is published: a new listing is a draft, publishing without a photo is
refused with a clear message (the publish action, the edit form, the CSV import), and a product on sale keeps one."""

from __future__ import annotations

import io

import pytest

from tests.conftest import login
from tests.marketplace.helpers import make_product, product_state
from tests.marketplace.test_views_vendor import _jpeg, _post, _product_images, vendors  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("bank_secrets")

FORM = {"name": "Lọ hoa gốm men rạn", "category": "thu-cong-my-nghe", "price": "125.000", "unit": "cái",
        "stock": "7"}


def test_a_new_product_asked_to_be_published_is_saved_as_a_draft_until_it_has_a_photo(app, client, vendors):
    login(client, "gom@bt.vn")
    response = _post(client, "/c/bat-trang/marketplace/products/new", {**FORM, "publish": "y"})
    assert response.status_code == 302
    product_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert product_state(app, product_id)["status"] == "draft"
    edit = _post(client, f"/c/bat-trang/marketplace/products/{product_id}", {**FORM, "publish": "y"})
    assert edit.status_code == 400 and "photo" in edit.get_data(as_text=True).lower() or "ảnh" in edit.get_data(
        as_text=True)
    assert product_state(app, product_id)["status"] == "draft"
    refused = _post(client, f"/c/bat-trang/marketplace/products/{product_id}/publish")
    assert refused.status_code == 302 and product_state(app, product_id)["status"] == "draft"
    _post(client, f"/c/bat-trang/marketplace/products/{product_id}/images",
          {"image": (io.BytesIO(_jpeg()), "lo.jpg")}, content_type="multipart/form-data")
    assert _post(client, f"/c/bat-trang/marketplace/products/{product_id}", {**FORM, "publish": "y"}).status_code == 302
    assert product_state(app, product_id)["status"] == "published"
    # its last photo stays while it is on sale
    [name] = _product_images(app, product_id)
    _post(client, f"/c/bat-trang/marketplace/products/{product_id}/images/{name}/delete")
    assert _product_images(app, product_id) == [name]


def test_a_product_without_a_photo_cannot_be_published_by_the_service(app, shop):
    from app.errors import ValidationError
    from marketplace import services
    from tenants.scoping import tenant_context

    bat_trang = shop["tenants"]["bat_trang"]
    product_id = make_product(app, bat_trang, shop["vendors"]["gom"], "Đĩa chưa có ảnh", publish=False, photo=False)
    with app.app_context(), tenant_context(bat_trang):
        with pytest.raises(ValidationError):
            services.set_published(shop["vendors"]["gom"], product_id, True)
    assert product_state(app, product_id)["status"] == "draft"
