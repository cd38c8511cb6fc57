"""The unit of work: one transaction per request, job or command, committed or rolled back in one place.

A request's view runs inside ``GialamFlask.dispatch_request`` (app/__init__.py), which calls ``run_request``:

- the view returns a response below 400: the transaction commits; 400 and above (a form re-rendered with its
  errors, a 404): it rolls back, so a refused action leaves nothing behind;
- the view raises (a ``DomainError``, ``abort``, any exception): it rolls back, and the exception goes on to the
  error handlers (app/__init__.py turns a domain error into a flash and a redirect for pages, and the API's
  handlers into Stripe's JSON);
- a deadlock or a serialization failure (PostgreSQL), or a locked SQLite database, rolls back and runs the whole
  view again, up to ``TRANSACTION_ATTEMPTS`` times, with what it flashed undone and its uploads rewound.

Services and payments functions only flush. Jobs and CLI commands use ``run(work)``, the same unit of work outside
a request. The few commits elsewhere (the API's idempotency records, bank-statement imports streamed row by row,
bulk seeding) say so where they are; tests/test_import_rules.py lists them. docs/payments.md, "Transactions".
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from flask import current_app, has_app_context, request, session
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.extensions import db

T = TypeVar("T")

DEFAULT_ATTEMPTS = 3
# PostgreSQL: deadlock_detected, serialization_failure. SQLite: "database is locked" (busy_timeout ran out).
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
_AFTER_COMMIT = "after_commit_callbacks"
_RUN_AGAIN = "run_unit_of_work_again"


class RetriesExhausted(RuntimeError):
    """A unit of work lost to deadlocks every time it ran: answered 503 with Retry-After (app/__init__.py)."""


def is_retryable(exc: BaseException) -> bool:
    """A failure that says nothing about the work itself: running it again may succeed."""
    if not isinstance(exc, DBAPIError):
        return False
    if getattr(exc, _RUN_AGAIN, False):  # a unique key taken first (``run_again_on_duplicate``)
        return True
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    return type(orig).__name__ == "OperationalError" and "database is locked" in str(orig)


def attempts() -> int:
    if has_app_context():
        return max(1, int(current_app.config.get("TRANSACTION_ATTEMPTS", DEFAULT_ATTEMPTS)))
    return DEFAULT_ATTEMPTS


def after_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` once the current unit of work has committed (never if it rolls back): work that must see
    the commit, such as storing an API answer under its idempotency key."""
    db.session.info.setdefault(_AFTER_COMMIT, []).append(callback)


@contextmanager
def savepoint() -> Iterator[None]:
    """``db.session.begin_nested()`` that stays inside the unit of work on every database: the one way to take a
    savepoint (a duplicate key caught and drawn again, a row that may already exist).

    pysqlite opens SQLite's transaction only at the first write, so a SAVEPOINT taken before any write would be
    the outermost one, and its RELEASE commits what it wrapped even if the unit of work then rolls back. On SQLite
    the transaction is opened first (BEGIN), so the savepoint is nested in it as on PostgreSQL."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        driver = connection.connection.driver_connection
        if driver is not None and not driver.in_transaction:
            connection.exec_driver_sql("BEGIN")
    with db.session.begin_nested():
        yield


def is_unique_violation(exc: BaseException) -> bool:
    """A duplicate key (PostgreSQL's unique_violation, SQLite's "UNIQUE constraint failed"), not another
    integrity error (a foreign key, a NOT NULL)."""
    if not isinstance(exc, IntegrityError):
        return False
    orig = exc.orig
    return getattr(orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(orig)


@contextmanager
def run_again_on_duplicate() -> Iterator[None]:
    """A write whose unique key is rarely taken first (a random code drawn twice, a twin notification inserted at
    the same moment): a duplicate key rolls back and runs the whole unit of work again, like a deadlock (at most
    ``TRANSACTION_ATTEMPTS`` times, then 503). Cheaper than ``savepoint()``, which costs two round trips on every
    write for a conflict that almost never happens (issue #17). Only where running again cannot meet the same key:
    a fresh random draw, or a unit of work that looks for the row first and so answers from what the other wrote."""
    try:
        yield
    except IntegrityError as exc:
        if is_unique_violation(exc):
            setattr(exc, _RUN_AGAIN, True)
        raise


def _commit() -> None:
    db.session.commit()
    _run_after_commit()


def _run_after_commit() -> None:
    callbacks = db.session.info.pop(_AFTER_COMMIT, [])
    for callback in callbacks:
        callback()


def _untouched() -> bool:
    """The request's session began no transaction and holds no change: committing would begin an empty transaction
    (and run the commit hooks over nothing) only to end it. What the hooks do needs a transaction: the audit trail
    and the cache's stamp note flushed writes, the idempotency mark is written in the work's own transaction."""
    session = db.session()
    return not session.in_transaction() and not (session.new or session.dirty or session.deleted)


def _rollback() -> None:
    db.session.rollback()
    db.session.info.pop(_AFTER_COMMIT, None)


def _pause(attempt: int) -> None:
    """A short random wait, longer each time, so two transactions that deadlocked do not meet again at once."""
    time.sleep(random.uniform(0.005, 0.03) * attempt)


def run(work: Callable[[], T], *, retries: int | None = None) -> T:
    """Run ``work()`` as one transaction (jobs, CLI commands, tests): commit when it returns, roll back when it
    raises, run it again after a deadlock. Returns what ``work`` returned."""
    total = retries or attempts()
    for attempt in range(1, total + 1):
        try:
            result = work()
            _commit()
            return result
        except BaseException as exc:
            _rollback()
            if not is_retryable(exc) or attempt == total:
                if is_retryable(exc):
                    raise RetriesExhausted(f"gave up after {total} attempts: {exc.orig}") from exc
                raise
            current_app.logger.info("retrying a unit of work after %s (attempt %d)", type(exc.orig).__name__,
                                    attempt)
            _pause(attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _rewind_uploads() -> None:
    for upload in request.files.values():
        try:
            upload.stream.seek(0)
        except (AttributeError, OSError, ValueError):  # pragma: no cover - werkzeug spools uploads, seekable
            pass


def run_request(view: Callable[[], object]):
    """The request's unit of work around the view (``view`` calls it and returns what it returned)."""
    total = attempts()
    flashes = list(session.get("_flashes", ())) if "_flashes" in session else None
    for attempt in range(1, total + 1):
        try:
            response = current_app.make_response(view())
            if response.status_code < 400:
                if _untouched():  # nothing read or written: no transaction to begin only to commit (issue #17)
                    _run_after_commit()
                else:
                    _commit()
            else:
                _rollback()
            return response
        except BaseException as exc:
            _rollback()
            if not is_retryable(exc):
                raise
            if attempt == total:
                raise RetriesExhausted(f"gave up after {total} attempts: {exc.orig}") from exc
            current_app.logger.info("retrying %s %s after %s (attempt %d)", request.method, request.path,
                                    type(exc.orig).__name__, attempt)
            if flashes is None:
                session.pop("_flashes", None)
            else:
                session["_flashes"] = list(flashes)
            _rewind_uploads()
            _pause(attempt)
    raise AssertionError("unreachable")  # pragma: no cover
