"""The webhook endpoints an integrator registers: where each commune's events are sent, which ones, and the limits.

The /v1/webhook_endpoints routes (app/payments/api/webhook_endpoints.py) read the wire format and call these;
``delivery`` sends the events. Functions flush; the request commits (app/transactions.py).
"""

from __future__ import annotations

from sqlalchemy import func, select

from app.clock import utcnow
from app.extensions import db
from app.payments.models import WebhookEndpoint
from app.payments.stripe_wire import new_id

MAX_ENDPOINTS_PER_ACCOUNT = 16  # Stripe's limit too
MAX_URL_LENGTH = 2000


def endpoint_count(account_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(WebhookEndpoint).where(WebhookEndpoint.account_id == account_id))


def add_endpoint(account, *, url: str, events: list[str], description: str | None,
                 metadata: dict) -> WebhookEndpoint:
    """A new endpoint of ``account``, enabled, with a fresh signing secret (shown once, by the caller)."""
    endpoint = WebhookEndpoint(
        tenant_id=account.tenant_id, account_id=account.id, public_id=new_id("we"), url=url,
        secret=new_id("whsec", 32), enabled_events=events, description=description or None, status="enabled",
        metadata_=metadata, created_at=utcnow(),
    )
    db.session.add(endpoint)
    db.session.flush()
    return endpoint


def change_endpoint(endpoint: WebhookEndpoint, *, url: str | None = None, events: list[str] | None = None,
                    description: str | None = None, metadata: dict | None = None,
                    disabled: bool | None = None) -> WebhookEndpoint:
    """Change what is given (None: unchanged; an empty description clears it)."""
    if url is not None:
        endpoint.url = url
    if events is not None:
        endpoint.enabled_events = events
    if description is not None:
        endpoint.description = description or None
    if metadata is not None:
        endpoint.metadata_ = metadata
    if disabled is not None:
        endpoint.status = "disabled" if disabled else "enabled"
    db.session.flush()
    return endpoint


def delete_endpoint(endpoint: WebhookEndpoint) -> None:
    db.session.delete(endpoint)  # its pending deliveries go with it (ON DELETE CASCADE)
    db.session.flush()
