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


# ---------------------------------------------------------------------------------------------- new work first
class _Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _environ(clock, path: str = "/marketplace/cart/add", method: str = "POST", waited: float = 0.6,
             cookie: str = "") -> dict:
    environ = {"PATH_INFO": path, "REQUEST_METHOD": method, "HTTP_X_REQUEST_START": f"t={clock.now - waited:.3f}"}
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    return environ


def _shedder(app, **bounds):
    from app.shedding import LoadShedder

    settings = {"SHED_QUEUE_MS": 2000, "SHED_SESSION_QUEUE_MS": 4000, "SHED_NEW_QUEUE_MS": 500,
                "SHED_NEW_PER_SECOND": 2, **bounds}
    clock = _Clock()
    return LoadShedder(create_app({**app.config, **settings}), clock=clock), clock


def _session_cookie(app, data: dict) -> str:
    return "session=" + app.session_interface.get_signing_serializer(app).dumps(data)


def test_past_its_bound_a_first_cart_is_rationed_work_under_way_is_not(app):
    """The decision: a cart add from a session without a cart is new work; once it waited 0.5 s, a worker admits 2 a
    second (a bucket of one second's worth) and refuses the rest at once. A shopper adding to a cart, the checkout
    and everything else keep their bounds (2 s; 4 s with a session) and take nothing from the ration."""
    shedder, clock = _shedder(app)
    assert not shedder.overdue(_environ(clock, waited=0.4))  # a short queue: admitted, no ration needed
    assert not shedder.overdue(_environ(clock)) and not shedder.overdue(_environ(clock))  # the ration: 2
    assert shedder.overdue(_environ(clock))  # the third in this second: refused (2 s was its bound before)
    with_cart = _session_cookie(shedder.app, {"cart": {"7": 1}})
    assert not shedder.overdue(_environ(clock, waited=3.5, cookie=with_cart))  # adding to a cart: work under way
    assert shedder.overdue(_environ(clock, waited=4.5, cookie=with_cart))
    assert not shedder.overdue(_environ(clock, method="GET", waited=1.5))  # not a cart add: the 2 s bound
    assert not shedder.overdue(_environ(clock, path="/marketplace/checkout", waited=1.5))
    assert not shedder.overdue(_environ(clock, path="/healthz", waited=60))
    forged = _session_cookie(create_app({**app.config, "SECRET_KEY": "another-secret"}), {"cart": {"7": 1}})
    for cookie in (_session_cookie(shedder.app, {"lang": "en"}), _session_cookie(shedder.app, {"cart": {}}),
                   "session=forged.cart", "session=", forged):
        assert shedder.overdue(_environ(clock, cookie=cookie)), cookie  # no cart (or not a session of this app)
    assert shedder.shed_new == 6
    clock.now += 0.5  # half a second: one more
    assert not shedder.overdue(_environ(clock)) and shedder.overdue(_environ(clock))
    clock.now += 60  # a quiet minute keeps one second's worth, not sixty
    assert not shedder.overdue(_environ(clock)) and not shedder.overdue(_environ(clock))
    assert shedder.overdue(_environ(clock))
    clock.now += 60
    assert shedder.overdue(_environ(clock, waited=2.5))  # past SHED_QUEUE_MS: refused, ration or not
    assert not shedder.overdue(_environ(clock)) and not shedder.overdue(_environ(clock))  # its token was not taken


def test_the_new_work_bound_switches_off_and_never_exceeds_the_queue_bound(app):
    off, clock = _shedder(app, SHED_NEW_QUEUE_MS=0)
    assert all(not off.overdue(_environ(clock, waited=1.5)) for _ in range(10))  # as any request: 2 s
    assert off.overdue(_environ(clock, waited=2.5)) and off.shed_new == 0
    no_ration, clock = _shedder(app, SHED_NEW_PER_SECOND=0)
    assert not no_ration.overdue(_environ(clock, waited=0.4)) and no_ration.overdue(_environ(clock, waited=0.6))
    assert _shedder(app, SHED_QUEUE_MS=200)[0].new_wait == pytest.approx(0.2)  # never longer than SHED_QUEUE_MS
    shedding_off, clock = _shedder(app, SHED_QUEUE_MS=0)
    assert not shedding_off.overdue(_environ(clock, waited=60))  # shedding off: all of it


def test_in_a_queue_a_new_shopper_is_refused_and_an_admitted_one_finishes_nothing_lost(app, make):
    """Over HTTP: with the queue 1 s long and no ration left (0 a second), a new shopper's first cart gets 503
    (without the new-work bound it was admitted: 1 s is under SHED_QUEUE_MS) and changes nothing, while a shopper who already has a cart adds to it
    and checks out: the order accepted exists, with its stock held; no order exists for the refused one."""
    from sqlalchemy import func, select

    from app.extensions import db
    from marketplace.models import Order
    from tenants.scoping import all_tenants
    from tests.conftest import csrf_token
    from tests.marketplace.helpers import make_product, make_vendor, product_state

    bat_trang = make.tenant("bat-trang", "Bát Tràng")
    product = make_product(app, bat_trang, make_vendor(app, bat_trang), stock=10)
    gated = create_app({**app.config, "SHED_QUEUE_MS": 2000, "SHED_SESSION_QUEUE_MS": 4000,
                        "SHED_NEW_QUEUE_MS": 300, "SHED_NEW_PER_SECOND": 0, "SHED_RETRY_AFTER": 2})
    ungated = create_app({**gated.config, "SHED_NEW_QUEUE_MS": 0})
    cart = {"product_id": str(product), "quantity": "1"}

    admitted = gated.test_client()
    assert admitted.post("/marketplace/cart/add", data=cart).status_code == 302  # before the storm: no wait
    assert admitted.post("/marketplace/cart/add", data=cart, headers=_late(1.0)).status_code == 302  # adds to it
    token = csrf_token(admitted, "/marketplace/checkout")
    sent = admitted.post("/marketplace/checkout", headers=_late(3.0), data={
        "csrf_token": token, "name": "Trần Thị Bình", "phone": "0912345678", "address": "Số 1 Trâu Quỳ", "note": ""})
    assert sent.status_code == 302 and "/marketplace/orders/" in sent.headers["Location"]
    code = sent.headers["Location"].rstrip("/").rsplit("/", 1)[-1]

    newcomer = gated.test_client()
    refused = newcomer.post("/marketplace/cart/add", data=cart, headers=_late(1.0))
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "2" and "Set-Cookie" not in refused.headers
    assert newcomer.get_cookie("session") is None  # no cart was started
    assert gated.extensions["load_shedder"].shed_new == 1
    assert ungated.test_client().post("/marketplace/cart/add", data=cart,
                                      headers=_late(1.0)).status_code == 302  # without the gate: admitted

    with gated.app_context(), all_tenants():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 1  # only the accepted one
        assert db.session.scalar(select(Order.code)) == code
    assert product_state(app, product)["reserved"] == 2  # the accepted order's two units, nothing else
