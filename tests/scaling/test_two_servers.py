"""Two app servers (two gunicorn processes on two ports) sharing one database, one Redis and one object store behave
as one site: a login made on one is valid on the other, the response cache's generation stamp is shared, login
failures are counted together, uploads written by one are served by the other; and two webhook workers never
deliver one event twice.

Needs Redis on 127.0.0.1:6379 (skipped otherwise; ``.ci/run`` starts it). This module uses the tests' Redis database (TEST_REDIS_URL) and
only keys containing ``district-test``, and deletes only those. On PostgreSQL (TEST_DATABASE_URL) the servers run as
the row-level-security role, as in production; on SQLite they share the test database file.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
import requests
from sqlalchemy import select

from app.extensions import db
from app.payments.accounts import create_account
from app.payments.models import WebhookDelivery, WebhookEndpoint
from app.payments.stripe_wire import new_id
from tenants.scoping import all_tenants, tenant_context
from tests.conftest import CHEAP_ARGON2, TEST_PASSWORD, TEST_REDIS_URL
from tests.payments.helpers import Receiver, create_intent
from tests.scaling import servers as servers_
from tests.scaling.servers import ROOT

REDIS_URL = TEST_REDIS_URL
PREFIX = "district-test"
MEMO_MS = 300  # RESPONSE_CACHE_GENERATION_MS of both servers: each keeps the generations this long (as production)
BUCKET = "district-test-uploads"


def _forget_our_keys(client) -> None:
    for key in client.scan_iter(match=f"*{PREFIX}*"):
        client.delete(key)


@pytest.fixture(scope="module")
def redis_client():
    client = servers_.redis_client()
    _forget_our_keys(client)
    yield client
    _forget_our_keys(client)


@pytest.fixture(scope="module")
def s3(redis_client):
    moto_server = pytest.importorskip("moto.server")
    import boto3

    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    client = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
                          aws_secret_access_key="test")
    client.create_bucket(Bucket=BUCKET)
    yield url
    server.stop()


@pytest.fixture(scope="module")
def servers(database, redis_client, s3, tmp_path_factory):
    """Two gunicorn servers (1 sync worker each) running the same settings; yields their base URLs."""
    settings = {
        "SQLALCHEMY_DATABASE_URI": database["app_url"], "SECRET_KEY": "testing-secret", **CHEAP_ARGON2,
        "RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": PREFIX, "LOGIN_RATE_LIMIT": "4 per minute",
        "API_RATE_LIMIT": "5 per minute",
        "CACHE_STAMP": "redis", "CACHE_REDIS_URL": REDIS_URL, "CACHE_KEY_PREFIX": f"{PREFIX}:",
        "RESPONSE_CACHE_GENERATION_MS": MEMO_MS,
        "STORAGE_BACKEND": "s3", "S3_BUCKET": BUCKET, "S3_ENDPOINT_URL": s3, "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY_ID": "test", "S3_SECRET_ACCESS_KEY": "test", "S3_ADDRESSING_STYLE": "path",
        "UPLOAD_DIR": str(tmp_path_factory.mktemp("not-used")),
    }
    with servers_.gunicorn_servers(settings, 2, options=("--workers", "1", "--bind", "127.0.0.1:{port}",
                                                          "--no-control-socket", "--chdir", str(ROOT),
                                                          "--graceful-timeout", "3")) as urls:
        yield urls


@pytest.fixture(autouse=True)
def _fresh_shared_state(request, redis_client):
    """Between tests the tables are truncated behind the sessions' back: make every cached page stale, and forget
    the rate-limit counters of the previous test (only our keys)."""
    from app.cache import watched_tables

    for key in redis_client.scan_iter(match=f"*{PREFIX}*"):
        if b"cache:generation" not in key:
            redis_client.delete(key)
    for table in watched_tables():  # one generation per table the cached pages show
        redis_client.incr(f"{PREFIX}:cache:generation:{table}")
    time.sleep(MEMO_MS / 1000)  # both servers' memos of the generations have expired
    yield


@pytest.fixture
def commune(make):
    tenant = make.tenant("bat-trang", "Bát Tràng")
    make.user("officer@bt.vn", "officer", tenant)
    return tenant


_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def _token(browser: requests.Session, url: str) -> str:
    match = _CSRF.search(browser.get(url, timeout=10).text)
    assert match, url
    return match.group(1) or match.group(2)


def _login(browser, base: str, email: str, password: str = TEST_PASSWORD):
    token = _token(browser, f"{base}/login")
    return browser.post(f"{base}/login", data={"email": email, "password": password, "csrf_token": token},
                        allow_redirects=False, timeout=10)


def test_a_login_made_on_one_server_is_valid_on_the_other(servers, commune):
    a, b = servers
    browser = requests.Session()
    assert _login(browser, a, "officer@bt.vn").status_code == 302
    desk = browser.get(f"{b}/c/bat-trang/desk", allow_redirects=False, timeout=10)
    assert desk.status_code == 200
    assert 'data-testid="desk-title"' in desk.text and 'data-testid="logout"' in desk.text
    stranger = requests.Session()
    assert stranger.get(f"{b}/c/bat-trang/desk", allow_redirects=False, timeout=10).status_code == 302


def test_the_cache_stamp_is_shared_a_write_on_one_server_refreshes_the_other_within_the_memo(servers, commune,
                                                                                             redis_client):
    a, b = servers
    visitor = requests.Session()
    for base in (a, b):
        visitor.get(f"{base}/c/bat-trang/", timeout=10)
        assert visitor.get(f"{base}/c/bat-trang/", timeout=10).headers.get("X-Cache") == "HIT"  # both cache it
    officer = requests.Session()
    assert _login(officer, a, "officer@bt.vn").status_code == 302
    notices_before = int(redis_client.get(f"{PREFIX}:cache:generation:notices"))
    token = _token(officer, f"{a}/c/bat-trang/notices/new")
    created = officer.post(f"{a}/c/bat-trang/notices/new", allow_redirects=False, timeout=10,
                           data={"title": "Họp dân thôn 3", "body": "19h", "published": "y", "csrf_token": token})
    assert created.status_code in (302, 303)
    own = visitor.get(f"{a}/c/bat-trang/", timeout=10)  # the server that wrote: at once (its bump forgot its memo)
    assert "Họp dân thôn 3" in own.text and own.headers.get("X-Cache") is None
    time.sleep(MEMO_MS / 1000)  # the other server: within RESPONSE_CACHE_GENERATION_MS of the commit
    page = visitor.get(f"{b}/c/bat-trang/", timeout=10)
    assert "Họp dân thôn 3" in page.text and page.headers.get("X-Cache") is None
    # the commit on server a bumped the notices' generation in the Redis both servers read
    assert int(redis_client.get(f"{PREFIX}:cache:generation:notices")) == notices_before + 1


def test_login_failures_are_counted_together(servers, commune):
    a, b = servers
    answers = []
    for attempt in range(6):
        base = (a, b)[attempt % 2]
        browser = requests.Session()
        answers.append(_login(browser, base, "officer@bt.vn", "wrong-password").status_code)
    # 4 per minute in all: each server alone has seen only 3 when the 5th attempt arrives.
    assert answers == [401, 401, 401, 401, 429, 429]


def test_api_requests_of_one_key_are_counted_together(app, servers, commune):
    from app.payments.accounts import create_api_key

    a, b = servers
    with app.app_context(), tenant_context(commune):
        account = create_account("Phí", "970415", "113366668888", "UBND XA BAT TRANG")
        _key, secret = create_api_key(account)
        db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    answers = [requests.get(f"{(a, b)[n % 2]}/v1/payment_intents", headers=headers, timeout=10).status_code
               for n in range(7)]
    # 5 per minute for the key in all: each server alone has seen 3 when the 6th request arrives.
    assert answers == [200, 200, 200, 200, 200, 429, 429]


def test_an_upload_written_by_one_server_is_served_by_the_other(servers):
    a, b = servers
    body = os.urandom(2048)
    assert requests.post(f"{a}/_test/uploads/onestop/1/dossier-7/scan.pdf", data=body, timeout=10).status_code == 201
    served = requests.get(f"{b}/_test/uploads/onestop/1/dossier-7/scan.pdf", timeout=10)
    assert served.status_code == 200 and served.content == body
    assert requests.get(f"{b}/_test/uploads/onestop/1/dossier-7/other.pdf", timeout=10).status_code == 404


def test_two_webhook_worker_processes_never_deliver_one_event_twice(app, database, make):
    tenant = make.tenant("bat-trang", "Bát Tràng")
    receiver = Receiver()
    receiver.delay = 0.01
    with app.app_context(), tenant_context(tenant):
        account = create_account("Phí", "970415", "113366668888", "UBND XA BAT TRANG")
        db.session.add(WebhookEndpoint(tenant_id=tenant.id, public_id=new_id("we"), account_id=account.id,
                                       url=receiver.url, secret=new_id("whsec"), enabled_events=["*"],
                                       status="enabled"))
        db.session.commit()
        for _ in range(15):
            create_intent(account, 150_000)  # 2 events each: 30 deliveries
    env = {**os.environ, "DATABASE_URL": database["app_url"], "APP_ENV": "development", "FLASK_APP": "wsgi",
           "PYTHONUNBUFFERED": "1", "SECRET_KEY": "testing-secret"}
    workers = [subprocess.Popen([sys.executable, "-m", "flask", "payments", "worker", "--interval", "0.05",
                                 "--limit", "3"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    try:
        deadline = time.monotonic() + 40
        while len(receiver.received) < 30 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # room for a duplicate to show up
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        outputs = []
        for worker in workers:
            try:
                outputs.append(worker.communicate(timeout=15)[0])
            except subprocess.TimeoutExpired:
                worker.kill()
                outputs.append(worker.communicate()[0])
        receiver.close()
    counts = Counter(event["id"] for event in receiver.events())
    assert len(counts) == 30, outputs
    assert set(counts.values()) == {1}, [event for event, n in counts.items() if n > 1]
    with app.app_context(), all_tenants():
        statuses = set(db.session.scalars(select(WebhookDelivery.status)))
    assert statuses == {"succeeded"}
    assert all(w.returncode == 0 for w in workers), outputs
