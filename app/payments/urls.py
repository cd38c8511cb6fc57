"""Absolute links that leave the request (QR image and hosted page URLs inside API objects and webhooks)."""

from flask import current_app, has_request_context, request


def public_base_url() -> str:
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base and has_request_context():
        base = request.host_url
    return (base or "http://127.0.0.1:5000").rstrip("/")


def public_url(endpoint: str, **values) -> str:
    """Like url_for(_external=True), but also outside a request (worker, CLI): PUBLIC_BASE_URL decides the host."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return public_base_url() + path
