"""The Stripe-compatible API through the Flask test client: happy paths, every error path, isolation, queries."""

from __future__ import annotations

import base64
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.payments import vietqr
from app.clock import utcnow
from tests.payments.helpers import create_intent
from app.payments.models import ApiKey, PaymentAccount, PaymentIntent
from tenants.scoping import tenant_context
from tests.conftest import count_queries


@pytest.fixture
def creds(make_api_key):
    return make_api_key("bat-trang")


def post(client, creds, path, data=None, **headers):
    return client.post(path, data=data or {}, headers={**creds.headers, **headers})


def get(client, creds, path, **params):
    return client.get(path, query_string=params, headers=creds.headers)


def create(client, creds, amount=150000, metadata=None, **extra):
    data = {"amount": str(amount), "currency": "vnd", **extra}
    data.update({f"metadata[{key}]": value for key, value in (metadata or {}).items()})
    response = post(client, creds, "/v1/payment_intents", data)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def error_of(response, status):
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/json"
    assert response.headers["Request-Id"].startswith("req_")
    return response.get_json()["error"]


def make_intents(app, creds, count, amount=10000):
    with app.app_context(), tenant_context(creds.tenant_id):
        account = db.session.get(PaymentAccount, creds.account_id)
        ids = [create_intent(account, amount + n).public_id for n in range(count)]
        db.session.remove()
    return ids


# ------------------------------------------------------------------------------------------------ happy paths


def test_create_returns_a_vietqr_intent(client, creds):
    response = post(client, creds, "/v1/payment_intents",
                    {"amount": "150000", "currency": "vnd", "description": "Phí chứng thực",
                     "metadata[order]": "A1", "metadata[2024]": "x", "payment_method_types[0]": "vietqr",
                     "confirm": "true", "automatic_payment_methods[enabled]": "false", "expand[]": "latest_charge"},
                    **{"Stripe-Version": "2020-08-27"})
    assert response.status_code == 200
    assert response.headers["Request-Id"].startswith("req_")
    body = response.get_json()
    assert body["object"] == "payment_intent" and body["id"].startswith("pi_")
    assert (body["amount"], body["currency"], body["status"]) == (150000, "vnd", "requires_action")
    assert body["metadata"] == {"order": "A1", "2024": "x"}
    assert body["description"] == "Phí chứng thực"
    assert body["payment_method_types"] == ["vietqr"]
    action = body["next_action"]
    assert action["type"] == "vietqr_display_qr_code"
    qr = action["vietqr_display_qr_code"]
    decoded = vietqr.decode(qr["data"])
    assert (decoded.bin, decoded.account, decoded.amount) == ("970415", "113000583", 150000)
    assert body["reference"] in decoded.memo
    png = urlsplit(qr["image_url_png"])
    assert png.path == f"/pay/{body['id']}/qr.png"
    assert png.query.startswith("v=")  # content-addressed: cacheable for a year
    assert urlsplit(qr["image_url_svg"]).path == f"/pay/{body['id']}/qr.svg"
    assert qr["hosted_instructions_url"].endswith(f"/pay/{body['id']}")


def test_basic_auth_with_the_key_as_user_name(client, creds):
    token = base64.b64encode(f"{creds.secret}:".encode()).decode()
    response = client.get("/v1/payment_intents", headers={"Authorization": f"Basic {token}"})
    assert response.status_code == 200
    assert response.get_json() == {"object": "list", "data": [], "has_more": False, "url": "/v1/payment_intents"}


