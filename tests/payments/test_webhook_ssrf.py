"""SSRF: a webhook URL can never make the platform open its own network (issue 11, item 3).

Every private, loopback, link-local, metadata and encoded address is refused when a merchant names it
(``POST /v1/webhook_endpoints``, and updates) and again at every send, where the worker resolves the host, checks
every address and connects to the checked address itself. What an attempt leaves behind is a status code and a
short fixed message. The testing configuration allows loopback (the delivery tests run a receiver on 127.0.0.1);
here it is switched off, as in production.
"""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.payments.webhooks import delivery, outbound
from app.payments.models import WebhookDelivery, WebhookEndpoint
from app.payments.stripe_wire import new_id
from tenants.scoping import all_tenants, tenant_context
from tests.payments.helpers import Receiver, create_intent

HOSTILE_HOSTS = [
    "127.0.0.1", "127.8.9.10", "localhost", "[::1]", "0.0.0.0", "[::]",
    "10.0.0.5", "172.16.0.1", "192.168.1.1", "100.64.0.1",                       # private, shared (CGNAT)
    "169.254.169.254", "[fe80::1]", "[fc00::1]", "[fd12:3456::1]",                # link-local, metadata, ULA
    "224.0.0.1", "240.0.0.1", "255.255.255.255",                                  # multicast, reserved
    "0x7f000001", "2130706433", "0177.0.0.1", "127.1", "0x7f.1", "017700000001",  # encoded IPv4
    "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[::ffff:169.254.169.254]",          # IPv4-mapped IPv6
    "[64:ff9b::a9fe:a9fe]", "[2002:7f00:1::]", "[::127.0.0.1]",                   # NAT64, 6to4, IPv4-compatible
]


@pytest.fixture
def no_loopback(app, monkeypatch):
    monkeypatch.setitem(app.config, "ALLOW_LOOPBACK_WEBHOOKS", False)


@pytest.fixture
def creds(make_api_key):
    return make_api_key("bat-trang")


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def create_endpoint(client, creds, url):
    return client.post("/v1/webhook_endpoints", data={"url": url, "enabled_events[]": "*"}, headers=creds.headers)


def endpoint_count(app) -> int:
    with app.app_context(), all_tenants():
        return db.session.scalar(select(func.count()).select_from(WebhookEndpoint))


# ------------------------------------------------------------------------------------------------ at creation


@pytest.mark.parametrize("host", HOSTILE_HOSTS)
def test_a_private_loopback_link_local_or_encoded_address_is_refused_at_creation(app, client, creds, no_loopback,
                                                                                 host):
    response = create_endpoint(client, creds, f"http://{host}:8080/hooks")
    assert response.status_code == 400, response.get_json()
    error = response.get_json()["error"]
    assert error["param"] == "url" and error["code"] == "url_invalid"
    assert endpoint_count(app) == 0


@pytest.mark.parametrize("url", [
    "https://user:secret@hooks.example/in",        # credentials in the URL
    "https://hooks.example@127.0.0.1/in",         # the "host" before @ is a user name: the host is loopback
    "https://:@hooks.example/in",
    "http://hooks.example:0/in", "http://hooks.example:99999/in",
])
def test_credentials_in_the_url_and_impossible_ports_are_refused(app, client, creds, no_loopback, url):
    response = create_endpoint(client, creds, url)
    assert response.status_code == 400 and response.get_json()["error"]["param"] == "url"
    assert endpoint_count(app) == 0


def test_updating_an_endpoint_to_a_private_address_is_refused(app, client, creds, no_loopback):
    created = create_endpoint(client, creds, "https://hooks.example/in").get_json()
    response = client.post(f"/v1/webhook_endpoints/{created['id']}", data={"url": "http://169.254.169.254/"},
                           headers=creds.headers)
    assert response.status_code == 400 and response.get_json()["error"]["param"] == "url"
    with app.app_context(), all_tenants():
        assert db.session.scalar(select(WebhookEndpoint.url)) == "https://hooks.example/in"


def test_public_addresses_and_names_not_resolvable_yet_are_accepted(client, creds, no_loopback):
    for url in ("https://8.8.8.8/hooks", "https://[2001:4860:4860::8888]/hooks", "https://hooks.example/in"):
        assert create_endpoint(client, creds, url).status_code == 200, url


