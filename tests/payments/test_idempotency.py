"""Idempotency-Key: replay, parameter mismatch, in-progress conflicts (409), stored errors, release on 5xx, pruning."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import requests
from sqlalchemy import delete, func, select, update

from app.extensions import db
from app.payments.api.idempotency import fingerprint, prune_idempotency_records
from app.clock import utcnow
from app.payments.models import IdempotencyRecord, PaymentIntent
from tenants.scoping import all_tenants, tenant_context

PATH = "/v1/payment_intents"
BODY = {"amount": "150000", "currency": "vnd", "metadata[order]": "A1"}


@pytest.fixture
def creds(make_api_key):
    return make_api_key("bat-trang")


def post(client, creds, data, key, path=PATH):
    return client.post(path, data=data, headers={**creds.headers, "Idempotency-Key": key})


def intent_count(app, creds) -> int:
    with app.app_context(), tenant_context(creds.tenant_id):
        count = db.session.scalar(select(func.count()).select_from(PaymentIntent))
        db.session.remove()
    return count


def records(app, creds) -> list[IdempotencyRecord]:
    with app.app_context(), tenant_context(creds.tenant_id):
        rows = list(db.session.scalars(select(IdempotencyRecord).order_by(IdempotencyRecord.id)))
        db.session.remove()
    return rows


def test_same_key_same_parameters_replays_the_first_response(client, creds, app):
    first = post(client, creds, BODY, "order-A1")
    assert first.status_code == 200 and "Idempotent-Replayed" not in first.headers
    again = post(client, creds, dict(reversed(list(BODY.items()))), "order-A1")  # order of fields is irrelevant
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert again.headers["Request-Id"] != first.headers["Request-Id"]
    assert intent_count(app, creds) == 1
    events = client.get("/v1/events", headers=creds.headers).get_json()["data"]
    assert len(events) == 2  # created + requires_action, once
    [record] = records(app, creds)
    assert (record.key, record.response_status) == ("order-A1", 200) and record.completed_at is not None


def test_same_key_other_parameters_is_an_idempotency_error(client, creds, app):
    assert post(client, creds, BODY, "k1").status_code == 200
    response = post(client, creds, {**BODY, "amount": "160000"}, "k1")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["type"] == "idempotency_error"
    assert "same parameters" in error["message"]
    # another endpoint with the same key is other parameters too
    intent_id = client.get(PATH, headers=creds.headers).get_json()["data"][0]["id"]
    other = post(client, creds, {}, "k1", path=f"{PATH}/{intent_id}/cancel")
    assert other.get_json()["error"]["type"] == "idempotency_error"
    assert intent_count(app, creds) == 1
    assert client.get(f"{PATH}/{intent_id}", headers=creds.headers).get_json()["status"] == "requires_action"


def test_keys_belong_to_one_api_account(client, creds, make_api_key, app):
    other = make_api_key("bat-trang", "Chợ", account_number="0011001234567")
    mine = post(client, creds, BODY, "shared-key").get_json()
    theirs = post(client, other, BODY, "shared-key")
    assert theirs.status_code == 200 and "Idempotent-Replayed" not in theirs.headers
    assert theirs.get_json()["id"] != mine["id"]


def test_validation_errors_are_stored_and_replayed(client, creds, app):
    bad = {"amount": "abc", "currency": "vnd"}
    first = post(client, creds, bad, "bad-1")
    assert first.status_code == 400 and first.get_json()["error"]["param"] == "amount"
    again = post(client, creds, bad, "bad-1")
    assert again.status_code == 400 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    fixed = post(client, creds, {"amount": "1000", "currency": "vnd"}, "bad-1")  # a fix needs a new key
    assert fixed.get_json()["error"]["type"] == "idempotency_error"
    assert intent_count(app, creds) == 0
    # a domain error raised deep in a service (cancel twice) is stored the same way
    intent = post(client, creds, BODY, "create-2").get_json()
    assert post(client, creds, {}, "cancel-a", path=f"{PATH}/{intent['id']}/cancel").status_code == 200
    twice = post(client, creds, {}, "cancel-b", path=f"{PATH}/{intent['id']}/cancel")
    assert twice.status_code == 400
    replayed = post(client, creds, {}, "cancel-b", path=f"{PATH}/{intent['id']}/cancel")
    assert replayed.headers["Idempotent-Replayed"] == "true" and replayed.get_json() == twice.get_json()


def test_request_in_progress_is_409(client, creds, app):
    with app.app_context(), tenant_context(creds.tenant_id):
        db.session.add(IdempotencyRecord(account_id=creds.account_id, key="busy",
                                         request_fingerprint=fingerprint("POST", PATH, list(BODY.items())),
                                         created_at=utcnow()))
        db.session.commit()
        db.session.remove()
    response = post(client, creds, BODY, "busy")
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert (error["type"], error["code"]) == ("idempotency_error", "idempotency_key_in_use")
    assert "another in-progress request" in error["message"]
    # other parameters while in progress: the mismatch is the answer
    assert post(client, creds, {**BODY, "amount": "1"}, "busy").status_code == 400
    assert intent_count(app, creds) == 0


def test_server_errors_release_the_key(client, creds, app, monkeypatch):
    from app.payments.api import intents as api_intents

    real = api_intents.create_intent
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(api_intents, "create_intent", flaky)
    failed = post(client, creds, BODY, "retry-me")
    assert failed.status_code == 500 and failed.get_json()["error"]["type"] == "api_error"
    assert records(app, creds) == []
    retried = post(client, creds, BODY, "retry-me")
    assert retried.status_code == 200 and "Idempotent-Replayed" not in retried.headers
    assert len(calls) == 2 and intent_count(app, creds) == 1


def age(app, creds, key, by=timedelta(seconds=61)) -> None:
    """Make a key's record older (by default just past the 60-second lease)."""
    with app.app_context(), tenant_context(creds.tenant_id):
        db.session.execute(update(IdempotencyRecord).where(IdempotencyRecord.key == key)
                           .values(created_at=utcnow() - by))
        db.session.commit()
        db.session.remove()