def test_retrieve_update_and_cancel(client, creds):
    intent = create(client, creds, metadata={"a": "1", "b": "2"})
    assert get(client, creds, f"/v1/payment_intents/{intent['id']}").get_json() == intent

    updated = post(client, creds, f"/v1/payment_intents/{intent['id']}",
                   {"amount": "200000", "description": "new", "metadata[a]": "", "metadata[c]": "3"}).get_json()
    assert updated["amount"] == 200000 and updated["description"] == "new"
    assert updated["metadata"] == {"b": "2", "c": "3"}
    assert vietqr.decode(updated["next_action"]["vietqr_display_qr_code"]["data"]).amount == 200000
    cleared = post(client, creds, f"/v1/payment_intents/{intent['id']}", {"metadata": ""}).get_json()
    assert cleared["metadata"] == {}

    canceled = post(client, creds, f"/v1/payment_intents/{intent['id']}/cancel",
                    {"cancellation_reason": "duplicate"}).get_json()
    assert canceled["status"] == "canceled" and canceled["cancellation_reason"] == "duplicate"
    assert canceled["next_action"] is None and canceled["canceled_at"]


def test_list_pagination_newest_first(client, creds, app):
    ids = make_intents(app, creds, 7)
    newest_first = ids[::-1]
    page = get(client, creds, "/v1/payment_intents", limit=3).get_json()
    assert [i["id"] for i in page["data"]] == newest_first[:3] and page["has_more"] is True
    page = get(client, creds, "/v1/payment_intents", limit=3, starting_after=newest_first[2]).get_json()
    assert [i["id"] for i in page["data"]] == newest_first[3:6] and page["has_more"] is True
    page = get(client, creds, "/v1/payment_intents", limit=3, starting_after=newest_first[5]).get_json()
    assert [i["id"] for i in page["data"]] == newest_first[6:] and page["has_more"] is False
    page = get(client, creds, "/v1/payment_intents", limit=2, ending_before=newest_first[3]).get_json()
    assert [i["id"] for i in page["data"]] == newest_first[1:3] and page["has_more"] is True
    page = get(client, creds, "/v1/payment_intents", limit=5, ending_before=newest_first[3]).get_json()
    assert [i["id"] for i in page["data"]] == newest_first[:3] and page["has_more"] is False
    page = get(client, creds, "/v1/payment_intents").get_json()
    assert len(page["data"]) == 7 and page["has_more"] is False


