"""Outgoing webhook delivery: what the worker (app/payments/jobs.py, ``flask payments worker``) sends each round.

``emit`` (events.py) stores a ``WebhookDelivery`` row per enabled endpoint in the same transaction as the change;
``deliver_due`` sends the due ones. Each delivery is a POST of the Stripe-shaped event JSON, signed the Stripe way
(``Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "t." + exact body bytes)>``) so a receiver can verify it
with ``stripe.Webhook.construct_event``.

How a batch runs, so that two workers never send the same delivery and no network call holds a database lock:

1. claim: in one short transaction, select due rows (``status = 'pending' AND next_attempt_at <= now``), on
   PostgreSQL with ``FOR UPDATE SKIP LOCKED`` so concurrent workers take disjoint rows, and lease them by
   moving their ``next_attempt_at`` past the time the whole batch may take. The lease is one guarded UPDATE for
   the batch (still due?) that returns the ids it took, which also keeps two SQLite workers apart. Commit.
2. send: POST each claimed delivery through ``outbound.post`` (the host is resolved, every address checked, and
   the connection made to a checked address: no loopback, private, link-local or metadata address is ever
   opened; 5 s timeout; redirects not followed: a 3xx is a failure, as with Stripe).
3. record: one short transaction per delivery: 2xx -> ``succeeded``; anything else -> ``attempts + 1``, the status
   code and a short fixed message kept (never the answer's body or the socket error, which would read internal
   services back or map their ports), ``next_attempt_at = now + BACKOFF[attempt]``, and ``failed`` once the schedule is spent
   (about three days, as Stripe). A worker that dies between 1 and 3 leaves a lease that simply runs out.

At-least-once, like Stripe: a crash after a receiver answered and before step 3 commits sends that event again, so
receivers de-duplicate on the event id.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update

from app import transactions
from app.clock import as_utc, utcnow
from app.extensions import db
from app.payments.webhooks import outbound
from app.payments.events import serialize_event
from app.payments.models import WebhookDelivery
from app.payments.stripe_wire import sign_payload
from tenants.scoping import all_tenants

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5
USER_AGENT = "GiaLamPayments/1.0 (+webhooks; Stripe-compatible)"
# Wait after the n-th failed attempt (index n - 1). 9 attempts over ~2 days 21 h; after the last one: failed.
BACKOFF: tuple[timedelta, ...] = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
    timedelta(hours=24),
    timedelta(hours=24),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
# How long claimed deliveries stay invisible to other workers: a base plus one timeout per delivery in the batch.
# The batch stops sending when its lease runs short, so a slow receiver can never make two workers overlap.
LEASE_BASE = timedelta(seconds=60)

# post(url, data=body, headers=..., timeout=...) -> (HTTP status, response text), or a response object with
# ``status_code`` and ``text`` (so a ``requests.Session().post`` fits too); raises on network failure.
Poster = Callable[..., object]



def backoff(attempts: int) -> timedelta | None:
    """The wait before the next try after ``attempts`` failed attempts, or None when it is time to give up."""
    if attempts < 1:
        return timedelta(0)
    return BACKOFF[attempts - 1] if attempts <= len(BACKOFF) else None


# ---------------------------------------------------------------------------------------------------- sending


def guarded_post(url: str, data: bytes, headers: dict[str, str], timeout: float) -> tuple[int, str]:
    """POST through ``outbound.post``: resolve, check every address, connect to a checked one; no redirects."""
    allow = bool(current_app.config.get("ALLOW_LOOPBACK_WEBHOOKS"))
    return outbound.post(url, data, headers, timeout, allow_loopback=allow), ""


def _destination_problem(url: str, custom_poster: bool) -> str | None:
    """The fixed message that stops a send before any connection, or None. The default poster resolves and checks
    again as it connects; a replaced poster (tests, a ``requests`` session) resolves by itself, so only a name that
    does not resolve here is left to it."""
    allow = bool(current_app.config.get("ALLOW_LOOPBACK_WEBHOOKS"))
    try:
        outbound.check_destination(url, allow, unresolved_ok=custom_poster)
    except outbound.UnsafeDestination as err:
        return err.message if err.message in FIXED_MESSAGES else outbound.NOT_ALLOWED
    return None


FIXED_MESSAGES = (outbound.NOT_ALLOWED, outbound.NOT_RESOLVED, outbound.NO_CONNECTION)


# ---------------------------------------------------------------------------------------------------- the batch


@dataclass(frozen=True)
class _Job:
    delivery_id: int
    url: str
    secret: str
    body: bytes


def _lease_for(count: int) -> timedelta:
    return LEASE_BASE + count * timedelta(seconds=TIMEOUT_SECONDS + 1)


def _claim(now: datetime, limit: int) -> tuple[list[_Job], list[int]]:
    """Lease due deliveries (see the module docstring). Returns jobs to send and ids of deliveries to drop."""
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=WebhookDelivery)
    rows = db.session.scalars(query).unique().all()
    if not rows:
        return [], []
    lease_until = now + _lease_for(len(rows))
    pending = dict(db.session.execute(
        select(WebhookDelivery.event_id, func.count())
        .where(WebhookDelivery.event_id.in_({row.event_id for row in rows}), WebhookDelivery.status == "pending")
        .group_by(WebhookDelivery.event_id)
    ).all())
    won = set(db.session.scalars(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_([row.id for row in rows]), WebhookDelivery.status == "pending",
               WebhookDelivery.next_attempt_at <= now)
        .values(next_attempt_at=lease_until)
        .returning(WebhookDelivery.id)
        .execution_options(synchronize_session=False)
    ))
    jobs, dropped = [], []
    for row in rows:
        if row.id not in won:  # another worker leased it between our SELECT and UPDATE (SQLite has no SKIP LOCKED)
            continue
        endpoint = row.endpoint
        if endpoint.status != "enabled":
            dropped.append(row.id)
            continue
        payload = serialize_event(row.event, pending_webhooks=pending.get(row.event_id, 1))
        body = json.dumps(payload, ensure_ascii=False, indent=2).encode("utf-8")
        jobs.append(_Job(row.id, endpoint.url, endpoint.secret, body))
    return jobs, dropped


def _send(job: _Job, post: Poster, custom_poster: bool) -> tuple[int | None, str | None]:
    """(status code, error) of one attempt; error is None on 2xx, else a short fixed message."""
    problem = _destination_problem(job.url, custom_poster)
    if problem:
        return None, problem
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "Stripe-Signature": sign_payload(job.body, job.secret, int(time.time())),
    }
    try:
        answer = post(job.url, data=job.body, headers=headers, timeout=TIMEOUT_SECONDS)
        status = answer[0] if isinstance(answer, tuple) else answer.status_code
    except outbound.UnsafeDestination as err:
        return None, err.message if err.message in FIXED_MESSAGES else outbound.NOT_ALLOWED
    except Exception:  # noqa: BLE001 - any network failure is an attempt that failed; its words are not kept
        return None, outbound.NO_CONNECTION
    if 200 <= status < 300:
        return status, None
    return status, f"HTTP {int(status)}"


def _record(delivery_id: int, status_code: int | None, error: str | None, now: datetime) -> bool:
    delivery = db.session.get(WebhookDelivery, delivery_id, populate_existing=True)
    if delivery is None:  # the endpoint was deleted meanwhile (cascade)
        return False
    delivery.attempts += 1
    delivery.last_status_code = status_code
    if error is None:
        delivery.status = "succeeded"
        delivery.delivered_at = now
        delivery.last_error = None
    else:
        delivery.last_error = error
        wait = backoff(delivery.attempts)
        if wait is None:
            delivery.status = "failed"
        else:
            delivery.next_attempt_at = now + wait
    db.session.flush()
    return error is None


def _drop(delivery_ids: list[int]) -> None:
    """Deliveries to an endpoint disabled after the event: nothing is sent, the row says why."""
    if not delivery_ids:
        return
    db.session.execute(
        update(WebhookDelivery).where(WebhookDelivery.id.in_(delivery_ids))
        .values(status="failed", last_error="endpoint disabled")
        .execution_options(synchronize_session=False)
    )


def _release(delivery_ids: list[int], now: datetime) -> None:
    """Give back leased deliveries that were not sent (the worker is stopping): due again at once."""
    if not delivery_ids:
        return
    db.session.execute(
        update(WebhookDelivery).where(WebhookDelivery.id.in_(delivery_ids), WebhookDelivery.status == "pending")
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )


def deliver_due(now: datetime | None = None, limit: int = 100, session_post: Poster | None = None, *,
                should_stop: Callable[[], bool] | None = None) -> int:
    """Send up to ``limit`` due webhook deliveries of every commune; return how many were attempted.

    ``now`` decides what is due and when retries fall (tests move it forward); signatures always use the wall
    clock, because receivers check their timestamp against theirs. ``session_post`` replaces the HTTP client
    (called as ``post(url, data=, headers=, timeout=)``, like ``requests.Session().post``).
    ``should_stop`` is asked between deliveries (a stopping worker gives back what it has not sent).
    """
    now = as_utc(now) if now else utcnow()
    post = session_post or guarded_post
    attempted = 0
    with all_tenants():
        started = time.monotonic()
        # Each step is a short unit of work of its own (app/transactions.py): no network call holds a lock.
        jobs, dropped = transactions.run(partial(_claim, now, limit))
        transactions.run(partial(_drop, dropped))
        # Stop well before the lease could run out mid-send, so no other worker can take a delivery still in flight.
        budget = (_lease_for(len(jobs)) - timedelta(seconds=2 * TIMEOUT_SECONDS)).total_seconds()
        for index, job in enumerate(jobs):
            if (should_stop and should_stop()) or time.monotonic() - started > budget:
                transactions.run(partial(_release, [j.delivery_id for j in jobs[index:]], now))
                break
            status_code, error = _send(job, post, custom_poster=session_post is not None)
            if error:
                log.info("webhook delivery %s failed: %s", job.delivery_id, error)
            transactions.run(partial(_record, job.delivery_id, status_code, error, now))
            attempted += 1
    return attempted


# ---------------------------------------------------------------------------------------------------- the log


def delivery_log(endpoint_id: int | None = None, limit: int = 50) -> list[dict]:
    """The newest deliveries of the active commune (optionally of one endpoint), newest first, read-only.

    Runs in the caller's tenant scope like every tenant-owned read; event and endpoint come in the same query.
    """
    query = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(max(1, min(int(limit), 500)))
    if endpoint_id is not None:
        query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
    return [
        {
            "id": delivery.id,
            "event": delivery.event.public_id,
            "type": delivery.event.type,
            "endpoint": delivery.endpoint.public_id,
            "url": delivery.endpoint.url,
            "status": delivery.status,
            "attempts": delivery.attempts,
            "last_status_code": delivery.last_status_code,
            "last_error": delivery.last_error,
            "next_attempt_at": as_utc(delivery.next_attempt_at) if delivery.status == "pending" else None,
            "delivered_at": as_utc(delivery.delivered_at) if delivery.delivered_at else None,
            "created_at": as_utc(delivery.created_at) if delivery.created_at else None,
        }
        for delivery in db.session.scalars(query).unique()  # event and endpoint are joined eagerly: one query
    ]
