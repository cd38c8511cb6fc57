"""The one job loop: rounds of work until SIGTERM/SIGINT or a stop event, for every worker command.

``flask payments worker`` runs it with the payments' rounds and the notifications' (app/payments/jobs.py), ``flask
notify worker`` with the notifications' alone (app/notify/worker.py). A round is a function of (limit, should_stop)
that runs its own units of work (app/transactions.py) and returns how much it did. docs/decisions.md, "One job loop".
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.clock import utcnow
from app.extensions import db

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Round:
    """One step of a worker's round. ``every``: seconds between two runs (0: every round). ``batch``: the step
    takes at most ``limit`` items, so a full batch means more is waiting and the loop goes again at once."""

    name: str
    run: Callable[[int, Callable[[], bool]], int]
    every: float = 0.0
    batch: bool = False


def _default_summary(counts: dict[str, int]) -> str:
    return "; ".join(f"{name}: {count}" for name, count in counts.items())


def run_loop(rounds: Sequence[Round], *, name: str, once: bool = False, interval: float = 2.0, limit: int = 100,
             echo: Callable[[str], None] = print, stop: threading.Event | None = None,
             summary: Callable[[dict[str, int]], str] = _default_summary) -> int:
    """Run ``rounds`` in order, sleep ``interval``, again; until SIGTERM/SIGINT or ``stop``. Returns the number of
    rounds run.

    A signal lets the current item finish (each round is given ``stop.is_set`` and gives back what it leased),
    then the loop exits cleanly. A failing step (database away, say) is logged, the other steps still run, and the
    loop retries after ``interval``; with ``once`` it raises. Signal handlers are installed only in the main thread
    and restored on the way out. A line is echoed for a round that did something (every round with ``once``).
    """
    stop = stop or threading.Event()
    last_run: dict[str, float] = {}
    previous: dict[int, object] = {}
    if not once and threading.current_thread() is threading.main_thread():
        def _on_signal(signum, _frame):
            echo(f"Received {signal.Signals(signum).name}: finishing the current item, then stopping.")
            stop.set()

        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, _on_signal)
    if not once:
        echo(f"{name} started (every {interval:g} s, {limit} per batch). Stop with Ctrl-C.")
    count = 0
    try:
        while not stop.is_set():
            count += 1
            counts: dict[str, int] = {}
            busy = False
            for step in rounds:
                if step.every and time.monotonic() - last_run.get(step.name, float("-inf")) < step.every:
                    continue
                try:
                    counts[step.name] = done = step.run(limit, stop.is_set)
                    last_run[step.name] = time.monotonic()
                    busy = busy or (step.batch and done >= limit)
                except Exception:  # the step rolled its own unit of work back (app/transactions.py)
                    if once:
                        raise
                    log.exception("%s: %s failed; retrying in %s s", name, step.name, interval)
                finally:
                    db.session.remove()  # give the connection back between steps
            if once or any(counts.values()):
                echo(f"{utcnow():%Y-%m-%d %H:%M:%SZ} {summary(counts)}")
            if once:
                break
            if not busy:
                stop.wait(interval)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not once:
        echo(f"{name} stopped.")
    return count
