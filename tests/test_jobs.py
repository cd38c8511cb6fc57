"""The one job loop (app/jobs.py): steps in order, a failing step logged while the others still run, a step with
``every`` skipped until due, a full batch going again at once, a stop event ending the loop."""

from __future__ import annotations

import threading

import pytest

from app.jobs import Round, run_loop


def _step(calls, name, result=0, fail=False):
    def run(limit, should_stop):
        calls.append(name)
        if fail:
            raise RuntimeError(f"{name} broke")
        return result(len(calls)) if callable(result) else result

    return run


def test_once_runs_each_step_in_order_and_echoes_the_summary(app):
    calls, lines = [], []
    with app.app_context():
        ran = run_loop([Round("a", _step(calls, "a", 2)), Round("b", _step(calls, "b", 0))], name="Test worker",
                       once=True, echo=lines.append)
    assert ran == 1 and calls == ["a", "b"]
    assert len(lines) == 1 and lines[0].endswith("a: 2; b: 0")


def test_once_raises_a_failing_step(app):
    with app.app_context(), pytest.raises(RuntimeError, match="broke"):
        run_loop([Round("a", _step([], "a", fail=True))], name="Test worker", once=True, echo=lambda _l: None)


def test_a_failing_step_does_not_stop_the_others_and_every_and_batch_are_honoured(app):
    calls, lines = [], []
    stop = threading.Event()

    def last(limit, should_stop):
        calls.append("last")
        if calls.count("last") == 3:
            stop.set()
        return limit if calls.count("last") == 1 else 0  # a full batch once: the loop goes again without waiting

    with app.app_context():
        ran = run_loop([Round("broken", _step(calls, "broken", fail=True)),
                        Round("hourly", _step(calls, "hourly", 1), every=3600),
                        Round("last", last, batch=True)],
                       name="Test worker", interval=0.01, limit=5, stop=stop, echo=lines.append)
    assert ran == 3
    assert calls.count("broken") == 3 and calls.count("hourly") == 1 and calls.count("last") == 3
    assert lines[0] == "Test worker started (every 0.01 s, 5 per batch). Stop with Ctrl-C."
    assert lines[-1] == "Test worker stopped."
