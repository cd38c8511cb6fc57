"""Issue 16, item 15: the /v1 limits count failed authentications per address, and a key gets its own bucket only
once it authenticates. Before, the bucket was keyed by whatever credentials were presented: a made-up key per
request was never limited."""

from __future__ import annotations

import secrets


def _made_up() -> dict:
    return {"Authorization": f"Bearer sk_test_{secrets.token_hex(12)}"}


def test_a_made_up_key_per_request_is_limited_by_its_address(app, client, make_api_key, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    monkeypatch.setitem(app.config, "API_AUTH_FAILURE_LIMIT", "100 per minute")
    answers = [client.get("/v1/payment_intents", headers=_made_up()) for _ in range(4)]
    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    assert answers[-1].get_json()["error"]["code"] == "rate_limit"
    key = make_api_key("bat-trang")  # a working key from the same address has its own bucket
    assert client.get("/v1/payment_intents", headers=key.headers).status_code == 200


def test_failed_authentications_are_counted_per_address(app, client, make_api_key, monkeypatch):
    monkeypatch.setitem(app.config, "API_AUTH_FAILURE_LIMIT", "3 per minute")
    guesser = {"REMOTE_ADDR": "203.0.113.9"}
    answers = [client.get("/v1/payment_intents", headers=_made_up(), environ_base=guesser).status_code
               for _ in range(4)]
    assert answers == [401, 401, 401, 429]
    assert client.get("/v1/payment_intents", environ_base=guesser).status_code == 429  # no key at all: also refused
    # another address is not affected; a working key is served even from the guesser's address
    assert client.get("/v1/payment_intents", headers=_made_up(),
                      environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 401
    key = make_api_key("bat-trang")
    ok = [client.get("/v1/payment_intents", headers=key.headers, environ_base=guesser).status_code for _ in range(5)]
    assert ok == [200] * 5  # successes are not failures: they never count against the address


def test_an_untrusted_host_on_v1_gets_the_apis_json_error(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "TRUSTED_HOSTS", ["gialam.example.vn"])
    response = client.get("/v1/payment_intents", base_url="http://evil.example")
    assert response.status_code == 400 and response.is_json
    assert response.get_json()["error"]["type"] == "invalid_request_error"
    page = client.get("/", base_url="http://evil.example")
    assert page.status_code == 400 and not page.is_json  # elsewhere the page, as before
