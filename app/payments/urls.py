"""Absolute links that leave the request (QR image and hosted page URLs inside API objects and webhooks): the core's
one builder (app/links.py), on ``PUBLIC_BASE_URL``."""

from app.links import external_url as public_url
from app.links import public_base_url

__all__ = ["public_base_url", "public_url"]
