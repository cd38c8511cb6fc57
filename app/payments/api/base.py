"""What every /v1 endpoint shares, with no blueprint in it (so idempotency can import it freely): Stripe-shaped
errors, reading form parameters with bracket notation, lookups limited to the API key's payment account, and list
pagination.

Visibility has two walls: the tenancy scoping (tenants/scoping.py) limits every query to the key's commune, and
every lookup here adds the key's payment account, so two accounts of one commune never see each other's objects.
"""

from __future__ import annotations

import re

from flask import Response, current_app, g, jsonify, request
from flask_babel import force_locale
from sqlalchemy import select
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed
from werkzeug.exceptions import NotFound as HTTPNotFound

from app import errors
from app.transactions import RetriesExhausted
from app.extensions import db
from app.payments.intents import timestamp  # noqa: F401 - the API's one way to give a time
from app.payments.stripe_wire import WireError, parse_form

DEFAULT_LIST_LIMIT = 10
MAX_LIST_LIMIT = 100
_DIGITS = re.compile(r"-?[0-9]+")


class ApiError(Exception):
    """An error answered in Stripe's envelope: ``{"error": {"type", "message", "param", "code"}}``."""

    def __init__(self, message: str, *, status: int = 400, type_: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None, headers: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type_
        self.param = param
        self.code = code
        self.headers = headers or {}


def error_body(type_: str, message: str, param: str | None = None, code: str | None = None) -> dict:
    error = {"type": type_, "message": message}
    if param is not None:
        error["param"] = param
    if code is not None:
        error["code"] = code
    return {"error": error}


def _from_domain(err: errors.DomainError) -> ApiError:
    with force_locale("en"):  # the API speaks English, like Stripe's
        message = str(err.message)
    if isinstance(err, errors.NotFound):
        return ApiError(message, status=404, code="resource_missing", param=err.field)
    if err.field == "status":
        return ApiError(message, status=err.status, code="payment_intent_unexpected_state")
    return ApiError(message, status=err.status, param=err.field,
                    code="parameter_invalid" if err.field else None)


def _from_http(err: HTTPException) -> ApiError:
    if isinstance(err, MethodNotAllowed):
        return ApiError(f"Unrecognized request URL ({request.method}: {request.path}).", status=405)
    if isinstance(err, HTTPNotFound):
        return ApiError(f"Unrecognized request URL ({request.method}: {request.path}).", status=404)
    status = err.code or 500
    if status == 429:  # Stripe's SDKs raise RateLimitError for this and retry with backoff
        return ApiError("Too many requests hit the API too quickly. Please slow down and retry.", status=429,
                        code="rate_limit")
    if status >= 500:
        return ApiError("An unexpected error occurred while processing your request.", status=status,
                        type_="api_error")
    return ApiError(err.description or "Invalid request.", status=status)


def error_response(exc: BaseException) -> Response:
    """Any exception raised while answering an API request, as a Stripe-shaped JSON response."""
    if isinstance(exc, ApiError):
        err = exc
    elif isinstance(exc, errors.DomainError):
        err = _from_domain(exc)
    elif isinstance(exc, RetriesExhausted):  # deadlocked every time it ran (app/transactions.py): try again later
        current_app.logger.warning("API request %s: %s", g.get("request_id"), exc)
        err = ApiError("The service is busy; please retry the request in a moment.", status=503, type_="api_error",
                       code="lock_timeout", headers={"Retry-After": "1"})
    elif isinstance(exc, HTTPException) and not isinstance(exc, InternalServerError):
        err = _from_http(exc)
    else:
        current_app.logger.exception("API request %s failed", g.get("request_id"), exc_info=exc)
        err = ApiError("An unexpected error occurred while processing your request.", status=500, type_="api_error")
    # Nothing to roll back here: the request's unit of work (app/transactions.py) already has.
    response = jsonify(error_body(err.type, err.message, err.param, err.code))
    response.status_code = err.status
    response.headers.update(err.headers)
    return response


# --------------------------------------------------------------------------------------------------- parameters


def current_account():
    return g.api_account


def request_pairs() -> list[tuple[str, str]]:
    """The request's parameters as (name, value) pairs: the query string, plus the form body of a POST."""
    cached = g.get("api_pairs")
    if cached is not None:
        return cached
    pairs = list(request.args.items(multi=True))
    if request.method == "POST":
        if request.content_length and request.mimetype != "application/x-www-form-urlencoded":
            raise ApiError("Invalid request: the body must be form-encoded (application/x-www-form-urlencoded), "
                           "with bracket notation for hashes and arrays.")
        pairs += list(request.form.items(multi=True))
    g.api_pairs = pairs
    return pairs


def read_params(allowed: set[str] | frozenset[str]) -> dict:
    """Parse bracket notation and refuse names the endpoint does not know, as Stripe does."""
    pairs = request_pairs()
    for name, value in pairs:
        if "\x00" in name or "\x00" in value:  # PostgreSQL text cannot hold NUL: refuse it here, not with a 500
            raise ApiError("Invalid request: parameters cannot contain NUL characters.", param=name.split("[")[0])
    try:
        params = parse_form(pairs)
    except WireError as err:
        raise ApiError(err.message, param=err.param) from None
    for name in params:
        if name not in allowed and name != "expand":
            raise ApiError(f"Received unknown parameter: {name}", param=name, code="parameter_unknown")
    expand = params.pop("expand", None)
    if expand is not None and not isinstance(expand, (str, list)):
        raise ApiError("Invalid array", param="expand")
    return params  # expand is accepted and ignored: every object is returned whole already


def require(params: dict, name: str):
    if name not in params or params[name] == "":
        raise ApiError(f"Missing required param: {name}.", param=name, code="parameter_missing")
    return params[name]


def int_param(params: dict, name: str, *, minimum: int | None = None, maximum: int | None = None,
              too_small: str | None = None, too_large: str | None = None) -> int | None:
    if name not in params:
        return None
    raw = params[name]
    if not isinstance(raw, str) or not _DIGITS.fullmatch(raw.strip()):
        shown = raw if isinstance(raw, str) else "a hash or array"
        raise ApiError(f"Invalid integer: {shown}", param=name, code="parameter_invalid_integer")
    raw = raw.strip()
    value = int(raw) if len(raw) <= 30 else (10**30 if not raw.startswith("-") else -(10**30))
    if minimum is not None and value < minimum:
        raise ApiError(f"This value must be greater than or equal to {minimum}.", param=name,
                       code=too_small or "parameter_invalid_integer")
    if maximum is not None and value > maximum:
        raise ApiError(f"This value must be less than or equal to {maximum}.", param=name,
                       code=too_large or "parameter_invalid_integer")
    return value


def str_param(params: dict, name: str, *, max_length: int | None = None) -> str | None:
    if name not in params:
        return None
    value = params[name]
    if not isinstance(value, str):
        raise ApiError(f"Invalid string: {name} must be text, not a hash or array.", param=name)
    if max_length is not None and len(value) > max_length:
        raise ApiError(f"{name} is too long ({max_length} characters at most).", param=name,
                       code="parameter_invalid_string")
    return value


def bool_param(params: dict, name: str) -> bool | None:
    if name not in params:
        return None
    value = params[name]
    if value not in ("true", "false"):
        raise ApiError(f"Invalid boolean: {value if isinstance(value, str) else 'a hash or array'}", param=name)
    return value == "true"


def list_param(params: dict, name: str) -> list[str] | None:
    if name not in params:
        return None
    value = params[name]
    if isinstance(value, dict):
        raise ApiError(f"Invalid array: {name} must be an array.", param=name)
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, str) for item in items):
        raise ApiError(f"Invalid array: {name} must hold strings.", param=name)
    return items


