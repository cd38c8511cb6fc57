"""Product images: the core image pipeline (app/images.py) under the marketplace's own storage keys
(``marketplace/<tenant id>/<product id>/<hash>-<size>.jpg``). Served only by marketplace views that check the
product."""

from __future__ import annotations

from app import images
from app.images import MAX_BYTES, MAX_IMAGES, SIZES, initials, placeholder, prepare  # noqa: F401

AREA = "marketplace"


def key(tenant_id: int, product_id: int, name: str, size: str) -> str:
    return images.key(AREA, tenant_id, product_id, name, size)


def store(tenant_id: int, product_id: int, name: str, full: bytes, thumb: bytes) -> None:
    images.store(AREA, tenant_id, product_id, name, full, thumb)


def remove(tenant_id: int, product_id: int, name: str) -> None:
    images.remove(AREA, tenant_id, product_id, name)
