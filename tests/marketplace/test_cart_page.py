"""#19, the cart shoppers expect: a picture per line, a subtotal per producer, a button that removes a line."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.usefixtures("bank_secrets")


def test_the_cart_shows_pictures_subtotals_per_producer_and_removes_a_line(client, shop):
    p = shop["products"]
    for product_id, quantity in ((p["binh"], 2), (p["am"], 1), (p["vang"], 1)):
        client.post("/marketplace/cart/add", data={"product_id": product_id, "quantity": str(quantity)})
    page = client.get("/marketplace/cart").get_data(as_text=True)
    assert page.count('data-testid="cart-picture"') == 3
    subtotals = re.findall(r'data-testid="cart-subtotal">([^<]+)<', page)
    assert subtotals == ["500.000 ₫", "450.000 ₫", "1.200.000 ₫"]  # one per producer
    assert re.search(r'data-testid="cart-total">2\.150\.000 ₫', page)
    assert page.count('data-testid="cart-remove"') == 3
    client.post("/marketplace/cart/update", data={"product_id": p["am"], "quantity": "0"})  # the remove button
    page = client.get("/marketplace/cart").get_data(as_text=True)
    assert "Ấm chén" not in page and page.count('data-testid="cart-line"') == 2
    assert re.search(r'data-testid="cart-total">1\.700\.000 ₫', page)
