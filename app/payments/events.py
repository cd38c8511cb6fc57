"""Outgoing events: stored with the intent's change in the same transaction, then delivered by the worker."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from app.extensions import db
from app.payments.models import Event, PaymentIntent, WebhookDelivery, WebhookEndpoint
from app.payments.reactions import notify
from app.payments.stripe_wire import new_id

EVENT_TYPES = (
    "payment_intent.created",
    "payment_intent.requires_action",
    "payment_intent.succeeded",
    "payment_intent.canceled",
    "payment_intent.partially_funded",  # a short transfer arrived: flagged, not paid
    "payment_intent.overpaid",  # paid, and more arrived than asked: flagged for a refund of the difference
    "payment_intent.late_payment",  # money arrived for a canceled or expired intent: waits for a person
    "refund.created",  # a refund of the intent (data.object is the refund)
    "refund.updated",  # its status changed (succeeded, failed, canceled) or its metadata
)


def emit(intent: PaymentIntent, type_: str, *, data_object: dict | None = None, request_id: str | None = None,
         idempotency_key: str | None = None) -> Event:
    """Store the event of ``intent`` (``data_object``: what it is about when not the intent itself, a refund) and
    tell the domain that owns the intent's purpose (reactions.py: refunds are heard as ``refund.*`` event types)."""
    return emit_each(intent, (type_,), data_object=data_object, request_id=request_id,
                     idempotency_key=idempotency_key)[0]


def emit_each(intent: PaymentIntent, types: tuple[str, ...], *, data_object: dict | None = None,
              request_id: str | None = None, idempotency_key: str | None = None) -> list[Event]:
    """Several events of one change, in order, with one read of the account's webhook endpoints and one INSERT:
    each carries the intent as it is when they are emitted, and the domain hears them in order once stored."""
    from app.payments.intents import serialize

    unknown = [type_ for type_ in types if type_ not in EVENT_TYPES]
    if unknown:
        raise ValueError(f"unknown event type {unknown[0]}")
    endpoints = db.session.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.account_id == intent.account_id,
            WebhookEndpoint.tenant_id == intent.tenant_id,
            WebhookEndpoint.status == "enabled",
        )
    ).all()
    if data_object is None:
        data_object = serialize(intent)
    events = [_event(intent, type_, data_object, request_id, idempotency_key) for type_ in types]
    db.session.add_all(events)
    db.session.flush()  # one INSERT for all of them (issue #17): their ids, in order, for the deliveries
    for event in events:
        for endpoint in endpoints:
            wanted = endpoint.enabled_events or ["*"]
            if "*" in wanted or event.type in wanted:
                db.session.add(WebhookDelivery(tenant_id=intent.tenant_id, event_id=event.id, endpoint_id=endpoint.id,
                                               status="pending", next_attempt_at=event.created_at))
    for event in events:
        notify(intent, event.type)
    return events


def _event(intent, type_, data_object, request_id, idempotency_key) -> Event:
    return Event(
        tenant_id=intent.tenant_id,
        public_id=new_id("evt"),
        account_id=intent.account_id,
        type=type_,
        intent_id=intent.id,
        data={"object": data_object},
        request_id=request_id,
        idempotency_key=idempotency_key,
        created_at=datetime.now(timezone.utc),
    )


def serialize_event(event: Event, pending_webhooks: int = 0) -> dict:
    from app.payments.intents import timestamp

    return {
        "id": event.public_id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": timestamp(event.created_at),
        "data": event.data,
        "livemode": False,
        "pending_webhooks": pending_webhooks,
        "request": {"id": event.request_id, "idempotency_key": event.idempotency_key},
        "type": event.type,
    }
