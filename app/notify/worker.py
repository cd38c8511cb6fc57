"""Sending the outbox: claim with a lease, send, record; retries with backoff; never twice.

1. claim (one short transaction): due rows (``status = 'pending' AND next_attempt_at <= now``), on PostgreSQL
   ``FOR UPDATE SKIP LOCKED`` so two workers take disjoint rows, leased by one guarded UPDATE that moves
   ``next_attempt_at`` past the batch's lease and returns the ids it won (which also keeps SQLite workers apart).
   The attempt is counted at the claim, so a message that kills its worker every time still ends ``failed``.
2. send each, outside any transaction, through its channel (channels.py), the message's key as the provider's
   idempotency key (eSMS ``RequestId``, ZNS ``tracking_id``, the e-mail's ``Message-ID``).
3. record each at once in its own transaction: accepted -> ``sent``; an error -> pending again after
   ``BACKOFF[attempts]``, or ``failed`` (reported on the record's page and counted by ``flask notify status``) when
   the schedule is spent or the error is final. A message whose subscriber chose "none" meanwhile is ``canceled``
   at the claim.

A worker killed mid-send leaves its lease to run out; the message is then sent again with the same key: the SMS
provider blocks the duplicate, an SMTP server that never answered "250" never accepted it. Nothing accepted is
recorded late, nothing is lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from app import transactions
from app.clock import as_utc, utcnow
from app.jobs import Round, run_loop
from app.extensions import db
from app.notify import channels, producers
from app.notify.models import NotifyMessage, NotifySubscription
from tenants.scoping import all_tenants, tenant_context

log = logging.getLogger(__name__)

BACKOFF: tuple[timedelta, ...] = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
LEASE_BASE_SECONDS = 60


def lease_for(count: int) -> timedelta:
    base = current_app.config.get("NOTIFY_LEASE_SECONDS", LEASE_BASE_SECONDS)
    return timedelta(seconds=base + count * (channels.TIMEOUT_SECONDS + 1))


def backoff(attempts: int) -> timedelta | None:
    return BACKOFF[attempts - 1] if 1 <= attempts <= len(BACKOFF) else None


def _job(row: NotifyMessage, stop_urls: dict[int, str]) -> channels.Job:
    return channels.Job(row.id, row.tenant_id, row.key, row.channel, row.address, row.title, row.body,
                        row.template_id, row.template_data, stop_urls.get(row.subscription_id or 0, ""))


def claim(now: datetime, limit: int) -> list[channels.Job]:
    """Lease up to ``limit`` due messages (module docstring, step 1) and commit."""
    query = (select(NotifyMessage)
             .where(NotifyMessage.status == "pending", NotifyMessage.next_attempt_at <= now)
             .order_by(NotifyMessage.next_attempt_at, NotifyMessage.id).limit(limit))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=NotifyMessage)

    def work():
        rows = db.session.scalars(query).all()
        if not rows:
            return []
        lease_until = now + lease_for(len(rows))
        won = set(db.session.scalars(
            update(NotifyMessage)
            .where(NotifyMessage.id.in_([r.id for r in rows]), NotifyMessage.status == "pending",
                   NotifyMessage.next_attempt_at <= now)
            .values(next_attempt_at=lease_until, leased_until=lease_until, attempts=NotifyMessage.attempts + 1)
            .returning(NotifyMessage.id).execution_options(synchronize_session=False)))
        subscribers = db.session.execute(
            select(NotifySubscription.id, NotifySubscription.token, NotifySubscription.channel).where(
                NotifySubscription.id.in_({r.subscription_id for r in rows if r.subscription_id}))).all()
        stopped = {sid for sid, _token, channel in subscribers if channel == "none"}
        canceled = [r.id for r in rows if r.id in won and r.subscription_id in stopped]
        if canceled:  # the person chose "none" after the message was written: it is not sent
            db.session.execute(update(NotifyMessage).where(NotifyMessage.id.in_(canceled))
                               .values(status="canceled", leased_until=None, last_error="stopped by the person")
                               .execution_options(synchronize_session=False))
        from app.notify import public_url

        stop_urls = {sid: public_url("notify.preferences", token=token) for sid, token, _channel in subscribers}
        return [_job(r, stop_urls) for r in rows if r.id in won and r.id not in canceled]

    return transactions.run(work)


def record(job: channels.Job, outcome: channels.Outcome, now: datetime) -> str:
    def work():
        message = db.session.get(NotifyMessage, job.id, populate_existing=True)
        if message is None or message.status != "pending":
            return message.status if message else "gone"
        message.leased_until = None
        if outcome.accepted:
            message.status, message.sent_at, message.provider_id = "sent", utcnow(), outcome.provider_id
            message.last_error = None
        else:
            message.last_error = (outcome.error or "error")[:300]
            wait = None if outcome.final else backoff(message.attempts)
            if wait is None:
                message.status = "failed"
                log.warning("notify message %s failed for good: %s", message.id, message.last_error)
            else:
                message.next_attempt_at = now + wait
        return message.status

    return transactions.run(work)


def release(jobs: list[channels.Job], now: datetime) -> None:
    """Give back leased messages not sent (the worker is stopping): due again at once, the attempt not counted."""
    if not jobs:
        return

    def work():
        db.session.execute(update(NotifyMessage)
                           .where(NotifyMessage.id.in_([j.id for j in jobs]), NotifyMessage.status == "pending")
                           .values(next_attempt_at=now, leased_until=None, attempts=NotifyMessage.attempts - 1)
                           .execution_options(synchronize_session=False))

    transactions.run(work)


def send_one(job: channels.Job, now: datetime) -> str:
    """Send one claimed message and record the outcome in one transaction (which also keeps a renewed Zalo token
    the channel stored)."""
    with tenant_context(job.tenant_id):
        try:
            outcome = channels.send(job)
        except Exception:  # noqa: BLE001 - a bug or an unexpected answer: an attempt that failed, kept short
            log.exception("notify message %s: the channel raised", job.id)
            outcome = channels.Outcome(False, error=f"{job.channel}: unexpected error")
        if not outcome.accepted:
            log.info("notify message %s not accepted: %s", job.id, outcome.error)
        return record(job, outcome, now)


def deliver_due(now: datetime | None = None, limit: int = 100, *,
                should_stop: Callable[[], bool] | None = None) -> int:
    """Send up to ``limit`` due messages of every commune; return how many were tried."""
    now = as_utc(now) if now else utcnow()
    started = time.monotonic()
    with all_tenants():
        jobs = claim(now, limit)
    budget = (lease_for(len(jobs)) - timedelta(seconds=2 * channels.TIMEOUT_SECONDS)).total_seconds()
    tried = 0
    for index, job in enumerate(jobs):
        if (should_stop and should_stop()) or time.monotonic() - started > budget:
            with all_tenants():
                release(jobs[index:], now)
            break
        send_one(job, now)
        tried += 1
    return tried


def run_producers(now: datetime | None = None) -> int:
    """Each periodic producer in its own transaction (one failing does not stop the others)."""
    now = now or utcnow()
    written = 0
    for name, producer in producers().items():
        try:
            with all_tenants():
                written += transactions.run(lambda p=producer: p(now))
        except Exception:  # noqa: BLE001 - logged; the next round runs it again
            log.exception("notify producer %s failed", name)
    return written


def run_round(limit: int = 100, should_stop: Callable[[], bool] | None = None) -> int:
    """One round of the job runner: the periodic producers, then the due messages. Returns messages tried."""
    if current_app.config.get("NOTIFY_PRODUCERS", True):
        run_producers()
    return deliver_due(limit=limit, should_stop=should_stop)


def run_worker(*, once: bool = False, interval: float = 2.0, limit: int = 100,
               echo: Callable[[str], None] = print, stop: threading.Event | None = None) -> int:
    """``flask notify worker``: the one job loop (app/jobs.py) with the notifications' round alone, until
    SIGTERM/SIGINT (the current message finishes, the rest is given back). ``flask payments worker`` runs the same
    round after its webhooks."""
    return run_loop([Round("notifications tried", run_round, batch=True)], name="Notifications worker", once=once,
                    interval=interval, limit=limit, echo=echo, stop=stop)
