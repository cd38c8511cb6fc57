"""A cross-site POST to the token-less cart never changes anyone's session (#16 item 5): refused by Sec-Fetch-Site or
Origin before the session is read or written, with no Set-Cookie."""

from __future__ import annotations

import pytest

from tests.conftest import login
from tests.marketplace.helpers import check_out_page

pytestmark = pytest.mark.usefixtures("bank_secrets")

CROSS_SITE = {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}


def _signed_in(client) -> bool:
    response = client.get("/home")
    return response.status_code == 302 and not response.headers["Location"].startswith("/login")


@pytest.fixture
def officer(app, make, shop):
    make.user("canbo@battrang.vn", "commune_admin", shop["tenants"]["bat_trang"])
    client = app.test_client()
    assert login(client, "canbo@battrang.vn").status_code == 302
    return client


def test_a_cross_site_cart_post_sets_no_cookie_and_the_signed_in_session_survives(app, officer, shop):
    p = shop["products"]
    officer.post("/marketplace/cart/add", data={"product_id": p["binh"], "quantity": "1"},
                 headers={"Sec-Fetch-Site": "same-origin"})
    code = check_out_page(officer)  # an order the session remembers
    officer.post("/marketplace/cart/add", data={"product_id": p["am"], "quantity": "1"})

    # What the browser sends for the attacker's form: a SameSite=Lax cookie stays home, so no cookie at all.
    victim_browser = app.test_client()
    attack = victim_browser.post("/marketplace/cart/add", data={"product_id": p["vang"], "quantity": "1"},
                                 headers=CROSS_SITE)
    assert attack.status_code == 403
    assert "Set-Cookie" not in attack.headers  # nothing to replace the victim's cookie with
    # An older browser that sends the cookie anyway: refused too, the session's content unchanged.
    for path in ("/marketplace/cart/add", "/marketplace/cart/update"):
        answer = officer.post(path, data={"product_id": p["vang"], "quantity": "1"}, headers=CROSS_SITE)
        assert answer.status_code == 403
    assert _signed_in(officer)
    assert officer.get(f"/marketplace/orders/{code}").status_code == 200  # still remembered
    cart = officer.get("/marketplace/cart").get_data(as_text=True)
    assert "Ấm chén" in cart and "Tranh vàng" not in cart


@pytest.mark.parametrize("headers, allowed", [
    ({"Sec-Fetch-Site": "same-origin"}, True),
    ({"Sec-Fetch-Site": "none"}, True),
    ({"Sec-Fetch-Site": "same-site", "Origin": "http://shop.localhost"}, False),
    ({"Origin": "http://localhost"}, True),
    ({"Origin": "https://evil.example"}, False),
    ({"Origin": "null"}, False),
    ({}, True),  # a script without a browser: no victim's cookie to replace
])
def test_the_cart_is_served_to_this_site_only(client, shop, headers, allowed):
    answer = client.post("/marketplace/cart/add", data={"product_id": shop["products"]["binh"], "quantity": "1"},
                         headers=headers)
    assert (answer.status_code == 302) is allowed
    assert (answer.status_code == 403) is (not allowed)