def test_a_key_whose_request_died_before_committing_is_taken_over_after_the_lease(client, creds, app, monkeypatch):
    """gunicorn kills a worker that runs too long with SystemExit: no response, the record left in progress."""
    from app.payments.api import intents as api_intents

    real = api_intents.create_intent
    monkeypatch.setattr(api_intents, "create_intent", lambda *a, **kw: (_ for _ in ()).throw(SystemExit(1)))
    with pytest.raises(SystemExit):
        post(client, creds, BODY, "killed")
    [record] = records(app, creds)
    assert record.completed_at is None and record.committed_at is None
    monkeypatch.setattr(api_intents, "create_intent", real)

    assert post(client, creds, BODY, "killed").status_code == 409  # within the lease it may still be running
    age(app, creds, "killed")
    taken_over = post(client, creds, BODY, "killed")
    assert taken_over.status_code == 200 and "Idempotent-Replayed" not in taken_over.headers
    assert intent_count(app, creds) == 1
    replay = post(client, creds, BODY, "killed")
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.get_json()["id"] == taken_over.get_json()["id"]


def die_before_storing_the_response(monkeypatch):
    """The process dies (SystemExit) right after the endpoint committed its work."""
    from app.payments.api import idempotency as api_idempotency

    monkeypatch.setattr(api_idempotency, "_settle", lambda *a: (_ for _ in ()).throw(SystemExit(1)))


def test_work_committed_but_response_lost_is_answered_from_the_work_never_done_twice(client, creds, app,
                                                                                    monkeypatch):
    die_before_storing_the_response(monkeypatch)
    with pytest.raises(SystemExit):
        post(client, creds, BODY, "half-done")
    monkeypatch.undo()
    [record] = records(app, creds)
    assert record.committed_at is not None and record.completed_at is None  # marked in the work's transaction
    assert intent_count(app, creds) == 1
    assert post(client, creds, BODY, "half-done").status_code == 409  # within the lease it may still be running

    age(app, creds, "half-done")
    recovered = post(client, creds, BODY, "half-done")
    assert recovered.status_code == 200 and recovered.headers["Idempotent-Replayed"] == "true"
    [intent] = client.get(PATH, headers=creds.headers).get_json()["data"]
    assert recovered.get_json() == intent  # the intent that request created, as it is now
    assert intent_count(app, creds) == 1
    again = post(client, creds, BODY, "half-done")  # stored: later retries are plain replays
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == recovered.get_json()
    [record] = records(app, creds)
    assert record.response_status == 200 and record.completed_at is not None


def test_a_cancel_whose_response_was_lost_is_answered_with_the_canceled_intent(client, creds, app, monkeypatch):
    created = post(client, creds, BODY, "create").get_json()
    die_before_storing_the_response(monkeypatch)
    with pytest.raises(SystemExit):
        post(client, creds, {}, "cancel", path=f"{PATH}/{created['id']}/cancel")
    monkeypatch.undo()
    age(app, creds, "cancel")
    recovered = post(client, creds, {}, "cancel", path=f"{PATH}/{created['id']}/cancel")
    assert recovered.status_code == 200 and recovered.headers["Idempotent-Replayed"] == "true"
    assert (recovered.get_json()["id"], recovered.get_json()["status"]) == (created["id"], "canceled")


def test_a_webhook_endpoint_whose_response_was_lost_keeps_its_key_busy(client, creds, app, monkeypatch):
    """Its answer (with the signing secret) is not rebuilt: 409 until the key expires, and no second endpoint."""
    body = {"url": "https://shop.example.vn/hooks", "enabled_events[]": "*"}
    die_before_storing_the_response(monkeypatch)
    with pytest.raises(SystemExit):
        post(client, creds, body, "hook", path="/v1/webhook_endpoints")
    monkeypatch.undo()
    age(app, creds, "hook", by=timedelta(hours=1))
    response = post(client, creds, body, "hook", path="/v1/webhook_endpoints")
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "idempotency_key_in_use"
    assert len(client.get("/v1/webhook_endpoints", headers=creds.headers).get_json()["data"]) == 1


