"""Links that leave the site (printed QR codes, invitations sent by hand, links inside API objects and webhooks,
``og:url`` for shared pages): always built from ``PUBLIC_BASE_URL``, never from the request's Host, which any
client may set to another of the trusted hosts (issue 16, item 4). Without ``PUBLIC_BASE_URL`` (development, tests;
production refuses to start without it) the request's host is used, else the development address."""

from __future__ import annotations

from flask import current_app, has_request_context, request, url_for


def public_base_url() -> str:
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base and has_request_context():
        base = request.host_url
    return (base or "http://127.0.0.1:5000").rstrip("/")


def external_url(endpoint: str, **values) -> str:
    """Like ``url_for(_external=True)`` (the commune's slug filled in during a request), but on the public host;
    also outside a request (worker, CLI)."""
    if has_request_context():
        path = url_for(endpoint, **values)
        root = request.script_root
        if root and path.startswith(root):
            path = path[len(root):]
    else:
        path = current_app.url_map.bind("localhost").build(endpoint, values)
    return public_base_url() + path
