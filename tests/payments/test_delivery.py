"""Webhook delivery worker: signed POSTs to a real local receiver, retries with backoff, giving up, the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import stripe
from sqlalchemy import select

from app.extensions import db
from app.payments.webhooks import delivery, outbound
from app.payments.accounts import create_account
from app.payments.jobs import run_worker
from app.payments.webhooks.delivery import BACKOFF, MAX_ATTEMPTS, deliver_due, delivery_log
from app.clock import as_utc, utcnow
from tests.payments.helpers import create_intent
from app.payments.models import PaymentIntent, WebhookDelivery, WebhookEndpoint
from app.payments.stripe_wire import new_id
from tenants.scoping import TenantRequired, all_tenants, tenant_context
from tests.conftest import count_queries
from tests.payments.helpers import Receiver

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def shop(app, make):
    """A commune, its payment account and a helper to add webhook endpoints and intents."""
    tenant = make.tenant("bat-trang", "Bát Tràng")
    with app.app_context(), tenant_context(tenant):
        account = create_account("Phí", "970415", "113366668888", "UBND XA BAT TRANG")
        db.session.commit()

    class Shop:
        def endpoint(self, url: str, status: str = "enabled", events=("*",)) -> dict:
            with app.app_context(), tenant_context(tenant):
                endpoint = WebhookEndpoint(tenant_id=tenant.id, public_id=new_id("we"), account_id=account.id,
                                           url=url, secret=new_id("whsec"), enabled_events=list(events),
                                           status=status)
                db.session.add(endpoint)
                db.session.commit()
                return {"id": endpoint.id, "secret": endpoint.secret, "public_id": endpoint.public_id}

        def intent(self, amount: int = 150_000) -> str:
            with app.app_context(), tenant_context(tenant):
                return create_intent(account, amount).public_id

    shop = Shop()
    shop.tenant = tenant
    return shop


def deliveries(app) -> list[WebhookDelivery]:
    with app.app_context(), all_tenants():
        rows = db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).unique().all()
        db.session.expunge_all()
        return rows


def run(app, **kwargs) -> int:
    with app.app_context():
        return deliver_due(**kwargs)


# ------------------------------------------------------------------------------------------------ success


def test_delivers_signed_events_that_stripe_sdk_verifies(app, shop, receiver):
    endpoint = shop.endpoint(receiver.url)
    public_id = shop.intent()  # emits payment_intent.created and payment_intent.requires_action
    assert run(app) == 2
    assert len(receiver.received) == 2
    types = []
    for item in receiver.received:
        assert item["path"] == "/hooks"
        headers = {k.lower(): v for k, v in item["headers"].items()}
        assert headers["content-type"].startswith("application/json")
        assert headers["user-agent"].startswith("GiaLamPayments/")
        event = stripe.Webhook.construct_event(item["body"], headers["stripe-signature"], endpoint["secret"])
        assert event["object"] == "event" and event["data"]["object"]["id"] == public_id
        types.append(event["type"])
        with pytest.raises(stripe.SignatureVerificationError):  # the signature covers the exact bytes
            stripe.Webhook.construct_event(item["body"] + b" ", headers["stripe-signature"], endpoint["secret"])
    assert types == ["payment_intent.created", "payment_intent.requires_action"]
    rows = deliveries(app)
    assert [(r.status, r.attempts, r.last_status_code, r.last_error) for r in rows] == [
        ("succeeded", 1, 200, None), ("succeeded", 1, 200, None)]
    assert all(r.delivered_at is not None for r in rows)
    assert run(app) == 0 and len(receiver.received) == 2  # nothing sent twice


def test_body_is_the_stripe_event_shape_with_pending_webhooks(app, shop, receiver):
    shop.endpoint(receiver.url)
    shop.endpoint(receiver.url + "/second")
    shop.intent()
    assert run(app, limit=1) == 1  # the first delivery of the first event: both endpoints still pending
    event = receiver.events()[0]
    assert set(event) >= {"id", "object", "api_version", "created", "data", "livemode", "pending_webhooks",
                          "request", "type"}
    assert event["id"].startswith("evt_") and event["pending_webhooks"] == 2
    assert event["data"]["object"]["object"] == "payment_intent"
    assert run(app) == 3


def test_session_post_replaces_the_http_client(app, shop):
    endpoint = shop.endpoint("https://merchant.example/hooks")
    shop.intent()
    calls = []

    def fake_post(url, data, headers, timeout):
        calls.append((url, data, headers, timeout))
        return 204, ""

    assert run(app, session_post=fake_post) == 2
    url, body, headers, timeout = calls[0]
    assert url == "https://merchant.example/hooks" and timeout == delivery.TIMEOUT_SECONDS
    stripe.Webhook.construct_event(body, headers["Stripe-Signature"], endpoint["secret"])
    assert {r.status for r in deliveries(app)} == {"succeeded"}


def test_session_post_may_answer_like_requests(app, shop):
    """A requests-style session (response.status_code / response.text) fits as well."""
    shop.endpoint("https://merchant.example/hooks")
    shop.intent()

    class Answer:
        status_code, text = 410, "gone"

    class Session:
        def post(self, url, data=None, headers=None, timeout=None):
            return Answer()

    assert run(app, session_post=Session().post) == 2
    assert [(r.last_status_code, r.last_error) for r in deliveries(app)] == [(410, "HTTP 410")] * 2  # no body


# ------------------------------------------------------------------------------------------------ failures


def test_failing_receiver_is_retried_later_with_backoff(app, shop, receiver):
    shop.endpoint(receiver.url)
    shop.intent()
    receiver.status = 500
    now = utcnow()
    assert run(app, now=now) == 2
    rows = deliveries(app)
    for row in rows:
        assert (row.status, row.attempts, row.last_status_code) == ("pending", 1, 500)
        assert row.last_error == "HTTP 500" and "receiver is down" not in row.last_error  # the body is not kept
        assert abs((as_utc(row.next_attempt_at) - (now + BACKOFF[0])).total_seconds()) < 1
    assert run(app, now=now + timedelta(seconds=30)) == 0  # not due yet
    assert len(receiver.received) == 2

    assert run(app, now=now + BACKOFF[0]) == 2
    assert {r.attempts for r in deliveries(app)} == {2}
    later = now + BACKOFF[0]
    assert all(abs((as_utc(r.next_attempt_at) - (later + BACKOFF[1])).total_seconds()) < 1
               for r in deliveries(app))

    receiver.status = 200  # the receiver is back
    assert run(app, now=later + BACKOFF[1]) == 2
    assert [(r.status, r.attempts, r.last_status_code) for r in deliveries(app)] == [("succeeded", 3, 200)] * 2
    assert len(receiver.received) == 6


def test_gives_up_after_the_last_attempt(app, shop, receiver):
    shop.endpoint(receiver.url, events=["payment_intent.created"])
    shop.intent()
    receiver.status = 503
    now = utcnow()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert run(app, now=now) == 1, attempt
        row = deliveries(app)[0]
        assert row.attempts == attempt
        now = as_utc(row.next_attempt_at)
    assert row.status == "failed" and row.last_status_code == 503
    assert len(receiver.received) == MAX_ATTEMPTS
    assert run(app, now=now + timedelta(days=30)) == 0
    # The schedule spans about three days, like Stripe's.
    assert timedelta(days=2) < sum(BACKOFF, timedelta()) <= timedelta(days=3)
    assert delivery.backoff(1) == timedelta(minutes=1) and delivery.backoff(MAX_ATTEMPTS) is None


def test_disabled_endpoint_gets_nothing(app, shop, receiver):
    endpoint = shop.endpoint(receiver.url)
    shop.endpoint(receiver.url + "/off", status="disabled")  # disabled before the event: no delivery at all
    shop.intent()
    assert len(deliveries(app)) == 2
    with app.app_context(), all_tenants():  # disabled after the event, before the worker ran
        db.session.get(WebhookEndpoint, endpoint["id"]).status = "disabled"
        db.session.commit()
    assert run(app) == 0
    assert receiver.received == []
    assert [(r.status, r.attempts, r.last_error) for r in deliveries(app)] == [("failed", 0, "endpoint disabled")] * 2


def test_network_errors_redirects_and_bad_schemes_are_failed_attempts(app, shop, receiver):
    closed = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    dead_url = f"http://127.0.0.1:{closed.server_port}/hooks"
    closed.server_close()  # nothing listens there any more
    shop.endpoint(dead_url, events=["payment_intent.created"])
    shop.endpoint("file:///etc/passwd", events=["payment_intent.created"])
    shop.endpoint(receiver.url, events=["payment_intent.created"])
    receiver.status = 302
    receiver.headers_out = {"Location": "http://127.0.0.1:9/elsewhere"}
    shop.intent()
    assert run(app) == 3
    dead, file_, redirected = deliveries(app)
    # A short fixed message, never the socket's error (refused vs. timed out would map ports)
    assert dead.status == "pending" and dead.last_status_code is None and dead.last_error == outbound.NO_CONNECTION
    assert file_.last_status_code is None and file_.last_error == outbound.NOT_ALLOWED
    assert redirected.last_status_code == 302 and redirected.last_error == "HTTP 302"
    assert len(receiver.received) == 1  # the redirect was not followed


def test_slow_receiver_times_out(app, shop, receiver, monkeypatch):
    monkeypatch.setattr(delivery, "TIMEOUT_SECONDS", 0.3)
    shop.endpoint(receiver.url, events=["payment_intent.created"])
    receiver.delay = 1.0
    shop.intent()
    started = time.monotonic()
    assert run(app) == 1
    assert time.monotonic() - started < 1.0
    row = deliveries(app)[0]
    assert row.status == "pending" and row.attempts == 1 and row.last_error == outbound.NO_CONNECTION


def test_two_workers_never_send_the_same_delivery(app, shop, receiver):
    shop.endpoint(receiver.url)
    for _ in range(12):
        shop.intent()  # 24 deliveries
    receiver.delay = 0.01
    results, errors = [], []

    def worker():
        try:
            with app.app_context():
                results.append(deliver_due(limit=100))
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert sum(results) == 24
    counts = Counter(event["id"] for event in receiver.events())
    assert len(counts) == 24 and set(counts.values()) == {1}
    assert {r.status for r in deliveries(app)} == {"succeeded"}


def test_a_stopping_worker_gives_back_what_it_did_not_send(app, shop, receiver):
    shop.endpoint(receiver.url)
    shop.intent()
    shop.intent()  # 4 deliveries
    asked = []

    def stop_after_one():
        asked.append(1)
        return len(asked) > 1

    now = utcnow()
    assert run(app, now=now, should_stop=stop_after_one) == 1
    rows = deliveries(app)
    assert [r.status for r in rows].count("succeeded") == 1
    assert all(as_utc(r.next_attempt_at) <= now for r in rows if r.status == "pending")  # no lease left
    assert run(app, now=now) == 3


# ------------------------------------------------------------------------------------------------ the log


def test_delivery_log_reads_the_active_commune_newest_first(app, shop, make, receiver):
    first = shop.endpoint(receiver.url)
    second = shop.endpoint(receiver.url + "/2", events=["payment_intent.created"])
    shop.intent()
    receiver.status = 500
    run(app)
    with app.app_context():
        with pytest.raises(TenantRequired):
            delivery_log()
        with tenant_context(shop.tenant):
            log = delivery_log()
            assert [entry["id"] for entry in log] == sorted((entry["id"] for entry in log), reverse=True)
            assert len(log) == 3
            entry = log[0]
            assert entry["status"] == "pending" and entry["attempts"] == 1 and entry["last_status_code"] == 500
            assert entry["type"].startswith("payment_intent.") and entry["event"].startswith("evt_")
            assert entry["next_attempt_at"] is not None
            assert [e["endpoint"] for e in delivery_log(endpoint_id=second["id"])] == [second["public_id"]]
            assert len(delivery_log(endpoint_id=first["id"], limit=1)) == 1
        other = make.tenant("kieu-ky")
        with tenant_context(other):
            assert delivery_log() == []


# ------------------------------------------------------------------------------------------------ the worker


def test_worker_once_via_cli_delivers_and_expires(app, runner, shop, receiver):
    shop.endpoint(receiver.url)
    public_id = shop.intent()
    with app.app_context(), all_tenants():
        intent = db.session.scalar(select(PaymentIntent).where(PaymentIntent.public_id == public_id))
        intent.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    result = runner.invoke(args=["payments", "worker", "--once"])
    assert result.exit_code == 0, result.output
    # Expiry runs first, so the cancellation's own event goes out in the same round.
    assert "webhooks sent: 3; payment intents expired: 1" in result.output
    result = runner.invoke(args=["payments", "worker", "--once"])
    assert "webhooks sent: 0; payment intents expired: 0" in result.output
    assert [e["type"] for e in receiver.events()] == [
        "payment_intent.created", "payment_intent.requires_action", "payment_intent.canceled"]


def test_worker_loop_stops_when_asked(app, shop, receiver):
    shop.endpoint(receiver.url)
    stop = threading.Event()
    lines = []

    def target():
        with app.app_context():
            run_worker(interval=0.05, stop=stop, echo=lines.append)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    shop.intent()
    deadline = time.monotonic() + 10
    while len(receiver.received) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
    assert len(receiver.received) == 2
    assert lines[0].startswith("Payments worker started") and lines[-1] == "Payments worker stopped."


def test_worker_process_stops_cleanly_on_sigterm(app, database, shop, receiver):
    shop.endpoint(receiver.url)
    shop.intent()
    env = {**os.environ, "DATABASE_URL": database["app_url"], "APP_ENV": "development", "FLASK_APP": "wsgi",
           "PYTHONUNBUFFERED": "1", "SECRET_KEY": "testing-secret"}
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "payments", "worker", "--interval", "0.2"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while len(receiver.received) < 2 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        assert len(receiver.received) == 2
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert "Received SIGTERM" in output and "Payments worker stopped." in output


def test_claim_uses_skip_locked_on_postgresql(app, shop, receiver, postgres):
    # FOR UPDATE SKIP LOCKED is PostgreSQL's; SQLite workers are kept apart by the guarded lease
    shop.endpoint(receiver.url)
    shop.intent()
    with count_queries(app) as statements:
        assert run(app) == 2
    claims = [s for s in statements if "FROM webhook_deliveries" in s and "FOR UPDATE" in s]
    assert len(claims) == 1 and "SKIP LOCKED" in claims[0] and "FOR UPDATE OF webhook_deliveries" in claims[0]
