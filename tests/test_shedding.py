"""Load shedding (app/shedding.py): a request that waited too long in the server's queue gets a quick 503 with
Retry-After, translated, as JSON on /api and /v1; it runs nothing; a cached page is still served; a request admitted
runs to completion. The last test saturates a real gunicorn worker (gunicorn.conf.py's hooks set the queue time)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import requests

from app import create_app
from app.shedding import request_start
from tests.conftest import count_queries
from tests.scaling.servers import gunicorn_servers

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def gated(app):
    """The app with shedding on (tests have it off): more than 0.5 s in the queue is too long."""
    gated = create_app({**app.config, "SHED_QUEUE_MS": 500, "SHED_RETRY_AFTER": 3, "SHED_SESSION_QUEUE_MS": 0})
    yield gated


def _late(seconds: float = 5.0) -> dict:
    return {"X-Request-Start": f"t={time.time() - seconds:.3f}"}


def test_request_start_reads_nginx_msec_and_other_units():
    assert request_start("t=1733600000.123") == pytest.approx(1733600000.123)
    assert request_start("1733600000123") == pytest.approx(1733600000.123)  # milliseconds
    assert request_start("t=1733600000123456") == pytest.approx(1733600000.123456)  # microseconds
    for bad in (None, "", "t=", "t=abc", "t=-5", "t=nan", "0"):
        assert request_start(bad) is None, bad


def test_tests_and_requests_without_a_start_are_never_shed(app, gated, make):
    make.tenant("bat-trang", "Bát Tràng")
    assert app.test_client().get("/login", headers=_late(60)).status_code == 200  # off in tests
    client = gated.test_client()
    assert client.get("/login").status_code == 200  # no X-Request-Start: no wait known
    assert client.get("/login", headers=_late(0.1)).status_code == 200  # waited less than the bound
    assert client.get("/healthz", headers=_late(60)).status_code == 200  # the health check is never shed


def test_a_late_request_gets_a_translated_503_with_retry_after_and_runs_nothing(gated, make):
    make.tenant("bat-trang", "Bát Tràng")
    client = gated.test_client()
    with count_queries(gated) as statements:
        page = client.post("/login", data={"email": "a@b.vn", "password": "x" * 12}, headers=_late())
    assert statements == []  # nothing ran: no session, no query, no write
    assert page.status_code == 503 and page.headers["Retry-After"] == "3"
    assert page.headers["Cache-Control"] == "no-store" and "Set-Cookie" not in page.headers
    vi = page.get_data(as_text=True)
    assert page.mimetype == "text/html" and "Hệ thống đang bận. Vui lòng thử lại sau giây lát." in vi
    en = client.get("/c/bat-trang/dossiers?lang=en", headers=_late()).get_data(as_text=True)
    assert "The service is busy. Please try again in a moment." in en and '<html lang="en"' in en
    assert "<h1>Busy right now</h1>" in en
    assert '<html lang="vi"' in vi and "The service is busy" not in vi and "503" in vi
    api = client.get("/api/products?q=gom", headers=_late())
    assert api.status_code == 503 and api.get_json()["error"]["status"] == 503 and api.headers["Retry-After"] == "3"
    v1 = client.post("/v1/payment_intents", headers={**_late(), "Authorization": "Bearer sk_x"})
    assert v1.status_code == 503 and v1.get_json()["error"]["type"] == "api_error"
    bank = client.post("/webhooks/sepay", json={"id": 1}, headers=_late())
    assert bank.status_code == 503 and bank.headers["Retry-After"] == "3"  # the gateway retries a 5xx
    assert gated.extensions["load_shedder"].shed == 5


def test_the_busy_page_renders_where_only_the_public_address_is_trusted(gated, make):
    """Production trusts only PUBLIC_BASE_URL's host: the page is rendered as on that address, not as plain text."""
    gated.config.update(TRUSTED_HOSTS=["dichvu.example.vn"], PUBLIC_BASE_URL="https://dichvu.example.vn")
    page = gated.test_client().get("/marketplace/", headers={**_late(), "Host": "dichvu.example.vn"})
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert "<h1>Hệ thống đang bận</h1>" in page.get_data(as_text=True)


def test_a_cached_page_is_served_to_a_late_request(gated, make):
    make.tenant("bat-trang", "Bát Tràng")
    client = gated.test_client()
    assert client.get("/c/bat-trang/").status_code == 200  # stored
    late = client.get("/c/bat-trang/", headers=_late())
    assert late.status_code == 200 and late.headers["X-Cache"] == "HIT"


def test_the_busy_message_is_translated():
    from babel.messages.pofile import read_po

    with open(ROOT / "app/translations/vi/LC_MESSAGES/messages.po", "rb") as handle:
        catalog = read_po(handle)
    for message in ("The service is busy. Please try again in a moment.", "Busy right now"):
        assert catalog[message].string, message


