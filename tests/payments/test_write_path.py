"""The write path's fewer round trips (issue #17) answer what the longer path answered.

- creating an intent takes no savepoint: a reference code drawn twice runs the request again with a fresh one;
- its two events are one INSERT, in order, each with its deliveries and the intent as it was created;
- a bank transfer takes no savepoint either: a twin that passed the duplicate check at the same moment runs the
  notification again, which answers "already recorded", and the money is counted once;
- the two duplicate checks of a transfer are one query, the provider's own transaction id still coming first;
- a transfer no intent can match is written whole (tenant, status) by its INSERT, with no UPDATE after it;
- an API key, its account and its commune's status are one query, and an inactive commune's key still answers 401.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.payments import intents as intents_module
from app.payments.accounts import authenticate_api_key
from app.payments.bank import reconciliation
from app.payments.bank.notifications import BankTransaction
from app.payments.intents import serialize
from app.payments.models import Event, PaymentAccount, PaymentIntent, WebhookDelivery, WebhookEndpoint
from tenants.models import Tenant
from tenants.scoping import all_tenants, tenant_context
from tests.conftest import count_queries, data_statements
from tests.payments.helpers import (
    ACCOUNT_A,
    event_types,
    intent_state,
    make_intent,
    post_sepay,
    sepay_payload,
    transfers,
)


def _create(client, creds, **data):
    return client.post("/v1/payment_intents", headers=creds.headers,
                       data={"amount": "150000", "currency": "vnd", **data})


def _intents(app, tenant_id):
    with app.app_context(), tenant_context(tenant_id):
        return db.session.execute(select(PaymentIntent.public_id, PaymentIntent.reference_code)
                                  .order_by(PaymentIntent.id)).all()


# --- intents ----------------------------------------------------------------------------------------------------

def test_a_reference_code_drawn_twice_runs_the_request_again_with_a_fresh_code(app, client, make_api_key,
                                                                              monkeypatch):
    creds = make_api_key()
    first = _create(client, creds).get_json()
    draws = iter([first["reference"]])  # the next draw repeats the first intent's code, then chance takes over
    real_draw = intents_module.new_reference_code
    monkeypatch.setattr(intents_module, "new_reference_code", lambda prefix: next(draws, None) or real_draw(prefix))

    response = _create(client, creds, description="the second")

    assert response.status_code == 200, response.get_data(as_text=True)
    second = response.get_json()
    assert second["reference"] != first["reference"] and second["description"] == "the second"
    stored = _intents(app, creds.tenant_id)
    assert [row.public_id for row in stored] == [first["id"], second["id"]]  # the failed run left nothing
    assert len({row.reference_code for row in stored}) == 2
    assert event_types(app, second["id"]) == ["payment_intent.created", "payment_intent.requires_action"]


def test_another_integrity_error_is_not_run_again(app, make):
    """Only a duplicate key runs the unit of work again; a missing account (a foreign key) is a bug, said once."""
    from sqlalchemy.exc import IntegrityError

    from app import transactions

    assert not transactions.is_retryable(IntegrityError("INSERT", {}, Exception("FOREIGN KEY constraint failed")))
    error = IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed: payment_intents.reference_code"))
    with pytest.raises(IntegrityError):
        with transactions.run_again_on_duplicate():
            raise error
    assert transactions.is_retryable(error)


def test_the_two_events_are_one_insert_in_order_with_their_deliveries(app, make_api_key):
    creds = make_api_key()
    with app.app_context(), tenant_context(creds.tenant_id):
        for events, url in ((["*"], "https://hooks.example.vn/all"),
                            (["payment_intent.requires_action"], "https://hooks.example.vn/one")):
            db.session.add(WebhookEndpoint(public_id=f"we_{len(url)}{events[0][:3]}", account_id=creds.account_id,
                                           url=url, secret="whsec_x", enabled_events=events))
        db.session.commit()
        account = db.session.get(PaymentAccount, creds.account_id)
        with count_queries(app) as statements:
            intent = intents_module.create_intent(account, 90_000, description="Lệ phí", request_id="req_1",
                                                  idempotency_key="key-1")
        answer = serialize(intent)
        db.session.commit()
        assert not [s for s in statements if "SAVEPOINT" in s]
        inserts = [s for s in data_statements(statements) if s.startswith("INSERT INTO payment_events")]
        if db.engine.dialect.name == "postgresql":  # SQLite's are two (in process: no round trip to save)
            assert len(inserts) == 1
        intent_id = intent.id
        db.session.expunge_all()
        events = db.session.scalars(select(Event).where(Event.intent_id == intent_id).order_by(Event.id)).all()
        assert [e.type for e in events] == ["payment_intent.created", "payment_intent.requires_action"]
        assert [e.data for e in events] == [{"object": answer}] * 2
        assert answer == serialize(db.session.get(PaymentIntent, intent_id))  # a fresh read answers the same
        assert {(e.request_id, e.idempotency_key) for e in events} == {("req_1", "key-1")}
        deliveries = db.session.execute(
            select(WebhookDelivery.event_id, WebhookEndpoint.url).join(
                WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id).order_by(WebhookDelivery.id)
        ).all()
        created, requires_action = events
        assert sorted(deliveries) == sorted([
            (created.id, "https://hooks.example.vn/all"),
            (requires_action.id, "https://hooks.example.vn/all"),
            (requires_action.id, "https://hooks.example.vn/one"),
        ])


# --- API keys ---------------------------------------------------------------------------------------------------

def test_the_key_its_account_and_its_communes_status_are_one_query(app, make_api_key):
    creds = make_api_key()
    with app.app_context():
        with count_queries(app) as statements:
            key = authenticate_api_key(creds.secret)
        assert key is not None and key.id == creds.key_id and key.account.id == creds.account_id
        assert len([s for s in data_statements(statements) if s.lstrip().upper().startswith("SELECT")]) == 1


def test_an_inactive_communes_key_is_refused(app, client, make_api_key):
    creds = make_api_key()
    with app.app_context():
        db.session.execute(update(Tenant).where(Tenant.id == creds.tenant_id).values(status="inactive"))
        db.session.commit()
    response = _create(client, creds)
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "api_key_invalid"
    assert _intents(app, creds.tenant_id) == []


# --- bank transfers ---------------------------------------------------------------------------------------------

@pytest.mark.usefixtures("bank_secrets")
def test_a_twin_that_passed_the_check_at_the_same_moment_is_counted_once(app, client, intent, monkeypatch):
    """The second delivery's check does not see the first (as when the first had not committed yet): its INSERT
    meets the unique key, the notification runs again, finds the first, and answers success; paid once."""
    payload = sepay_payload(ACCOUNT_A, intent.reference_code, 150_000, txn_id=4242)
    assert post_sepay(client, payload).status_code == 200
    real_check, calls = reconciliation._existing, []

    def blind_once(txn, bank_bin):
        calls.append(txn.provider_txn_id)
        return None if len(calls) == 1 else real_check(txn, bank_bin)

    monkeypatch.setattr(reconciliation, "_existing", blind_once)
    response = post_sepay(client, payload)

    assert response.status_code == 200 and response.get_json() == {"success": True}
    assert calls == ["4242", "4242"]  # ran again once
    [stored] = transfers(app)
    assert stored["status"] == "matched" and stored["intent_id"] == intent.id
    assert intent_state(app, intent.public_id)["amount_received"] == 150_000
    assert event_types(app, intent.public_id).count("payment_intent.succeeded") == 1


def _transaction(txn_id: str, reference: str | None, provider: str = "sepay", content: str = "khong co ma"):
    return BankTransaction(provider=provider, provider_txn_id=txn_id, amount=10_000, content=content,
                           account_number=ACCOUNT_A, bank="Vietcombank", occurred_at=datetime.now(timezone.utc),
                           reference=reference, raw={})


def _confirm(app, txn):
    from app import transactions

    with app.app_context():
        outcome = transactions.run(lambda: reconciliation.confirm_transfer(txn))
        return outcome.transfer.id, outcome.duplicate


def test_one_query_finds_a_duplicate_by_transaction_id_first_then_by_bank_reference(app, account):
    first, _ = _confirm(app, _transaction("A", "FT001"))
    second, _ = _confirm(app, _transaction("B", "FT002", provider="casso"))
    # Both rows match (one by its transaction id, the other by its reference): the transaction id wins, as when the
    # reference was only asked after the transaction id had found nothing.
    assert _confirm(app, _transaction("A", "FT002")) == (first, True)
    assert _confirm(app, _transaction("Z", "FT002")) == (second, True)  # by the reference alone
    assert _confirm(app, _transaction("B", None, provider="casso")) == (second, True)  # no reference: the id alone
    with app.app_context():
        with count_queries(app) as statements:
            assert reconciliation._existing(_transaction("Q", "FT003"), "970436") is None
    assert len([s for s in data_statements(statements) if "FROM bank_transfers" in s]) == 1
    assert len(transfers(app)) == 2


@pytest.mark.parametrize("direction", ["in", "out"])
@pytest.mark.usefixtures("bank_secrets")
def test_a_transfer_no_intent_can_match_is_written_whole_without_an_update(app, client, account, commune,
                                                                          direction):
    with count_queries(app) as statements:
        response = post_sepay(client, sepay_payload(ACCOUNT_A, "chuyen tien khong ma", 80_000,
                                                    transfer_type=direction))
    assert response.status_code == 200
    assert not [s for s in statements if "SAVEPOINT" in s or s.startswith("UPDATE bank_transfers")]
    [stored] = transfers(app)
    assert stored["tenant_id"] == commune.id and stored["intent_id"] is None
    assert stored["status"] == ("unmatched" if direction == "in" else "outgoing")


@pytest.mark.usefixtures("bank_secrets")
def test_a_matched_transfer_is_still_settled_after_its_insert(app, client, account, intent):
    other = make_intent(app, account, 150_000)
    assert post_sepay(client, sepay_payload(ACCOUNT_A, f"nop {other.reference_code}", 150_000)).status_code == 200
    [stored] = transfers(app)
    assert (stored["status"], stored["tenant_id"], stored["intent_id"]) == ("matched", other.tenant_id, other.id)
    assert intent_state(app, other.public_id)["status"] == "succeeded"
    with app.app_context(), all_tenants():
        assert db.session.get(PaymentIntent, intent.id).status == "requires_action"


# --- the rate limiter's Redis round trips -----------------------------------------------------------------------

@pytest.fixture
def redis_storage():
    redis = pytest.importorskip("redis")
    from limits.storage import RedisStorage

    from tests.conftest import TEST_REDIS_URL

    try:
        redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"Redis is not running at {TEST_REDIS_URL}")
    storage = RedisStorage(TEST_REDIS_URL, key_prefix="test-write-path", wrap_exceptions=True)
    yield storage
    storage.reset()


def test_the_header_figures_are_limits_own_in_one_round_trip(redis_storage, monkeypatch):
    from limits import parse
    from limits.strategies import FixedWindowRateLimiter

    from app.extensions import _OneTripWindows

    item = parse("5 per minute")
    ours, theirs = _OneTripWindows(redis_storage), FixedWindowRateLimiter(redis_storage)
    for hits in range(7):  # below, at and past the limit; and before the first hit (no key yet)
        reset, remaining = ours.get_window_stats(item, "api-key:1")
        their_reset, their_remaining = theirs.get_window_stats(item, "api-key:1")
        assert remaining == their_remaining == max(0, 5 - hits)
        assert abs(reset - their_reset) < 1.5  # the same TTL, read a moment apart
        ours.hit(item, "api-key:1")
    connection = redis_storage.get_connection(True).connection_pool.connection_class
    sent = []
    real_send = connection.send_packed_command
    monkeypatch.setattr(connection, "send_packed_command",
                        lambda self, command, check_health=True: sent.append(command) or real_send(self, command,
                                                                                                  check_health))
    ours.get_window_stats(item, "api-key:1")
    assert len(sent) == 1


def test_a_redis_failure_is_limits_storage_error(redis_storage, monkeypatch):
    """What makes the limiter fall back to counting in memory, as with limits' own calls."""
    import redis
    from limits import parse
    from limits.errors import StorageError

    from app.extensions import _OneTripWindows

    def down(*args, **kwargs):
        raise redis.exceptions.ConnectionError("down")

    monkeypatch.setattr(redis.client.Pipeline, "execute", down)
    with pytest.raises(StorageError):
        _OneTripWindows(redis_storage).get_window_stats(parse("5 per minute"), "api-key:1")


