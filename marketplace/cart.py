"""The cart lives in the signed session cookie: ``{"<product id>": quantity}``, no account needed."""

from __future__ import annotations

from flask import session

from marketplace.models import MAX_ID

MAX_LINES = 50
MAX_QUANTITY = 99


def lines() -> list[tuple[int, int]]:
    raw = session.get("cart") or {}
    out = []
    if isinstance(raw, dict):
        for key, quantity in raw.items():
            if (str(key).isdecimal() and len(str(key)) <= 10 and 0 < int(key) <= MAX_ID
                    and isinstance(quantity, int) and 0 < quantity <= MAX_QUANTITY):
                out.append((int(key), quantity))
    return out


def count() -> int:
    return sum(q for _, q in lines()) if "cart" in session else 0


def set_quantity(product_id: int, quantity: int) -> None:
    cart = dict(lines())
    if quantity <= 0:
        cart.pop(product_id, None)
    else:
        cart[product_id] = min(quantity, MAX_QUANTITY)
    if len(cart) > MAX_LINES:
        return
    session["cart"] = {str(k): v for k, v in cart.items()}


def add(product_id: int, quantity: int) -> None:
    current = dict(lines()).get(product_id, 0)
    set_quantity(product_id, current + quantity)


def choices() -> dict[tuple[int, int], str]:
    """The shopper's delivery or pick-up per producer: ``{"<tenant id>-<vendor id>": "delivery" | "pickup"}`` in the
    session (what it says is checked against the producer's offer at checkout, never trusted)."""
    raw = session.get("cart_ways") or {}
    out = {}
    if isinstance(raw, dict):
        for key, way in raw.items():
            tenant, _, vendor = str(key).partition("-")
            if (tenant.isdecimal() and vendor.isdecimal() and len(tenant) <= 10 and len(vendor) <= 10
                    and 0 < int(tenant) <= MAX_ID and 0 < int(vendor) <= MAX_ID and isinstance(way, str)):
                out[(int(tenant), int(vendor))] = way
    return out


def choose(tenant_id: int, vendor_id: int, way: str) -> None:
    ways = {f"{t}-{v}": w for (t, v), w in choices().items()}
    ways[f"{tenant_id}-{vendor_id}"] = way
    if len(ways) <= MAX_LINES:
        session["cart_ways"] = ways


def clear() -> None:
    session.pop("cart", None)
    session.pop("cart_ways", None)


def remember_order(code: str) -> None:
    codes = [c for c in session.get("orders", []) if isinstance(c, str) and c != code][-19:]
    session["orders"] = codes + [code]


def may_see_order(code: str) -> bool:
    return code in (session.get("orders") or [])
