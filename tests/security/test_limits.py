"""Limits that hold (issue 11, item 5): login failures are counted in shared storage (Redis), so two workers allow
no more attempts than one; failures slow down per address and per email, yet the right password from a client that
has not failed still signs in; the password-change form is limited too."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.conftest import CHEAP_ARGON2, TEST_PASSWORD, login, post_form

ROOT = Path(__file__).resolve().parents[2]
from tests.security.conftest import REDIS_URL

SERVER = """
import json, sys
from werkzeug.serving import make_server
from app import create_app
settings = json.loads(sys.argv[1])
app = create_app(settings)
server = make_server("127.0.0.1", 0, app, threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"""


@pytest.fixture
def two_workers(database, redis_prefix):
    """Two separate processes serving the app (as two gunicorn workers would), sharing the database and Redis."""
    import json

    settings = {"SQLALCHEMY_DATABASE_URI": database["app_url"], "SECRET_KEY": "testing-secret",
                "RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": redis_prefix, "TRUSTED_PROXY_COUNT": 1,
                "WTF_CSRF_ENABLED": False, **CHEAP_ARGON2}
    env = {**os.environ, "APP_ENV": "testing", "PYTHONPATH": str(ROOT)}
    processes, ports = [], []
    try:
        for _ in range(2):
            process = subprocess.Popen([sys.executable, "-c", SERVER, json.dumps(settings)], cwd=ROOT, env=env,
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            processes.append(process)
            ports.append(int(process.stdout.readline()))
        yield ports
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


def request_status(port: int, method: str, path: str, body: dict | None = None, headers: dict | None = None) -> int:
    """One request to a server process on ``port``, as a form post when ``body`` is given; returns the status."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        connection.request(method, path, body=urlencode(body) if body else None,
                           headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})
        return connection.getresponse().status
    finally:
        connection.close()


def post_login(port: int, email: str, password: str, client_address: str) -> int:
    return request_status(port, "POST", "/login", {"email": email, "password": password},
                          {"X-Forwarded-For": client_address})


def test_two_workers_sharing_redis_limit_the_sixth_wrong_password_and_let_a_clean_client_in(make, two_workers):
    commune = make.tenant("xa-bat-trang", "Bát Tràng")
    make.user("admin@battrang.vn", "commune_admin", commune)
    first, second = two_workers
    attacker = "203.0.113.5"
    answers = [post_login((first, second)[i % 2], "admin@battrang.vn", "wrong-password", attacker) for i in range(5)]
    assert answers == [401] * 5  # alternating workers: each saw only two or three of them
    assert post_login(first, "admin@battrang.vn", "wrong-password", attacker) == 429
    assert post_login(second, "admin@battrang.vn", "wrong-password", attacker) == 429
    assert post_login(second, "admin@battrang.vn", TEST_PASSWORD, attacker) == 429  # the failing client waits
    # the rightful user, from a client that has not failed, signs in on either worker
    assert post_login(first, "admin@battrang.vn", TEST_PASSWORD, "198.51.100.7") == 302
    assert post_login(second, "admin@battrang.vn", TEST_PASSWORD, "198.51.100.8") == 302


@pytest.fixture
def admin(make):
    commune = make.tenant("xa-bat-trang", "Bát Tràng")
    return make.user("admin@battrang.vn", "commune_admin", commune)


def test_the_password_change_form_is_limited(app, client, admin):
    login(client, "admin@battrang.vn")
    wrong = {"current_password": "not-my-password", "new_password": "a-new-password-9",
             "confirm": "a-new-password-9"}
    for _ in range(5):
        assert post_form(client, "/account/password", wrong).status_code == 400
    assert post_form(client, "/account/password", wrong).status_code == 429
    right = {**wrong, "current_password": TEST_PASSWORD}
    assert post_form(client, "/account/password", right).status_code == 429  # guessing stops, right or wrong
    assert login(app.test_client(), "admin@battrang.vn").status_code == 302  # the password did not change


def test_a_failed_login_is_not_a_reason_to_lock_the_account_owner_out(app, admin):
    """Counted per email, failures refuse only clients that failed: the owner keeps access under attack."""
    for i in range(20):
        attacker = app.test_client()
        attacker.environ_base["REMOTE_ADDR"] = f"203.0.113.{i + 1}"
        login(attacker, "admin@battrang.vn", "wrong-password")
    owner = app.test_client()
    owner.environ_base["REMOTE_ADDR"] = "198.51.100.1"
    assert login(owner, "admin@battrang.vn").status_code == 302


def test_production_refuses_limits_kept_in_a_workers_memory():
    from config import check_production

    settings = {"PRODUCTION": True, "SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                "PUBLIC_BASE_URL": "https://gialam.example.vn"}
    with pytest.raises(RuntimeError, match="Redis"):
        check_production({**settings, "RATELIMIT_STORAGE_URI": "memory://"})
    check_production({**settings, "RATELIMIT_STORAGE_URI": REDIS_URL})
