"""One way to one's own pages per person (#19): staff see "My desk", a vendor or producer "My shop", never both
nor a second "desk" inside the shop."""

from __future__ import annotations

from tests.conftest import login
from tests.marketplace.helpers import make_vendor, make_vendor_user


def own_links(html: str) -> list[str]:
    return [name for name in ("my-desk", "my-shop") if f'data-testid="{name}"' in html]


def test_staff_have_one_desk_and_a_producer_one_shop(app, client, make):
    commune = make.tenant("bat-trang", "Bát Tràng")
    make.user("officer@bt.vn", "officer", commune)
    make_vendor_user(app, commune, make_vendor(app, commune, "Gốm Minh Long"), "gom@bt.vn")
    login(client, "officer@bt.vn")
    assert own_links(client.get("/c/bat-trang/desk").get_data(as_text=True)) == ["my-desk"]
    producer = app.test_client()
    login(producer, "gom@bt.vn")
    shop = producer.get("/c/bat-trang/marketplace/").get_data(as_text=True)
    assert own_links(shop) == ["my-shop"]
    assert "Bàn làm việc" not in shop and "Cửa hàng của tôi" in shop
