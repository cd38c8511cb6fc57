"""Prices as Vietnamese write them."""

from __future__ import annotations

import pytest

from app.errors import ValidationError
from marketplace.services import parse_price


@pytest.mark.parametrize("written,price", [
    ("125000", 125_000), ("125.000", 125_000), ("125.000 ₫", 125_000), ("125.000₫", 125_000),
    ("125.000đ", 125_000), ("125.000 đồng", 125_000), ("125,000 VND", 125_000), ("1.250.000", 1_250_000),
    (" 90.000\u00a0₫ ", 90_000), ("5", 5), ("125 000 ₫", 125_000),
])
def test_prices_written_the_vietnamese_way(app, written, price):
    with app.app_context():
        assert parse_price(written) == price


@pytest.mark.parametrize("written", ["12.5", "1.25.000", "125.00", "-5", "0", "", "mười nghìn", "1e6", "12 5",
                                     "125.000 $", "99999999999999"])
def test_other_prices_are_refused(app, written):
    with app.app_context():
        with pytest.raises(ValidationError) as err:
            parse_price(written)
        assert err.value.field == "price"
