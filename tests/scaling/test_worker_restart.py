"""A gunicorn worker is restarted when it has grown (gunicorn.conf.py's post_request), not every 10,000 requests.

At 10,000 requests a worker serving cached pages restarted every few seconds, paying a boot (1.5-3 s of CPU) and an
empty response cache each time, and the two workers' first restarts fell together (issue #17, bench/README.md).
"""

from __future__ import annotations

import logging

from tests.scaling.test_serving import gunicorn_settings


class _Worker:
    def __init__(self, nr: int):
        self.nr = nr
        self.alive = True
        self.log = logging.getLogger("test.worker")


def _hook(settings, resident: float | None):
    hook = settings["post_request"]
    hook.__globals__["resident_mb"] = lambda: resident
    return hook


def test_the_count_is_a_backstop_far_above_what_cached_pages_reach_in_minutes(monkeypatch):
    settings = gunicorn_settings(monkeypatch)
    assert settings["max_requests"] >= 1_000_000
    # jitter of a tenth: two workers started together never restart together
    assert settings["max_requests_jitter"] == settings["max_requests"] // 10
    assert settings["max_worker_mb"] == 300
    assert gunicorn_settings(monkeypatch, GUNICORN_MAX_REQUESTS="5000")["max_requests_jitter"] == 500


def test_a_worker_above_its_memory_bound_finishes_the_request_and_exits(monkeypatch):
    settings = gunicorn_settings(monkeypatch)
    every = settings["MEMORY_CHECK_EVERY"]
    hook = _hook(settings, resident=301.0)
    worker = _Worker(every - 1)
    hook(worker, None, {}, None)
    assert worker.alive  # checked every MEMORY_CHECK_EVERY requests only
    worker.nr = every
    hook(worker, None, {}, None)
    assert not worker.alive


def test_a_worker_within_its_bound_or_unmeasured_goes_on(monkeypatch):
    settings = gunicorn_settings(monkeypatch)
    every = settings["MEMORY_CHECK_EVERY"]
    for resident in (120.0, 300.0, None):  # None: no /proc (not Linux)
        worker = _Worker(every * 3)
        _hook(settings, resident)(worker, None, {}, None)
        assert worker.alive, resident


def test_the_bound_comes_from_the_environment_and_zero_turns_it_off(monkeypatch):
    every = gunicorn_settings(monkeypatch)["MEMORY_CHECK_EVERY"]
    low = gunicorn_settings(monkeypatch, GUNICORN_MAX_WORKER_MB="100")
    worker = _Worker(every)
    _hook(low, 150.0)(worker, None, {}, None)
    assert not worker.alive
    off = gunicorn_settings(monkeypatch, GUNICORN_MAX_WORKER_MB="0")
    worker = _Worker(every)
    _hook(off, 10_000.0)(worker, None, {}, None)
    assert worker.alive


def test_this_process_resident_memory_is_read(monkeypatch):
    size = gunicorn_settings(monkeypatch)["resident_mb"]()
    assert size is None or 5 < size < 10_000


def test_a_real_worker_above_its_bound_is_replaced_and_no_request_fails(database, tmp_path):
    """gunicorn with gunicorn.conf.py calls the hook: with a bound every worker exceeds (1 MB), the one worker is
    replaced every MEMORY_CHECK_EVERY requests, and every request is answered."""
    from tests.scaling.test_serving import Gunicorn

    release_file = tmp_path / "release"
    release_file.write_text("one")
    server = Gunicorn(database, tmp_path, release_file, GUNICORN_MAX_WORKER_MB="1", GUNICORN_WORKERS="1")
    try:
        answers = [server.get("/_test/uploads/release") for _ in range(600)]
    finally:
        server.stop()
    assert None not in answers
    pids = [answer["pid"] for answer in answers]
    assert len(set(pids)) >= 2, set(pids)
