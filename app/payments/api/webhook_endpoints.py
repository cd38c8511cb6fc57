"""/v1/events (list, retrieve) and /v1/webhook_endpoints (create, list, retrieve, update, delete)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.payments.api import bp
from app.payments.webhooks import endpoints, outbound
from app.payments.webhooks.endpoints import MAX_ENDPOINTS_PER_ACCOUNT, MAX_URL_LENGTH
from app.payments.api.base import (
    ApiError,
    bool_param,
    current_account,
    get_owned,
    list_body,
    list_param,
    metadata_param,
    paginate,
    read_params,
    require,
    str_param,
    timestamp,
)
from app.payments.api.idempotency import idempotent
from app.payments.events import EVENT_TYPES, serialize_event
from app.payments.intents import check_metadata
from app.payments.models import Event, WebhookDelivery, WebhookEndpoint

EVENTS_URL = "/v1/events"
ENDPOINTS_URL = "/v1/webhook_endpoints"

ENDPOINT_PARAMS = frozenset({"url", "enabled_events", "description", "metadata", "api_version"})


# ------------------------------------------------------------------------------------------------------- events


def _type_filters(params: dict) -> list:
    """``type`` (exact, or a prefix with ``*``: ``payment_intent.*``) or ``types[]`` (up to 20 exact types)."""
    single = str_param(params, "type")
    several = list_param(params, "types")
    if single is not None and several is not None:
        raise ApiError("You may only specify one of these parameters: type, types.", param="types",
                       code="parameters_exclusive")
    if single:
        if single == "*":
            return []
        if single.endswith("*"):
            return [Event.type.startswith(single[:-1], autoescape=True)]
        return [Event.type == single]
    if several:
        if len(several) > 20:
            raise ApiError("types holds at most 20 event types.", param="types")
        return [Event.type.in_(several)]
    return []


def _pending_counts(events: list[Event]) -> dict[int, int]:
    """Deliveries still pending per event: one grouped query for the whole page."""
    if not events:
        return {}
    rows = db.session.execute(
        select(WebhookDelivery.event_id, func.count())
        .where(WebhookDelivery.event_id.in_([event.id for event in events]), WebhookDelivery.status == "pending")
        .group_by(WebhookDelivery.event_id)
    )
    return {event_id: count for event_id, count in rows}


@bp.get("/events")
def list_events():
    params = read_params(frozenset({"limit", "starting_after", "ending_before", "type", "types"}))
    filters = _type_filters(params)
    events, has_more = paginate(Event, params, noun="event", url=EVENTS_URL, filters=filters)
    pending = _pending_counts(events)
    return list_body([serialize_event(event, pending.get(event.id, 0)) for event in events], has_more, EVENTS_URL)


@bp.get("/events/<public_id>")
def retrieve_event(public_id: str):
    read_params(frozenset())
    event = get_owned(Event, public_id, "event")
    return serialize_event(event, _pending_counts([event]).get(event.id, 0))


# -------------------------------------------------------------------------------------------- webhook endpoints


def serialize_endpoint(endpoint: WebhookEndpoint, *, with_secret: bool = False) -> dict:
    body = {
        "id": endpoint.public_id,
        "object": "webhook_endpoint",
        "api_version": None,
        "application": None,
        "created": timestamp(endpoint.created_at),
        "description": endpoint.description,
        "enabled_events": list(endpoint.enabled_events or ["*"]),
        "livemode": False,
        "metadata": dict(endpoint.metadata_ or {}),
        "status": endpoint.status,
        "url": endpoint.url,
    }
    if with_secret:  # shown once, at creation, as Stripe does
        body["secret"] = endpoint.secret
    return body


def _url(params: dict) -> str | None:
    url = str_param(params, "url")
    if url is None:
        return None
    url = url.strip()
    parts = urlsplit(url)
    if (len(url) > MAX_URL_LENGTH or parts.scheme not in ("http", "https") or not parts.hostname
            or any(ch.isspace() for ch in url)):
        raise ApiError(f"Invalid URL: {url[:200]}. Webhook endpoints need an absolute http or https URL.",
                       param="url", code="url_invalid")
    try:  # no loopback, private, link-local or metadata address (checked again, with DNS, at every send)
        outbound.check_destination(url, bool(current_app.config.get("ALLOW_LOOPBACK_WEBHOOKS")), unresolved_ok=True)
    except outbound.UnsafeDestination as err:
        raise ApiError(f"Invalid URL: {url[:200]}. Webhook endpoints must be reachable on the public internet "
                       f"({err.message}).", param="url", code="url_invalid") from None
    return url


def _enabled_events(params: dict) -> list[str] | None:
    events = list_param(params, "enabled_events")
    if events is None:
        return None
    if not events:
        raise ApiError("enabled_events needs at least one event type, or \"*\" for all.", param="enabled_events",
                       code="parameter_missing")
    for index, name in enumerate(events):
        if name != "*" and name not in EVENT_TYPES:
            raise ApiError(f"Invalid enabled_events[{index}]: {name[:100]!r} is not an event type we send "
                           f"(one of *, {', '.join(EVENT_TYPES)}).", param=f"enabled_events[{index}]",
                           code="parameter_invalid")
    return ["*"] if "*" in events else list(dict.fromkeys(events))


def _metadata(params: dict, existing: dict | None = None) -> dict | None:
    changes = metadata_param(params, existing=existing)
    if changes is None:
        return None
    merged = dict(existing or {})
    for key, value in changes.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return check_metadata(merged)


def _endpoint(public_id: str, *, for_update: bool = False) -> WebhookEndpoint:
    return get_owned(WebhookEndpoint, public_id, "webhook_endpoint", for_update=for_update, param="webhook_endpoint")


@bp.post("/webhook_endpoints")
@idempotent
def create_webhook_endpoint():
    params = read_params(ENDPOINT_PARAMS)
    require(params, "url")
    url = _url(params)
    require(params, "enabled_events")
    events = _enabled_events(params)
    description = str_param(params, "description", max_length=500)
    metadata = _metadata(params) or {}
    str_param(params, "api_version")  # accepted: events are always sent in our one version
    account = current_account()
    if endpoints.endpoint_count(account.id) >= MAX_ENDPOINTS_PER_ACCOUNT:
        raise ApiError(f"You have reached the maximum of {MAX_ENDPOINTS_PER_ACCOUNT} webhook endpoints.",
                       param="url", code="webhook_endpoints_limit")
    endpoint = endpoints.add_endpoint(account, url=url, events=events, description=description, metadata=metadata)
    return serialize_endpoint(endpoint, with_secret=True)


@bp.get("/webhook_endpoints")
def list_webhook_endpoints():
    params = read_params(frozenset({"limit", "starting_after", "ending_before"}))
    endpoints, has_more = paginate(WebhookEndpoint, params, noun="webhook_endpoint", url=ENDPOINTS_URL)
    return list_body([serialize_endpoint(endpoint) for endpoint in endpoints], has_more, ENDPOINTS_URL)


@bp.get("/webhook_endpoints/<public_id>")
def retrieve_webhook_endpoint(public_id: str):
    read_params(frozenset())
    return serialize_endpoint(_endpoint(public_id))


@bp.post("/webhook_endpoints/<public_id>")
@idempotent
def update_webhook_endpoint(public_id: str):
    params = read_params(ENDPOINT_PARAMS - {"api_version"} | {"disabled"})
    url = _url(params)
    events = _enabled_events(params)
    description = str_param(params, "description", max_length=500)
    disabled = bool_param(params, "disabled")
    endpoint = _endpoint(public_id, for_update=True)
    metadata = _metadata(params, existing=endpoint.metadata_)
    endpoints.change_endpoint(endpoint, url=url, events=events, description=description, metadata=metadata,
                              disabled=disabled)
    return serialize_endpoint(endpoint)


@bp.delete("/webhook_endpoints/<public_id>")
def delete_webhook_endpoint(public_id: str):
    read_params(frozenset())
    endpoint = _endpoint(public_id, for_update=True)
    deleted_id = endpoint.public_id
    endpoints.delete_endpoint(endpoint)
    return {"id": deleted_id, "object": "webhook_endpoint", "deleted": True}
