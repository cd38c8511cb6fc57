"""The district dashboard's 12-month trend is computed once for every worker (issue #17): the first worker to miss
computes it and stores it in Redis for ``DISTRICT_TREND_SECONDS``, the others read it (or wait for it); the shared
answer equals the one computed in place. Needs Redis (TEST_REDIS_URL), skipped otherwise like tests/scaling."""

from __future__ import annotations

import threading
import time
from datetime import date, datetime, timezone

import pytest

from app import create_app
from app.district import queries
from app.extensions import db
from tests.conftest import CHEAP_ARGON2, TEST_REDIS_URL
from tests.district.test_dashboard import _paid
from tests.scaling import servers

PREFIX = "trend-test:"


@pytest.fixture
def redis_client():
    client = servers.redis_client()
    for key in client.scan_iter(match=f"{PREFIX}*"):
        client.delete(key)
    yield client
    for key in client.scan_iter(match=f"{PREFIX}*"):
        client.delete(key)


def _worker(database, seconds: int = 600):
    """Another app, as another gunicorn worker would be: its own memory, the same database and Redis."""
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database["app_url"], "SECRET_KEY": "x",
                       **CHEAP_ARGON2, "CACHE_REDIS_URL": TEST_REDIS_URL, "CACHE_KEY_PREFIX": PREFIX,
                       "DISTRICT_TREND_SECONDS": seconds})


@pytest.fixture
def two_workers(app, database, redis_client):
    workers = [_worker(database), _worker(database)]
    yield workers
    for worker in workers:
        with worker.app_context():
            db.engine.dispose()


def test_one_computation_serves_every_worker_and_equals_the_live_trend(app, make, two_workers, monkeypatch):
    a, b = make.tenant("bat-trang", "Bát Tràng"), make.tenant("kieu-ky", "Kiêu Kỵ")
    _paid(app, a, 100_000, datetime(2026, 10, 31, 16, 59, tzinfo=timezone.utc), "3001")
    _paid(app, b, 200_000, datetime(2026, 10, 31, 17, 0, tzinfo=timezone.utc), "3002")
    _paid(app, a, 400_000, datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc), "3003")
    end = date(2026, 11, 30)
    with app.app_context():  # DISTRICT_TREND_SECONDS = 0: the live answer
        live = queries.monthly_trend([a.id, b.id], end, months=3)
    assert [t["money_received"] for _m, t in live] == [0, 100_000, 600_000]

    computed = []
    real = queries._monthly_trend
    monkeypatch.setattr(queries, "_monthly_trend", lambda *args: computed.append(args) or real(*args))
    first, second = two_workers
    with first.app_context():
        assert queries.monthly_trend([a.id, b.id], end, months=3) == live
    with second.app_context():
        assert queries.monthly_trend([b.id, a.id], end, months=3) == live  # the same set, in another order
    assert len(computed) == 1
    with second.app_context():  # another set of communes is another trend
        assert queries.monthly_trend([a.id], end, months=3) != live
    assert len(computed) == 2


def test_a_worker_waits_for_the_one_computing_it_instead_of_computing_it_too(two_workers, monkeypatch):
    computed = []
    started = threading.Event()

    def slow(ids, end, months, history=None):
        computed.append(threading.get_ident())
        started.set()
        time.sleep(0.5)
        return [(date(2026, 11, 1), {"payments": 7})]

    monkeypatch.setattr(queries, "_monthly_trend", slow)
    first, second = two_workers
    answers = []

    def ask(worker):
        with worker.app_context():
            answers.append(queries.monthly_trend([1, 2], date(2026, 11, 30)))

    thread = threading.Thread(target=ask, args=(first,))
    thread.start()
    assert started.wait(5)
    ask(second)  # starts while the first computes
    thread.join()
    assert len(computed) == 1
    assert answers == [[(date(2026, 11, 1), {"payments": 7})]] * 2


def test_the_shared_trend_expires_after_district_trend_seconds(database, redis_client, monkeypatch):
    worker = _worker(database, seconds=1)
    monkeypatch.setattr(queries, "_monthly_trend", lambda ids, end, months, history=None: [(end, {"n": len(ids)})])
    with worker.app_context():
        key = queries._trend_key([1], date(2026, 11, 30), 12)
        queries.monthly_trend([1], date(2026, 11, 30))
        assert 0 < redis_client.ttl(key) <= 1
        db.engine.dispose()


def test_without_redis_answering_the_trend_is_computed_in_the_worker(database, monkeypatch):
    worker = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database["app_url"], "SECRET_KEY": "x",
                         "CACHE_REDIS_URL": "redis://127.0.0.1:1/0", "CACHE_KEY_PREFIX": PREFIX,
                         "DISTRICT_TREND_SECONDS": 600, "REDIS_TIMEOUT_SECONDS": 0.2})
    computed = []
    monkeypatch.setattr(queries, "_monthly_trend", lambda ids, end, months, history=None: computed.append(1) or [(end, {"n": 1})])
    with worker.app_context():
        assert queries.monthly_trend([1], date(2026, 11, 30)) == [(date(2026, 11, 30), {"n": 1})]
        assert queries.monthly_trend([1], date(2026, 11, 30)) == [(date(2026, 11, 30), {"n": 1})]
        db.engine.dispose()
    assert len(computed) == 1  # kept in the worker meanwhile


def test_redis_failing_after_the_computation_does_not_make_it_computed_twice(two_workers, monkeypatch):
    computed = []
    monkeypatch.setattr(queries, "_monthly_trend", lambda ids, end, months, history=None: computed.append(1) or [(end, {"n": 1})])
    worker = two_workers[0]
    with worker.app_context():
        client = queries.shared_trends()
        real_set = client.set

        def set_fails_for_the_answer(name, value, **kwargs):
            if not name.endswith(":computing"):
                raise ConnectionError("Redis went away")
            return real_set(name, value, **kwargs)

        monkeypatch.setattr(client, "set", set_fails_for_the_answer)
        assert queries.monthly_trend([1], date(2026, 11, 30)) == [(date(2026, 11, 30), {"n": 1})]
        assert client.get(queries._trend_key([1], date(2026, 11, 30), 12) + ":computing") is None  # let go
    assert len(computed) == 1