# ---------------------------------------------------------------------------------------------- a real server
@pytest.fixture
def one_thread_server(database, app, make):
    """gunicorn with the project's gunicorn.conf.py, one gthread worker with ONE thread, shedding after 0.3 s."""
    make.tenant("bat-trang", "Bát Tràng")
    settings = {"SQLALCHEMY_DATABASE_URI": database["app_url"], "SECRET_KEY": "testing-secret",
                "SHED_QUEUE_MS": 300, "SHED_RETRY_AFTER": 2}
    with gunicorn_servers(settings, options=("-c", "gunicorn.conf.py"),
                          env={"GUNICORN_BIND": "127.0.0.1:{port}", "GUNICORN_WORKERS": "1", "GUNICORN_THREADS": "1",
                               "GUNICORN_WORKER_CLASS": "gthread", "GUNICORN_LOGLEVEL": "warning"}) as [url]:
        yield url


def test_a_saturated_worker_sheds_quickly_serves_its_cache_and_finishes_what_it_admitted(one_thread_server):
    url = one_thread_server
    assert requests.get(f"{url}/c/bat-trang/", timeout=10).status_code == 200  # now cached
    answers: dict[str, tuple[int, dict, float]] = {}

    def fetch(name, path):
        started = time.monotonic()
        response = requests.get(f"{url}{path}", timeout=30)
        answers[name] = (response.status_code, dict(response.headers), time.monotonic() - started)

    queue = [("admitted", "/_test/uploads/slow?seconds=1.5")]
    queue += [(f"slow-{n}", "/_test/uploads/slow?seconds=1.5") for n in range(4)]
    queue += [("cached", "/c/bat-trang/"), ("rendered", "/login")]
    threads = []
    for name, path in queue:  # in this order into the worker's queue, behind the one thread
        thread = threading.Thread(target=fetch, args=(name, path))
        thread.start()
        threads.append(thread)
        time.sleep(0.05)
    for thread in threads:
        thread.join(timeout=60)
    assert answers["admitted"][0] == 200  # admitted: ran to completion
    for name in ("slow-0", "slow-1", "slow-2", "slow-3", "rendered"):
        status, headers, took = answers[name]
        assert status == 503 and headers["Retry-After"] == "2", name  # waited > 0.3 s: refused, not run
        assert took < 4, (name, took)  # 1.5 s behind the admitted one, then at once (unbounded: 7.5 s and more)
    status, headers, took = answers["cached"]
    assert status == 200 and headers.get("X-Cache") == "HIT" and took < 4  # the cache answers before the gate


def test_an_overloaded_stale_page_is_answered_from_its_entry_instead_of_503(gated, make):
    """A checkout storm changes the catalogue's stock with every order: a late request for a page whose entry went
    stale gets that entry (X-Cache: STALE), not a 503; a request in time gets the fresh page."""
    from sqlalchemy import update

    from app.extensions import db
    from tenants.models import Tenant

    tenant = make.tenant("bat-trang", "Bát Tràng")
    client = gated.test_client()
    assert "Bát Tràng" in client.get("/").get_data(as_text=True)
    with gated.app_context():
        db.session.execute(update(Tenant).where(Tenant.id == tenant.id).values(name="Bát Tràng Mới"))
        db.session.commit()
    late = client.get("/", headers=_late())
    assert late.status_code == 200 and late.headers["X-Cache"] == "STALE"
    assert "Bát Tràng Mới" not in late.get_data(as_text=True)
    fresh = client.get("/", headers=_late(0.1))
    assert fresh.status_code == 200 and "X-Cache" not in fresh.headers
    assert "Bát Tràng Mới" in fresh.get_data(as_text=True)
    assert client.get("/api/communes", headers=_late()).status_code == 503  # never stored: nothing to fall back on


def test_a_request_with_a_session_may_wait_longer_work_under_way_is_finished_first(app, make):
    make.tenant("bat-trang", "Bát Tràng")
    gated = create_app({**app.config, "SHED_QUEUE_MS": 500, "SHED_SESSION_QUEUE_MS": 3000})
    shopper = gated.test_client()
    shopper.get("/login")  # a session (its CSRF token), as a shopper's cart
    assert shopper.get_cookie("session") is not None
    assert shopper.get("/login", headers=_late(1.5)).status_code == 200  # with a session: admitted up to 3 s
    assert shopper.get("/login", headers=_late(3.5)).status_code == 503
    visitor = gated.test_client()
    assert visitor.get("/login", headers=_late(1.5)).status_code == 503  # a new visitor: 0.5 s
