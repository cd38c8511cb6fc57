"""Redis down is no 500: the limits that count in Redis (sign-in failures, the API's rate limit) go on counting in
the worker's memory while it does not answer, and every page works (docs/decisions.md "When Redis is down").

The server runs in its own process, as in tests/security/test_limits.py: the limiter extension is one object per
process, bound to the storage of the last app initialised."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from app.extensions import db
from tenants.scoping import tenant_context
from tests.conftest import CHEAP_ARGON2
from tests.security.test_limits import ROOT, SERVER, post_login, request_status


def _closed_port() -> int:
    with socket.socket() as probe:  # a port nothing listens on: connecting is refused at once
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_down_server(database):
    settings = {"SQLALCHEMY_DATABASE_URI": database["app_url"], "SECRET_KEY": "testing-secret",
                "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{_closed_port()}/0", "TRUSTED_PROXY_COUNT": 1,
                "WTF_CSRF_ENABLED": False, "LOGIN_RATE_LIMIT": "3 per minute", "API_RATE_LIMIT": "2 per minute",
                **CHEAP_ARGON2}
    env = {**os.environ, "APP_ENV": "testing", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-c", SERVER, json.dumps(settings)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        yield int(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_sign_in_works_and_failures_are_still_counted_when_redis_is_down(make, redis_down_server):
    commune = make.tenant("xa-bat-trang", "Bát Tràng")
    make.user("admin@battrang.vn", "commune_admin", commune)
    from tests.conftest import TEST_PASSWORD

    assert post_login(redis_down_server, "admin@battrang.vn", TEST_PASSWORD, "198.51.100.7") == 302
    assert request_status(redis_down_server, "GET", "/") == 200
    attacker = "203.0.113.9"
    answers = [post_login(redis_down_server, "admin@battrang.vn", "wrong-password", attacker) for _ in range(4)]
    assert answers == [401, 401, 401, 429]  # the fourth is refused: the failures were counted in memory
    assert post_login(redis_down_server, "admin@battrang.vn", TEST_PASSWORD, attacker) == 429


def test_the_api_answers_and_keeps_its_rate_limit_when_redis_is_down(app, make, redis_down_server):
    from app.payments.accounts import create_account, create_api_key

    commune = make.tenant("xa-bat-trang", "Bát Tràng")
    with app.app_context(), tenant_context(commune):
        account = create_account("Phí một cửa", "970415", "113000583", "UBND XA BAT TRANG")
        _key, secret = create_api_key(account)
        db.session.commit()
        db.session.remove()
    headers = {"Authorization": f"Bearer {secret}"}
    statuses = [request_status(redis_down_server, "POST", "/v1/payment_intents", {"amount": "50000", "currency": "vnd"},
                         headers) for _ in range(3)]
    assert statuses == [200, 200, 429]