def metadata_param(params: dict, *, existing: dict | None = None) -> dict | None:
    """``metadata[k]=v`` pairs. Stripe's rules: an empty value unsets a key; ``metadata=`` unsets them all."""
    if "metadata" not in params:
        return None
    value = params["metadata"]
    if value == "":
        return {key: "" for key in (existing or {})}
    if not isinstance(value, dict):
        raise ApiError("Invalid object: metadata must be a hash (metadata[key]=value).", param="metadata")
    return value


# ----------------------------------------------------------------------------------------- lookups and lists


def _plausible_id(public_id: str) -> bool:
    return len(public_id) <= 40 and "\x00" not in public_id


def _owned(model):
    return select(model).where(model.account_id == current_account().id)


def get_owned(model, public_id: str, noun: str, *, for_update: bool = False, param: str = "id"):
    """One object of the key's account, or 404 ``No such <noun>: '<id>'``."""
    obj = None
    if _plausible_id(public_id):
        query = _owned(model).where(model.public_id == public_id)
        if for_update:
            query = query.with_for_update(of=model).execution_options(populate_existing=True)
        obj = db.session.scalar(query)
    if obj is None:
        raise ApiError(f"No such {noun}: '{public_id}'", status=404, code="resource_missing", param=param)
    return obj


def _cursor(model, params: dict, name: str, noun: str) -> int | None:
    public_id = str_param(params, name)
    if not public_id:
        return None
    row_id = None
    if _plausible_id(public_id):
        row_id = db.session.scalar(
            select(model.id).where(model.account_id == current_account().id, model.public_id == public_id)
        )
    if row_id is None:
        raise ApiError(f"No such {noun}: '{public_id}'", status=400, code="resource_missing", param=name)
    return row_id


def paginate(model, params: dict, *, noun: str, url: str, filters=()) -> tuple[list, bool]:
    """Newest first; ``starting_after`` walks to older objects, ``ending_before`` to newer ones. Two queries at
    most (the cursor and the page), whatever the limit."""
    limit = int_param(params, "limit", minimum=1, maximum=MAX_LIST_LIMIT)
    limit = DEFAULT_LIST_LIMIT if limit is None else limit
    if params.get("starting_after") and params.get("ending_before"):
        raise ApiError("You may only specify one of these parameters: starting_after, ending_before.",
                       param="ending_before", code="parameters_exclusive")
    after = _cursor(model, params, "starting_after", noun)
    before = _cursor(model, params, "ending_before", noun)
    query = _owned(model).where(*filters)
    if before is not None:
        query = query.where(model.id > before).order_by(model.id.asc())
    else:
        if after is not None:
            query = query.where(model.id < after)
        query = query.order_by(model.id.desc())
    rows = list(db.session.scalars(query.limit(limit + 1)))
    has_more = len(rows) > limit
    rows = rows[:limit]
    if before is not None:
        rows.reverse()
    return rows, has_more


def list_body(data: list, has_more: bool, url: str) -> dict:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}
