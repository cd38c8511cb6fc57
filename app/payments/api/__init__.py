"""The Stripe-compatible JSON API under /v1 (payment intents, refunds, events, webhook endpoints).

This module holds the blueprint and its request hooks: authentication by secret key (which also makes the key's
commune the active tenant, for this request only), request ids, JSON errors for every /v1 URL. Shared helpers are
in ``base``, Idempotency-Key handling in ``idempotency``, the routes in ``intents``, ``refunds`` and ``webhook_endpoints``;
``delivery`` sends the outgoing webhooks.
"""

from __future__ import annotations

import hashlib
import re

from flask import Blueprint, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from app import errors
from app.extensions import limit_reads, limiter
from app.payments.accounts import authenticate_api_key
from app.payments.api.base import ApiError, error_response
from app.payments.stripe_wire import new_id
from app.transactions import RetriesExhausted
from tenants.scoping import activate_tenant, deactivate_tenant

bp = limit_reads(Blueprint("api_v1", __name__, url_prefix="/v1"))  # reads are limited per API key too


def _rate_bucket() -> str:
    """The API is limited per secret key (a digest of the presented credentials), else per client address."""
    from flask_limiter.util import get_remote_address

    credentials = request.headers.get("Authorization")
    if credentials:
        return "api:" + hashlib.sha256(credentials.encode("utf-8", "replace")).hexdigest()[:32]
    return "api-anonymous:" + get_remote_address()


# Attached once, where the blueprint is made: the limiter keeps blueprint limits by name for the process, so a limit
# attached in create_app was added again by every app the process built, and each copy counted the same request.
# The budget is read from the app serving the request.
limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=_rate_bucket)(bp)

API_VERSION = "2024-06-20"
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
_MASKED_PREFIX = re.compile(r"(?:sk|rk|pk)_(?:test|live)_")

MISSING_KEY = ("You did not provide an API key. You need to provide your API key in the Authorization header, "
               "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').")


# Blueprint handlers must name every class the application handles too: Flask picks the most specific class first,
# whichever level registered it, so an app-level handler for NotFound would otherwise answer /v1 with HTML.
for _exception in (Exception, HTTPException, errors.DomainError, errors.NotFound, RetriesExhausted, 400, 403, 404, 405,
                   413, 429, 500):
    bp.register_error_handler(_exception, error_response)


# ------------------------------------------------------------------------------------------------ request hooks


@bp.before_request
def _start_request():
    g.request_id = new_id("req", 14)


def _presented_key() -> str | None:
    """Bearer auth, or HTTP basic with the key as the user name (``curl -u sk_test_...:``)."""
    auth = request.authorization
    if auth is None:
        return None
    if auth.type == "basic":
        return auth.username or None
    return auth.token or None


def _mask(secret: str) -> str:
    head = _MASKED_PREFIX.match(secret)
    prefix = head.group(0) if head else ""
    tail = secret[-4:] if len(secret) >= len(prefix) + 8 else ""
    tail = "".join(ch for ch in tail if ch.isascii() and ch.isalnum())
    return f"{prefix}****{tail}"


@bp.before_request
def _authenticate():
    secret = _presented_key()
    headers = {"WWW-Authenticate": 'Bearer realm="api"'}
    if secret is None:
        raise ApiError(MISSING_KEY, status=401, headers=headers)
    key = authenticate_api_key(secret)
    if key is None:
        raise ApiError(f"Invalid API Key provided: {_mask(secret)}", status=401, code="api_key_invalid",
                       headers=headers)
    g.api_key = key
    g.api_account = key.account
    g.api_tenant_token = activate_tenant(key.tenant_id)


@bp.after_request
def _finish_response(response: Response) -> Response:
    response.headers["Request-Id"] = g.get("request_id") or new_id("req", 14)
    response.headers["Stripe-Version"] = API_VERSION
    response.headers["Cache-Control"] = "no-cache, no-store"
    return response


@bp.teardown_request
def _release_tenant(exc):
    token = g.pop("api_tenant_token", None)
    if token is not None:
        deactivate_tenant(token)


@bp.route("/", defaults={"path": ""}, methods=ALL_METHODS)
@bp.route("/<path:path>", methods=ALL_METHODS)
def unrecognized(path: str):
    """Every other /v1 URL: a JSON 404, or 405 when the path exists with other methods."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in ("GET", "POST", "DELETE"):
        try:
            endpoint, _values = adapter.match(method=method)
        except HTTPException:
            continue
        if endpoint != "api_v1.unrecognized":
            allowed.append(method)
    if allowed:
        raise ApiError(f"Unrecognized request URL ({request.method}: {request.path}).", status=405,
                       headers={"Allow": ", ".join(allowed)})
    raise ApiError(f"Unrecognized request URL ({request.method}: {request.path}).", status=404)


# The routes register themselves on ``bp`` when imported.
from app.payments.api import intents, refunds, webhook_endpoints  # noqa: E402,F401
