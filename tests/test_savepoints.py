"""Savepoints stay inside the unit of work on every database (app/transactions.py, ``savepoint``).

pysqlite opens SQLite's transaction only at the first write, so a SAVEPOINT taken before any write of the unit of
work is the outermost one, and its RELEASE commits what it wrapped: a rollback of the unit of work then kept it.
Every ``begin_nested`` of the application goes through ``transactions.savepoint``, which opens the transaction
first; each test below writes in a savepoint as the first write of a unit of work that then rolls back."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app import transactions
from app.extensions import db
from tenants.notices.models import Notice
from tenants.scoping import tenant_context


class _Refused(Exception):
    pass


def _count(app, tenant, model) -> int:
    with app.app_context(), tenant_context(tenant):
        return db.session.scalar(select(func.count()).select_from(model))


def test_a_savepoint_taken_before_any_write_is_rolled_back_with_the_unit_of_work(app, make):
    tenant = make.tenant("bat-trang", "Bát Tràng")

    def work():
        with tenant_context(tenant.id):
            with transactions.savepoint():
                db.session.add(Notice(title="in a savepoint", body="", published=True))
                db.session.flush()
        raise _Refused()

    with app.app_context(), pytest.raises(_Refused):
        transactions.run(work)
    assert _count(app, tenant, Notice) == 0


def test_a_plain_begin_nested_would_have_committed_on_sqlite(app, make):
    """The problem itself, so that the helper's reason stays visible (PostgreSQL nests either way)."""
    tenant = make.tenant("bat-trang", "Bát Tràng")
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite only")
        with tenant_context(tenant.id):
            with db.session.begin_nested():
                db.session.add(Notice(title="in a savepoint", body="", published=True))
                db.session.flush()
        db.session.rollback()
    assert _count(app, tenant, Notice) == 1


def test_a_bank_transfer_recorded_first_in_a_failed_unit_of_work_is_not_kept(app, make):
    """The transfer is the first write of a bank notification's unit of work (once in a savepoint, whose RELEASE
    committed it on SQLite): a failure after it must leave no transfer."""
    import uuid
    from datetime import datetime, timezone

    from app.payments.bank.notifications import BankTransaction
    from app.payments.bank.reconciliation import confirm_transfer
    from tests.payments.helpers import ACCOUNT_A, make_account, transfers

    make_account(app, make.tenant("xa-a", "Xã A"), ACCOUNT_A)

    def work():
        confirm_transfer(BankTransaction(
            provider="sepay", provider_txn_id=uuid.uuid4().hex, amount=10_000, content="khong ma",
            account_number=ACCOUNT_A, bank="Vietcombank", occurred_at=datetime.now(timezone.utc), reference=None,
            raw={}))
        raise _Refused()

    with app.app_context(), pytest.raises(_Refused):
        transactions.run(work)
    assert transfers(app) == []


def test_every_savepoint_of_the_application_goes_through_the_helper():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    found = [str(path.relative_to(root)) for top in ("app", "tenants", "marketplace")
             for path in (root / top).rglob("*.py") if "begin_nested(" in path.read_text(encoding="utf-8")]
    assert found == ["app/transactions.py"]