def test_a_name_resolving_to_a_private_address_is_refused(client, creds, no_loopback, monkeypatch):
    real = socket.getaddrinfo

    def fake(host, *args, **kwargs):
        if host == "intranet.example":  # a public-looking name with one public and one private address
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 443)),
                    (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", 443))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(outbound.socket, "getaddrinfo", fake)
    assert create_endpoint(client, creds, "https://intranet.example/hooks").status_code == 400


def test_loopback_is_allowed_only_when_the_setting_says_so(client, creds):
    assert create_endpoint(client, creds, "http://127.0.0.1:9/hooks").status_code == 200  # testing: allowed
    assert create_endpoint(client, creds, "http://0x7f000001:9/hooks").status_code == 400  # never encoded


# ------------------------------------------------------------------------------------------------ at send time


@pytest.fixture
def stored(app, creds):
    """Store endpoints directly (as an old row, or one changed behind the API's back) and emit one event."""

    def store(*urls: str) -> None:
        with app.app_context(), tenant_context(creds.tenant_id):
            for url in urls:
                db.session.add(WebhookEndpoint(tenant_id=creds.tenant_id, public_id=new_id("we"),
                                               account_id=creds.account_id, url=url, secret=new_id("whsec"),
                                               enabled_events=["payment_intent.created"], status="enabled"))
            db.session.commit()
            from app.payments.models import PaymentAccount

            create_intent(db.session.get(PaymentAccount, creds.account_id), 150_000)
            db.session.remove()

    return store


def delivery_rows(app) -> list[WebhookDelivery]:
    with app.app_context(), all_tenants():
        rows = db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).unique().all()
        db.session.expunge_all()
        return rows


def test_every_loopback_form_is_refused_at_send_time_and_nothing_is_opened(app, stored, receiver, no_loopback):
    port = receiver.server.server_port
    forms = ["127.0.0.1", "localhost", "0x7f000001", "2130706433", "0177.0.0.1", "127.1", "[::ffff:127.0.0.1]"]
    stored(*(f"http://{host}:{port}/hooks" for host in forms))
    with app.app_context():
        assert delivery.deliver_due() == len(forms)
    assert receiver.received == []  # the local service never saw a request
    rows = delivery_rows(app)
    assert [(r.last_status_code, r.last_error, r.status) for r in rows] == [
        (None, outbound.NOT_ALLOWED, "pending")] * len(forms)


@pytest.mark.parametrize("host", [h for h in HOSTILE_HOSTS if h not in ("localhost",)])
def test_every_hostile_address_is_refused_at_send_time(app, stored, no_loopback, host):
    stored(f"http://{host}:8080/hooks")
    with app.app_context():
        assert delivery.deliver_due() == 1
    (row,) = delivery_rows(app)
    assert (row.last_status_code, row.last_error) == (None, outbound.NOT_ALLOWED)


def test_the_worker_connects_to_the_address_it_checked(app, stored, receiver, monkeypatch):
    """The name is resolved once, checked, and the connection goes to that address (a DNS answer that changes
    after the check is never asked for); the request still names the host."""
    port = receiver.server.server_port
    calls = []
    real = socket.getaddrinfo

    def fake(host, *args, **kwargs):
        if host == "merchant.example":
            calls.append(host)
            address = "127.0.0.1" if len(calls) <= 2 else "10.9.9.9"  # rebinding after the checks
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(outbound.socket, "getaddrinfo", fake)
    stored(f"http://merchant.example:{port}/hooks")
    with app.app_context():
        assert delivery.deliver_due() == 1
    assert len(receiver.received) == 1
    assert receiver.received[0]["headers"]["Host"] == f"merchant.example:{port}"
    assert len(calls) == 2  # the pre-send check and the connection's own resolution, nothing later
    assert delivery_rows(app)[0].status == "succeeded"


def test_a_name_that_resolves_to_a_private_address_at_send_time_is_refused(app, stored, no_loopback, monkeypatch):
    real = socket.getaddrinfo

    def fake(host, *args, **kwargs):
        if host == "rebound.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", 80))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(outbound.socket, "getaddrinfo", fake)
    stored("http://rebound.example/latest/meta-data/")
    with app.app_context():
        delivery.deliver_due()
    assert delivery_rows(app)[0].last_error == outbound.NOT_ALLOWED


def test_a_replaced_http_client_is_never_called_for_a_refused_address(app, stored, no_loopback):
    calls = []
    stored("http://10.0.0.1/hooks", "http://[::ffff:10.0.0.1]/hooks")
    with app.app_context():
        delivery.deliver_due(session_post=lambda *a, **k: calls.append(a) or (200, ""))
    assert calls == []
    assert {r.last_error for r in delivery_rows(app)} == {outbound.NOT_ALLOWED}


def test_an_internal_answer_is_never_stored(app, stored, receiver):
    """With loopback allowed (development), an answer's body still never reaches the delivery log."""
    receiver.status = 500
    stored(receiver.url)
    with app.app_context():
        delivery.deliver_due()
    (row,) = delivery_rows(app)
    assert (row.last_status_code, row.last_error) == (500, "HTTP 500")
