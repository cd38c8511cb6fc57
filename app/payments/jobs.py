"""The payments' jobs: the worker's rounds (``flask payments worker``, in the one job loop of app/jobs.py: expire
overdue intents, prune old idempotency keys) and the one expiry command (``flask payments expire``). See docs/payments.md.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from app import transactions
from app.jobs import Round, run_loop
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


def rounds() -> list[Round]:
    """The payments worker's round: expire overdue intents (first, so a cancellation's own event goes out in the
    same round), prune old idempotency keys hourly, deliver due webhooks, then the notifications (app/notify)."""
    return [
        Round("expired", lambda _limit, _stop: expire_intents()),
        Round("pruned", lambda _limit, _stop: prune_idempotency_records(), every=PRUNE_EVERY_SECONDS),
        Round("webhooks", lambda limit, stop: deliver_due(limit=limit, should_stop=stop), batch=True),
        Round("notifications", notify_worker.run_round, batch=True),
    ]


def _summary(counts: dict[str, int]) -> str:
    sent = counts.get("webhooks", 0) + counts.get("notifications", 0)
    return f"webhooks sent: {sent}; payment intents expired: {counts.get('expired', 0)}"


def run_worker(*, once: bool = False, interval: float = 2.0, limit: int = 100,
               echo: Callable[[str], None] = print, stop: threading.Event | None = None) -> int:
    """``flask payments worker``: ``rounds()`` in the one job loop (app/jobs.py) until SIGTERM/SIGINT or ``stop``."""
    return run_loop(rounds(), name="Payments worker", once=once, interval=interval, limit=limit, echo=echo,
                    stop=stop, summary=_summary)
