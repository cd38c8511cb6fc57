"""Row locks, taken in one order everywhere (docs/payments.md, "Lock order").

Two transactions that lock the same two rows in opposite orders deadlock; the only cure is one order. Every row
lock of the application goes through ``lock_one`` or ``lock_all``, which take the rows ``SELECT ... FOR UPDATE``,
re-read (an object already in the session must not keep values read before the lock was granted), and check the
order: within one transaction, a table may be locked only if no table later in ``ORDER`` is already locked. A
breach raises ``LockOrderError`` under tests and development, and is logged in production.

The order is money first, then the records money pays for:

    bank_transfers  <  payment_intents  <  payment_refunds  <  domain rows

and among domain rows the order of ``ORDER`` below (an order before its parts, a part before its products).
Tables are named, not imported: the core knows no domain. Each model's named helper (``lock_intent``,
``lock_dossier``...) lives in its package and calls these.
"""

from __future__ import annotations

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.extensions import db

ORDER: tuple[str, ...] = (
    # money
    "bank_transfers",
    "payment_intents",
    "payment_refunds",
    # what money pays for, each domain's own rows in the order its services take them
    "onestop_dossiers",
    "market_sales",
    "orders",
    "sub_orders",
    "products",
    # the audit trail's chain heads: locked at commit, after everything else (app/audit/chain.py)
    "audit_heads",
)
_RANK = {name: rank for rank, name in enumerate(ORDER)}
_HELD = "locks_held"


class LockOrderError(RuntimeError):
    """A lock asked for out of the documented order: two such paths can deadlock each other."""


def rank(table: str) -> int:
    try:
        return _RANK[table]
    except KeyError:
        raise LockOrderError(f"{table} has no place in app.locks.ORDER: add it where it belongs") from None


def _check(session: Session, table: str) -> None:
    mine = rank(table)
    held: set[str] = session.info.setdefault(_HELD, set())
    later = sorted((name for name in held if _RANK[name] > mine), key=_RANK.__getitem__)
    if later:
        message = f"lock on {table} asked for after {', '.join(later)} (app.locks.ORDER)"
        if not has_app_context() or current_app.testing or current_app.debug:
            raise LockOrderError(message)
        current_app.logger.error(message)
    held.add(table)


def _locked(model, criteria, order_by):
    _check(db.session, model.__table__.name)
    query = select(model).where(*criteria).with_for_update(of=model).execution_options(populate_existing=True)
    return query.order_by(*(order_by if order_by is not None else model.__table__.primary_key.columns))


def lock_one(model, *criteria):
    """The one row of ``model`` matching ``criteria``, locked until the transaction ends and re-read; None if none."""
    return db.session.scalars(_locked(model, criteria, None)).first()


def lock_all(model, *criteria, order_by=None) -> list:
    """Every row of ``model`` matching ``criteria``, locked in primary-key order (two transactions locking
    overlapping sets take them in the same order), and re-read."""
    return list(db.session.scalars(_locked(model, criteria, order_by)))


def forget(session: Session) -> None:
    session.info.pop(_HELD, None)


from sqlalchemy import event  # noqa: E402


@event.listens_for(Session, "after_transaction_end")
def _released(session: Session, transaction) -> None:
    """Locks end with the outermost transaction (a savepoint's end keeps them)."""
    if transaction.parent is None:
        forget(session)
