"""The Stripe-compatible JSON API under /v1 (payment intents, refunds, events, webhook endpoints).

This module holds the blueprint and its request hooks: authentication by secret key (which also makes the key's
commune the active tenant, for this request only), request ids, JSON errors for every /v1 URL. Shared helpers are
in ``base``, Idempotency-Key handling in ``idempotency``, the routes in ``intents``, ``refunds`` and ``webhook_endpoints``;
``delivery`` sends the outgoing webhooks.
"""

from __future__ import annotations

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


def _authenticated_key():
    """The live key the request presents, if it authenticates; looked up once per request (the limits ask first)."""
    if "api_key_found" not in g:
        g.api_key_found = authenticate_api_key(_presented_key())
    return g.api_key_found


def _rate_bucket() -> str:
    """A key's own bucket only once the key authenticates; every request without a working key shares its
    address's bucket (before, any made-up key got a fresh bucket: a new key per request was never limited)."""
    from flask_limiter.util import get_remote_address

    key = _authenticated_key()
    return f"api-key:{key.id}" if key is not None else "api-unauthenticated:" + get_remote_address()


def _failure_bucket() -> str:
    from flask_limiter.util import get_remote_address

    return "api-auth-failures:" + get_remote_address()


# Attached once, where the blueprint is made: the limiter keeps blueprint limits by name for the process, so a limit
# attached in create_app was added again by every app the process built, and each copy counted the same request.
# The budget is read from the app serving the request.
limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=_rate_bucket)(bp)
# Failed authentications are counted per address (issue 16, item 15): past API_AUTH_FAILURE_LIMIT the address gets
# 429 for anything but a working key, so guessing keys from one address stops there.
limiter.limit(lambda: current_app.config["API_AUTH_FAILURE_LIMIT"], key_func=_failure_bucket,
              deduct_when=lambda response: response.status_code == 401,
              exempt_when=lambda: _authenticated_key() is not None)(bp)

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
    key = _authenticated_key()
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