def test_a_request_whose_key_was_taken_over_cannot_commit(client, creds, app, monkeypatch):
    """The commit mark is a fence: the slow first request, overtaken by a retry, commits nothing."""
    from app.payments.api import intents as api_intents

    real = api_intents.create_intent

    def overtaken(*args, **kwargs):
        with app.app_context(), tenant_context(creds.tenant_id):  # a retry takes the key over meanwhile
            db.session.execute(delete(IdempotencyRecord))
            db.session.commit()
        return real(*args, **kwargs)

    monkeypatch.setattr(api_intents, "create_intent", overtaken)
    response = post(client, creds, BODY, "slow")
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "idempotency_key_in_use"
    assert intent_count(app, creds) == 0
    events = client.get("/v1/events", headers=creds.headers).get_json()["data"]
    assert events == []


def test_a_server_error_late_in_the_work_never_makes_a_second_intent(client, creds, app, monkeypatch):
    """A failure after the intent was written: either the work committed, and the 500 is stored and replayed (as
    Stripe does), or the unit of work rolled back with it, and the key is free for a retry that does the work once.
    Never a second intent."""
    from app.payments.api import intents as api_intents

    monkeypatch.setattr(api_intents, "serialize", lambda intent: 1 / 0)
    failed = post(client, creds, BODY, "broke-late")
    assert failed.status_code == 500
    left = intent_count(app, creds)
    monkeypatch.undo()
    again = post(client, creds, BODY, "broke-late")
    if left == 1:  # the work committed before the answer failed: replayed, never redone
        assert again.status_code == 500 and again.headers["Idempotent-Replayed"] == "true"
    else:  # the work rolled back with the failure: nothing to replay
        assert left == 0 and again.status_code == 200 and "Idempotent-Replayed" not in again.headers
    assert intent_count(app, creds) == 1


def test_keys_expire_after_24_hours(client, creds, app):
    first = post(client, creds, BODY, "old-key").get_json()
    with app.app_context(), tenant_context(creds.tenant_id):
        db.session.execute(update(IdempotencyRecord).values(created_at=utcnow() - timedelta(hours=25)))
        db.session.commit()
        db.session.remove()
    second = post(client, creds, BODY, "old-key")
    assert second.status_code == 200 and "Idempotent-Replayed" not in second.headers
    assert second.get_json()["id"] != first["id"]
    assert len(records(app, creds)) == 1


def test_prune_deletes_only_old_keys_in_every_commune(client, creds, make_api_key, app):
    other = make_api_key("trau-quy", "Phí")
    post(client, creds, BODY, "a")
    post(client, other, BODY, "b")
    post(client, other, BODY, "c")
    with app.app_context(), all_tenants():
        db.session.execute(update(IdempotencyRecord).where(IdempotencyRecord.key != "c")
                           .values(created_at=utcnow() - timedelta(hours=30)))
        db.session.commit()
        assert prune_idempotency_records() == 2
        assert [r.key for r in db.session.scalars(select(IdempotencyRecord))] == ["c"]
        assert prune_idempotency_records(utcnow() + timedelta(days=2)) == 1
        db.session.remove()


def test_key_rules(client, creds, app):
    too_long = post(client, creds, BODY, "k" * 256)
    assert too_long.status_code == 400 and too_long.get_json()["error"]["type"] == "invalid_request_error"
    assert post(client, creds, BODY, "k" * 255).status_code == 200
    # GET ignores the header; no record is made for it
    response = client.get(PATH, headers={**creds.headers, "Idempotency-Key": "get-key"})
    assert response.status_code == 200 and "Idempotent-Replayed" not in response.headers
    assert [r.key for r in records(app, creds)] == ["k" * 255]
    # authentication comes first: a bad key stores nothing
    assert client.post(PATH, data=BODY, headers={"Authorization": "Bearer sk_test_nope",
                                                 "Idempotency-Key": "x"}).status_code == 401
    assert len(records(app, creds)) == 1


def test_concurrent_duplicates_get_one_200_and_one_409(live_server, creds, app, monkeypatch):
    """Two clients send the same key at the same moment; the first request is slow."""
    from app.payments.api import intents as api_intents

    real = api_intents.create_intent

    def slow(*args, **kwargs):
        time.sleep(0.5)
        return real(*args, **kwargs)

    monkeypatch.setattr(api_intents, "create_intent", slow)
    barrier = threading.Barrier(2)
    responses = []

    def send():
        barrier.wait()
        responses.append(requests.post(f"{live_server}{PATH}", data=BODY, timeout=20,
                                       headers={**creds.headers, "Idempotency-Key": "race"}))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(r.status_code for r in responses) == [200, 409]
    winner = next(r for r in responses if r.status_code == 200)
    loser = next(r for r in responses if r.status_code == 409)
    assert loser.json()["error"]["code"] == "idempotency_key_in_use"

    replay = requests.post(f"{live_server}{PATH}", data=BODY, timeout=20,
                           headers={**creds.headers, "Idempotency-Key": "race"})
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == winner.json()["id"]
    assert intent_count(app, creds) == 1