def test_the_api_answers_with_the_same_rate_limit_headers(app, client, make_api_key, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "5 per minute")
    creds = make_api_key()
    answers = [_create(client, creds) for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["4", "3", "2", "1", "0", "0"]
    assert {a.headers["X-RateLimit-Limit"] for a in answers} == {"5"}
    assert 0 < int(answers[-1].headers["Retry-After"]) <= 60


# --- the receiving accounts, read once ----------------------------------------------------------------------------

def test_the_receiving_accounts_picked_from_the_receivers_read_are_those_a_query_finds(app, make):
    from dataclasses import replace

    from tests.payments.helpers import ACCOUNT_B, make_account

    a = make_account(app, make.tenant("xa-a", "Xã A"), ACCOUNT_A, bank_bin="970436")
    b = make_account(app, make.tenant("xa-b", "Xã B"), ACCOUNT_A, bank_bin="970415")  # the same number elsewhere
    c = make_account(app, make.tenant("xa-c", "Xã C"), ACCOUNT_B, bank_bin="970436")
    with app.app_context(), all_tenants():
        from app.payments.models import PaymentAccount

        read = tuple(db.session.scalars(select(PaymentAccount).order_by(PaymentAccount.id)))
        cases = 0
        for number in (ACCOUNT_A, ACCOUNT_B, f" {ACCOUNT_A} ", "999"):
            for bank_bin in (None, "970436", "970415"):
                for account_ids in (None, (a.id,), (b.id, c.id), ()):
                    txn = replace(_transaction("X", None), account_number=number, bank_bin=bank_bin,
                                  account_ids=account_ids)
                    asked = reconciliation._receiving_accounts(txn)
                    with count_queries(app) as statements:
                        picked = reconciliation._receiving_accounts(
                            replace(txn, accounts_read=(frozenset({ACCOUNT_A, ACCOUNT_B}), read)))
                    assert [x.id for x in picked] == [x.id for x in asked], (number, bank_bin, account_ids)
                    if number.strip() in (ACCOUNT_A, ACCOUNT_B):
                        assert data_statements(statements) == []
                    cases += 1
        assert cases == 48


@pytest.mark.usefixtures("bank_secrets")
def test_a_notification_reads_the_payment_accounts_once(app, client, intent):
    with count_queries(app) as statements:
        response = post_sepay(client, sepay_payload(ACCOUNT_A, intent.reference_code, 150_000))
    assert response.status_code == 200
    assert len([s for s in data_statements(statements) if "FROM payment_accounts" in s
                and s.lstrip().startswith("SELECT payment_accounts")]) == 1
    [stored] = transfers(app)
    assert (stored["status"], stored["intent_id"]) == ("matched", intent.id)


def test_rate_limits_off_start_and_on_redis_get_the_one_trip_strategy(redis_storage):
    """``GialamLimiter.init_app`` replaces the strategy only when Flask-Limiter made one on Redis: with
    RATELIMIT_ENABLED false it makes no storage, and reading ``Limiter.storage`` then failed an assertion, so a fresh
    process with rate limits off (bench_scale.py) did not start. A fresh limiter each, as in a new process."""
    from flask import Flask

    from app.extensions import GialamLimiter, _OneTripWindows
    from tests.conftest import TEST_REDIS_URL

    def initialised(enabled: bool) -> GialamLimiter:
        flask_app = Flask(f"limits-{enabled}")
        flask_app.config.update(RATELIMIT_ENABLED=enabled, RATELIMIT_STORAGE_URI=TEST_REDIS_URL)
        limiter = GialamLimiter(key_func=lambda: "the same caller")
        limiter.init_app(flask_app)
        return limiter

    assert not initialised(False).enabled
    assert type(initialised(True)._limiter) is _OneTripWindows
