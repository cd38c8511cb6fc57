"""Exactly once, never lost: a worker process killed mid-send (SIGKILL, a real subprocess) leaves nothing accepted
to be sent again and nothing lost; two workers draining one outbox send each message once (issue #20)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from app import notify
from app.extensions import db
from tenants.scoping import tenant_context
from tests.notify.conftest import drain, messages

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def commune(make):
    return make.tenant("bat-trang", "Bát Tràng")


def _enqueue(app, commune, n: int, channel: str) -> None:
    with app.app_context(), tenant_context(commune):
        for i in range(n):
            subject = f"dossier:{i}"
            notify.subscribe(subject, phone=f"09123456{i:02d}", email=f"p{i}@example.vn", channel=channel)
            notify.send(subject, "received", lambda _l, i=i: notify.Text(title=f"Hồ sơ {i}", body=f"Tin {i}"),
                        key=f"test:{i}")
        db.session.commit()


def _worker(database, extra_env: dict) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database["app_url"], "APP_ENV": "development", "FLASK_APP": "wsgi",
           "PYTHONUNBUFFERED": "1", "SECRET_KEY": "testing-secret", **extra_env}
    return subprocess.Popen([sys.executable, "-m", "flask", "notify", "worker", "--interval", "0.1"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _kill_when(process, held: threading.Event, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    try:
        while not held.is_set() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        assert held.is_set(), process.stdout.read() if process.poll() is not None else "the worker never got there"
        process.send_signal(signal.SIGKILL)  # mid-send: no handler, no cleanup
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()


def test_a_worker_killed_mid_sms_resends_nothing_texted_and_loses_nothing(app, database, commune, esms):
    _enqueue(app, commune, 3, "sms")
    esms.hold_at = 2  # the provider has texted the 2nd message; the worker dies before reading the answer
    process = _worker(database, {"ESMS_URL": esms.url, "ESMS_API_KEY": "api-key", "ESMS_SECRET_KEY": "secret-key",
                                 "ESMS_BRANDNAME": "UBND BATTRANG"})
    _kill_when(process, esms.hold)
    esms.hold.clear()
    first, second, third = messages(app)
    assert first["status"] == "sent" and second["status"] == third["status"] == "pending"
    assert second["leased_until"] is not None  # its lease runs out; until then no worker takes it
    assert drain(app) == 0
    later = datetime.now(timezone.utc) + timedelta(minutes=5)
    assert drain(app, later) == 2
    assert [m["status"] for m in messages(app)] == ["sent", "sent", "sent"]
    # the 2nd went out again with its RequestId: the provider texted it once; nothing texted twice, none lost
    assert len(esms.sent) == 3 and len(esms.requests) == 4
    assert sorted(esms.sent) == ["test:0", "test:1", "test:2"]


def test_a_worker_killed_mid_email_resends_nothing_accepted_and_loses_nothing(app, database, commune, smtp):
    _enqueue(app, commune, 3, "email")
    smtp.hold_at = 2  # the 2nd message's DATA arrived; "250" not yet answered when the worker dies
    process = _worker(database, {"SMTP_URL": smtp.url, "MAIL_FROM": "no-reply@battrang.example.vn"})
    _kill_when(process, smtp.hold)
    smtp.hold.clear()
    time.sleep(0.2)
    assert [m["To"] for m in smtp.accepted] == ["p0@example.vn"]  # the unanswered one was never accepted
    assert drain(app, datetime.now(timezone.utc) + timedelta(minutes=5)) == 2
    accepted = sorted(m["To"] for m in smtp.accepted)
    assert accepted == ["p0@example.vn", "p1@example.vn", "p2@example.vn"]  # each accepted exactly once
    assert [m["status"] for m in messages(app)] == ["sent", "sent", "sent"]


def test_two_workers_draining_one_outbox_send_each_message_once(app, commune, esms):
    from app.notify.worker import deliver_due

    total = 300
    _enqueue(app, commune, total, "sms")
    errors = []

    def work():
        try:
            with app.app_context():
                while deliver_due(limit=25):
                    pass
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert len(esms.requests) == total and len(esms.sent) == total  # no request twice, none lost
    assert {m["status"] for m in messages(app)} == {"sent"} and {m["attempts"] for m in messages(app)} == {1}


def test_the_payments_worker_runs_the_notifications_too(app, commune, esms):
    from app.payments.jobs import run_worker

    _enqueue(app, commune, 2, "sms")
    with app.app_context():
        run_worker(once=True, echo=lambda _line: None)
    assert len(esms.sent) == 2
