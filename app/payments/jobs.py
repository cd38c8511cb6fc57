"""The payments' jobs: the worker's loop (``flask payments worker``: expire overdue intents, deliver due webhooks,
prune old idempotency keys) and the one expiry command (``flask payments expire``). See docs/payments.md.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable

from app import transactions
from app.clock import utcnow
from app.extensions import db
from app.notify import worker as notify_worker
from app.payments.api.idempotency import prune_idempotency_records
from app.payments.intents import expire_due
from app.payments.webhooks.delivery import deliver_due

log = logging.getLogger(__name__)

PRUNE_EVERY_SECONDS = 3600  # idempotency keys live 24 h; pruning hourly is plenty


def expire_intents() -> int:
    """Cancel every payment intent past its expiry, in every commune, in one unit of work. Each domain hears of its
    own (a marketplace sub-order gives its held stock back) in the same transaction."""
    return transactions.run(expire_due)


def expire() -> tuple[int, int]:
    """``flask payments expire``: (intents expired, idempotency keys pruned)."""
    return expire_intents(), prune_idempotency_records()


def run_worker(*, once: bool = False, interval: float = 2.0, limit: int = 100,
               echo: Callable[[str], None] = print, stop: threading.Event | None = None) -> int:
    """Loop: expire overdue intents, deliver due webhooks, sleep ``interval``; until SIGTERM/SIGINT or ``stop``.

    A signal lets the current delivery finish, gives back the rest of the batch and exits cleanly. A failing
    round (database away, say) is logged and retried after ``interval``; with ``once`` it raises. Returns the
    number of rounds run. Signal handlers are installed only in the main thread and restored on the way out.
    """
    stop = stop or threading.Event()
    last_prune = 0.0
    previous: dict[int, object] = {}
    if not once and threading.current_thread() is threading.main_thread():
        def _on_signal(signum, _frame):
            echo(f"Received {signal.Signals(signum).name}: finishing the current delivery, then stopping.")
            stop.set()

        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, _on_signal)
    rounds = 0
    if not once:
        echo(f"Payments worker started (every {interval:g} s, {limit} deliveries per round). Stop with Ctrl-C.")
    try:
        while not stop.is_set():
            rounds += 1
            sent = 0
            try:
                expired = expire_intents()
                if time.monotonic() - last_prune > PRUNE_EVERY_SECONDS:
                    prune_idempotency_records()
                    last_prune = time.monotonic()
                sent = deliver_due(limit=limit, should_stop=stop.is_set)
                sent += notify_worker.run_round(limit, stop.is_set)  # notifications: the same runner (app/notify)
                if once or expired or sent:
                    echo(f"{_stamp()} webhooks sent: {sent}; payment intents expired: {expired}")
            except Exception:  # each step rolled its own unit of work back (app/transactions.py)
                if once:
                    raise
                log.exception("payments worker round failed; retrying in %s s", interval)
            finally:
                db.session.remove()  # give the connection back between rounds
            if once:
                break
            if sent < limit:  # a full batch means more is waiting: go again at once
                stop.wait(interval)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not once:
        echo("Payments worker stopped.")
    return rounds


def _stamp() -> str:
    return utcnow().strftime("%Y-%m-%d %H:%M:%SZ")