def test_expiry_is_applied_on_retrieve_and_list(client, creds, app):
    first, second = create(client, creds), create(client, creds)
    with app.app_context(), tenant_context(creds.tenant_id):
        db.session.execute(update(PaymentIntent).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    retrieved = get(client, creds, f"/v1/payment_intents/{first['id']}").get_json()
    assert (retrieved["status"], retrieved["cancellation_reason"]) == ("canceled", "abandoned")
    listed = {i["id"]: i for i in get(client, creds, "/v1/payment_intents").get_json()["data"]}
    assert listed[second["id"]]["status"] == "canceled"
    events = get(client, creds, "/v1/events", type="payment_intent.canceled").get_json()["data"]
    assert sorted(e["data"]["object"]["id"] for e in events) == sorted([first["id"], second["id"]])


def test_the_list_cancels_its_overdue_intents_under_one_lock_and_one_commit(client, creds, app):
    """Committing after each cancellation released the other rows' locks: a bank confirmation landing in between
    was then overwritten with 'canceled' from a stale read. All are canceled in one transaction now."""
    from sqlalchemy import event

    made = [create(client, creds) for _ in range(3)]
    with app.app_context(), tenant_context(creds.tenant_id):
        db.session.execute(update(PaymentIntent).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    commits = []
    with app.app_context():
        listener = lambda session: commits.append(1)  # noqa: E731
        event.listen(db.session.registry().__class__, "after_commit", listener)
        try:
            listed = get(client, creds, "/v1/payment_intents").get_json()["data"]
        finally:
            event.remove(db.session.registry().__class__, "after_commit", listener)
    assert {i["id"]: i["status"] for i in listed} == {i["id"]: "canceled" for i in made}
    assert len(commits) == 1


def test_events_list_retrieve_and_filters(client, creds):
    intent = create(client, creds)
    response = post(client, creds, f"/v1/payment_intents/{intent['id']}/cancel", **{"Idempotency-Key": "cancel-1"})
    events = get(client, creds, "/v1/events").get_json()
    assert events["url"] == "/v1/events"
    assert [e["type"] for e in events["data"]] == [
        "payment_intent.canceled", "payment_intent.requires_action", "payment_intent.created"]
    canceled = events["data"][0]
    assert canceled["request"] == {"id": response.headers["Request-Id"], "idempotency_key": "cancel-1"}
    assert canceled["object"] == "event" and canceled["data"]["object"]["id"] == intent["id"]
    assert canceled["pending_webhooks"] == 0
    assert get(client, creds, f"/v1/events/{canceled['id']}").get_json() == canceled
    only = get(client, creds, "/v1/events", type="payment_intent.created").get_json()["data"]
    assert [e["type"] for e in only] == ["payment_intent.created"]
    assert len(get(client, creds, "/v1/events", type="payment_intent.*").get_json()["data"]) == 3
    several = client.get("/v1/events?types[]=payment_intent.created&types[]=payment_intent.canceled",
                         headers=creds.headers).get_json()["data"]
    assert len(several) == 2


def test_create_records_request_id_and_idempotency_key_in_events(client, creds):
    response = post(client, creds, "/v1/payment_intents", {"amount": "5000", "currency": "vnd"},
                    **{"Idempotency-Key": "order-77"})
    events = get(client, creds, "/v1/events").get_json()["data"]
    assert {e["type"] for e in events} == {"payment_intent.created", "payment_intent.requires_action"}
    for item in events:
        assert item["request"] == {"id": response.headers["Request-Id"], "idempotency_key": "order-77"}


def test_webhook_endpoints_lifecycle(client, creds):
    intent_before = create(client, creds)
    created = post(client, creds, "/v1/webhook_endpoints",
                   {"url": "https://shop.example/hooks", "enabled_events[0]": "payment_intent.succeeded",
                    "enabled_events[1]": "payment_intent.canceled", "description": "shop",
                    "metadata[env]": "test", "api_version": "2024-06-20"}).get_json()
    assert created["object"] == "webhook_endpoint" and created["id"].startswith("we_")
    assert created["secret"].startswith("whsec_")
    assert created["enabled_events"] == ["payment_intent.succeeded", "payment_intent.canceled"]
    assert created["status"] == "enabled" and created["metadata"] == {"env": "test"}
    retrieved = get(client, creds, f"/v1/webhook_endpoints/{created['id']}").get_json()
    assert "secret" not in retrieved
    listed = get(client, creds, "/v1/webhook_endpoints").get_json()
    assert [e["id"] for e in listed["data"]] == [created["id"]] and "secret" not in listed["data"][0]

    post(client, creds, f"/v1/payment_intents/{intent_before['id']}/cancel")
    canceled_event = get(client, creds, "/v1/events", type="payment_intent.canceled").get_json()["data"][0]
    assert canceled_event["pending_webhooks"] == 1

    updated = post(client, creds, f"/v1/webhook_endpoints/{created['id']}",
                   {"disabled": "true", "enabled_events[]": "*", "metadata[env]": ""}).get_json()
    assert (updated["status"], updated["enabled_events"], updated["metadata"]) == ("disabled", ["*"], {})

    deleted = client.delete(f"/v1/webhook_endpoints/{created['id']}", headers=creds.headers)
    assert deleted.get_json() == {"id": created["id"], "object": "webhook_endpoint", "deleted": True}
    error = error_of(get(client, creds, f"/v1/webhook_endpoints/{created['id']}"), 404)
    assert error["code"] == "resource_missing"


# ------------------------------------------------------------------------------------------------ authentication


def test_missing_key_is_401(client):
    error = error_of(client.get("/v1/payment_intents"), 401)
    assert error["type"] == "invalid_request_error" and "did not provide an API key" in error["message"]


@pytest.mark.parametrize("header", ["Bearer sk_test_wrongwrongwrongabcd", "Bearer pk_test_x", "Token abc",
                                    "Bearer " + "sk_test_" + "a" * 300])
def test_bad_key_is_401(client, creds, header):
    response = client.get("/v1/payment_intents", headers={"Authorization": header})
    error = error_of(response, 401)
    assert error["message"].startswith("Invalid API Key provided: ")
    assert error["code"] == "api_key_invalid"
    assert creds.secret not in error["message"]


def test_bad_key_is_masked(client, creds):
    response = client.get("/v1/payment_intents", headers={"Authorization": "Bearer sk_test_wrongwrongwrongabcd"})
    assert error_of(response, 401)["message"] == "Invalid API Key provided: sk_test_****abcd"


def test_revoked_key_is_401(client, creds, app):
    assert get(client, creds, "/v1/payment_intents").status_code == 200
    with app.app_context(), tenant_context(creds.tenant_id):
        db.session.execute(update(ApiKey).where(ApiKey.id == creds.key_id).values(revoked_at=utcnow()))
        db.session.commit()
    assert error_of(get(client, creds, "/v1/payment_intents"), 401)["code"] == "api_key_invalid"


def test_inactive_account_key_is_401(client, creds, app):
    with app.app_context(), tenant_context(creds.tenant_id):
        db.session.execute(update(PaymentAccount).values(active=False))
        db.session.commit()
    error_of(get(client, creds, "/v1/payment_intents"), 401)


# -------------------------------------------------------------------------------------------- parameter errors


@pytest.mark.parametrize(
    ("data", "param", "code"),
    [
        ({"currency": "vnd"}, "amount", "parameter_missing"),
        ({"amount": "", "currency": "vnd"}, "amount", "parameter_missing"),
        ({"amount": "abc", "currency": "vnd"}, "amount", "parameter_invalid_integer"),
        ({"amount": "1500.5", "currency": "vnd"}, "amount", "parameter_invalid_integer"),
        ({"amount[x]": "1", "currency": "vnd"}, "amount", "parameter_invalid_integer"),
        ({"amount": "-5", "currency": "vnd"}, "amount", "amount_too_small"),
        ({"amount": "0", "currency": "vnd"}, "amount", "amount_too_small"),
        ({"amount": "10000000000000", "currency": "vnd"}, "amount", "amount_too_large"),
        ({"amount": "9" * 5000, "currency": "vnd"}, "amount", "amount_too_large"),
        ({"amount": "1000"}, "currency", "parameter_missing"),
        ({"amount": "1000", "currency": "usd"}, "currency", "parameter_invalid"),
        ({"amount": "1000", "currency": "vnd", "payment_method_types[0]": "card"}, "payment_method_types",
         "payment_intent_invalid_parameter"),
        ({"amount": "1000", "currency": "vnd", "payment_method_types[0]": "vietqr",
          "payment_method_types[1]": "card"}, "payment_method_types", "payment_intent_invalid_parameter"),
        ({"amount": "1000", "currency": "vnd", "foo": "bar"}, "foo", "parameter_unknown"),
        ({"amount": "1000", "currency": "vnd", "description": "x" * 501}, "description", None),
        ({"amount": "1000", "currency": "vnd", "metadata": "oops"}, "metadata", None),
        ({"amount": "1000", "currency": "vnd", "metadata[k]": "v" * 501}, "metadata", None),
        ({"amount": "1000", "currency": "vnd", "confirm": "maybe"}, "confirm", None),
    ],
)
def test_create_parameter_errors(client, creds, data, param, code):
    error = error_of(post(client, creds, "/v1/payment_intents", data), 400)
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    if code:
        assert error["code"] == code
    assert get(client, creds, "/v1/payment_intents").get_json()["data"] == []  # nothing was created


def test_unknown_parameter_message_is_stripes(client, creds):
    error = error_of(post(client, creds, "/v1/payment_intents", {"amount": "1", "currency": "vnd", "foo": "1"}), 400)
    assert error["message"] == "Received unknown parameter: foo"


def test_malformed_brackets_are_400(client, creds):
    error = error_of(post(client, creds, "/v1/payment_intents",
                          {"amount": "1", "currency": "vnd", "metadata[a]": "x", "metadata[a][b]": "y"}), 400)
    assert error["param"].startswith("metadata")


def test_json_body_is_refused(client, creds):
    response = client.post("/v1/payment_intents", json={"amount": 1000, "currency": "vnd"}, headers=creds.headers)
    assert "form-encoded" in error_of(response, 400)["message"]


@pytest.mark.parametrize(("limit", "code"), [("0", "parameter_invalid_integer"), ("101", "parameter_invalid_integer"),
                                             ("ten", "parameter_invalid_integer"), ("-1", "parameter_invalid_integer")])
def test_list_limit_out_of_range(client, creds, limit, code):
    error = error_of(get(client, creds, "/v1/payment_intents", limit=limit), 400)
    assert error["param"] == "limit"
    assert error.get("code") == code


def test_list_limit_bounds_are_accepted(client, creds):
    assert get(client, creds, "/v1/payment_intents", limit=1).status_code == 200
    assert get(client, creds, "/v1/payment_intents", limit=100).status_code == 200


def test_list_cursor_errors(client, creds, make_api_key):
    other = make_api_key("bat-trang", "Chợ")
    foreign = create(client, other)["id"]
    for cursor in ("pi_doesnotexist", foreign):
        error = error_of(get(client, creds, "/v1/payment_intents", starting_after=cursor), 400)
        assert (error["param"], error["code"]) == ("starting_after", "resource_missing")
    mine = create(client, creds)["id"]
    error = error_of(get(client, creds, "/v1/payment_intents", starting_after=mine, ending_before=mine), 400)
    assert error["code"] == "parameters_exclusive"
    assert error_of(get(client, creds, "/v1/payment_intents", foo="1"), 400)["code"] == "parameter_unknown"


def test_update_and_cancel_errors(client, creds):
    intent = create(client, creds)
    path = f"/v1/payment_intents/{intent['id']}"
    assert error_of(post(client, creds, path, {"amount": "0"}), 400)["param"] == "amount"
    assert error_of(post(client, creds, path, {"currency": "usd"}), 400)["param"] == "currency"
    assert error_of(post(client, creds, path, {"status": "succeeded"}), 400)["code"] == "parameter_unknown"
    error = error_of(post(client, creds, f"{path}/cancel", {"cancellation_reason": "bored"}), 400)
    assert error["param"] == "cancellation_reason"

    assert post(client, creds, f"{path}/cancel").status_code == 200
    error = error_of(post(client, creds, f"{path}/cancel"), 400)  # cancel twice
    assert error["code"] == "payment_intent_unexpected_state"
    assert "status of canceled" in error["message"]
    error = error_of(post(client, creds, path, {"metadata[k]": "v"}), 400)  # update a canceled intent
    assert error["code"] == "payment_intent_unexpected_state"
    assert get(client, creds, path).get_json()["metadata"] == {}


def test_webhook_endpoint_parameter_errors(client, creds):
    cases = [
        ({"enabled_events[]": "*"}, "url"),
        ({"url": "ftp://x.example/h", "enabled_events[]": "*"}, "url"),
        ({"url": "https:///nohost", "enabled_events[]": "*"}, "url"),
        ({"url": "javascript:alert(1)", "enabled_events[]": "*"}, "url"),
        ({"url": "https://x.example/h"}, "enabled_events"),
        ({"url": "https://x.example/h", "enabled_events[]": "charge.succeeded"}, "enabled_events[0]"),
        ({"url": "https://x.example/h", "enabled_events[]": "*", "foo": "1"}, "foo"),
    ]
    for data, param in cases:
        assert error_of(post(client, creds, "/v1/webhook_endpoints", data), 400)["param"] == param, data
    assert get(client, creds, "/v1/webhook_endpoints").get_json()["data"] == []


# ------------------------------------------------------------------------------------- isolation and not found


def test_unknown_ids_are_404_resource_missing(client, creds):
    error = error_of(get(client, creds, "/v1/payment_intents/pi_nothere"), 404)
    assert (error["type"], error["code"]) == ("invalid_request_error", "resource_missing")
    assert error["message"] == "No such payment_intent: 'pi_nothere'"
    error_of(get(client, creds, "/v1/events/evt_nothere"), 404)
    error_of(get(client, creds, "/v1/payment_intents/" + "x" * 300), 404)


@pytest.mark.parametrize("same_commune", [True, False], ids=["other-account-same-commune", "other-commune"])
def test_another_accounts_objects_are_invisible(client, make_api_key, same_commune):
    mine = make_api_key("bat-trang", "Phí")
    theirs = make_api_key("bat-trang" if same_commune else "trau-quy", "Chợ", account_number="0011001234567")
    intent = create(client, theirs)
    endpoint = post(client, theirs, "/v1/webhook_endpoints",
                    {"url": "https://x.example/h", "enabled_events[]": "*"}).get_json()
    theirs_event = get(client, theirs, "/v1/events").get_json()["data"][0]

    for path in (f"/v1/payment_intents/{intent['id']}", f"/v1/events/{theirs_event['id']}",
                 f"/v1/webhook_endpoints/{endpoint['id']}"):
        assert error_of(get(client, mine, path), 404)["code"] == "resource_missing", path
    error = error_of(post(client, mine, f"/v1/payment_intents/{intent['id']}", {"metadata[x]": "y"}), 404)
    assert error["message"] == f"No such payment_intent: '{intent['id']}'"
    error_of(post(client, mine, f"/v1/payment_intents/{intent['id']}/cancel"), 404)
    error_of(post(client, mine, f"/v1/webhook_endpoints/{endpoint['id']}", {"disabled": "true"}), 404)
    error_of(client.delete(f"/v1/webhook_endpoints/{endpoint['id']}", headers=mine.headers), 404)
    for path in ("/v1/payment_intents", "/v1/events", "/v1/webhook_endpoints"):
        assert get(client, mine, path).get_json()["data"] == [], path

    # and nothing of theirs changed
    assert get(client, theirs, f"/v1/payment_intents/{intent['id']}").get_json()["status"] == "requires_action"
    assert get(client, theirs, f"/v1/webhook_endpoints/{endpoint['id']}").get_json()["status"] == "enabled"


def test_unknown_route_and_method_are_json(client, creds):
    error = error_of(get(client, creds, "/v1/customers"), 404)
    assert error["message"] == "Unrecognized request URL (GET: /v1/customers)."
    error_of(get(client, creds, "/v1/"), 404)
    response = client.delete("/v1/payment_intents", headers=creds.headers)
    error_of(response, 405)
    assert set(response.headers["Allow"].split(", ")) == {"GET", "POST"}
    error_of(client.get("/v1/customers"), 401)  # no key: nothing about the API's shape is revealed


def test_unexpected_error_is_json_500(client, creds, monkeypatch):
    from app.payments.api import intents as api_intents

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(api_intents, "create_intent", broken)
    error = error_of(post(client, creds, "/v1/payment_intents", {"amount": "1000", "currency": "vnd"}), 500)
    assert error["type"] == "api_error" and "boom" not in error["message"]


# ------------------------------------------------------------------------------------------------ query counts


@pytest.mark.parametrize("path", ["/v1/payment_intents", "/v1/events", "/v1/webhook_endpoints"])
def test_list_query_count_does_not_grow_with_limit(client, creds, app, path):
    make_intents(app, creds, 35)
    for n in range(5):
        post(client, creds, "/v1/webhook_endpoints", {"url": f"https://x.example/{n}", "enabled_events[]": "*"})
    get(client, creds, path, limit=1)  # warm-up: the key's last_used_at is written at most once a minute
    counts = {}
    for limit in (3, 30):
        with count_queries(app) as statements:
            response = get(client, creds, path, limit=limit)
        assert response.status_code == 200
        expected = min(limit, 5) if path == "/v1/webhook_endpoints" else limit
        assert len(response.get_json()["data"]) == expected
        counts[limit] = len(statements)
    assert counts[3] == counts[30], counts
    assert counts[30] <= 8, counts


def test_list_with_cursor_query_count_is_fixed(client, creds, app):
    ids = make_intents(app, creds, 40)
    get(client, creds, "/v1/payment_intents", limit=1)
    counts = []
    for limit in (2, 25):
        with count_queries(app) as statements:
            page = get(client, creds, "/v1/payment_intents", limit=limit, starting_after=ids[-1]).get_json()
        assert len(page["data"]) == limit
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_intent_rows_carry_their_account_in_one_query(app, creds):
    """serialize() reads intent.account: the relationship is joined, so a page costs one SELECT."""
    make_intents(app, creds, 3)
    with app.app_context(), tenant_context(creds.tenant_id):
        with count_queries(app) as statements:
            intents = db.session.scalars(select(PaymentIntent)).all()
            _ = [intent.account.bank_bin for intent in intents]
        assert len([s for s in statements if s.lstrip().upper().startswith("SELECT") and "set_config" not in s]) == 1
        db.session.remove()


def test_nul_characters_are_refused_not_500(client, creds):
    """PostgreSQL text cannot hold NUL: the API answers 400/404 before any query sees one."""
    for data in ({"amount": "1000", "currency": "vnd", "description": "a\x00b"},
                 {"amount": "1000", "currency": "vnd", "metadata[k\x00]": "v"}):
        error_of(post(client, creds, "/v1/payment_intents", data), 400)
    error_of(client.get("/v1/payment_intents/pi_%00x", headers=creds.headers), 404)
    error = error_of(get(client, creds, "/v1/payment_intents", starting_after="pi_\x00"), 400)
    assert error["param"] == "starting_after"
    assert error_of(post(client, creds, "/v1/webhook_endpoints",
                         {"url": "https://x.example/\x00", "enabled_events[]": "*"}), 400)["param"] == "url"


def test_each_key_is_rate_limited_with_a_stripe_shaped_429(app, client, make_api_key, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    busy, calm = make_api_key("bat-trang"), make_api_key("bat-trang", "Chợ")
    answers = [client.get("/v1/payment_intents", headers=busy.headers) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].get_json()["error"]["code"] == "rate_limit"
    assert client.get("/v1/payment_intents", headers=calm.headers).status_code == 200  # another key, its own bucket


def test_a_second_app_in_the_process_does_not_count_api_requests_twice(app, client, database, make_api_key,
                                                                      monkeypatch):
    """Workers and the test suite build more than one app; the API budget stays one budget per key."""
    from app import create_app
    from app.extensions import db
    from tests.conftest import _test_settings

    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    other = create_app({**_test_settings(database["app_url"]), "API_RATE_LIMIT": "3 per minute"})
    with other.app_context():
        db.engine.dispose()
    key = make_api_key("bat-trang")
    answers = [client.get("/v1/payment_intents", headers=key.headers).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]


@pytest.mark.parametrize("method, path, skipped", [
    ("GET", "/pay/pi_x/qr.png", True),      # the payer's QR image: no limit to resolve
    ("GET", "/pay/pi_x/status", True),
    ("HEAD", "/", True),
    ("GET", "/v1/payment_intents", False),  # the API is limited per key, reads too
    ("POST", "/login", False),              # the login limit
    ("POST", "/webhooks/sepay", False),     # the webhook limit
])
def test_only_reads_outside_the_api_skip_the_rate_limiter(app, method, path, skipped):
    from app.extensions import _never_limited

    with app.test_request_context(path, method=method):  # routed: request.blueprint comes from the URL
        assert _never_limited() is skipped
