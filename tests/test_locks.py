"""The one lock order (app/locks.py): a lock asked for after a later table's is refused in tests."""

from __future__ import annotations

import pytest

from app import locks
from app.extensions import db
from app.payments.models import BankTransfer, PaymentIntent
from tenants.scoping import tenant_context


def test_locks_taken_in_the_documented_order_are_granted(app, make):
    tenant = make.tenant("bat-trang")
    with app.app_context(), tenant_context(tenant):
        assert locks.lock_one(BankTransfer, BankTransfer.id == -1) is None
        assert locks.lock_all(PaymentIntent, PaymentIntent.id.in_([-1, -2])) == []


def test_a_lock_out_of_order_is_refused(app, make):
    tenant = make.tenant("bat-trang")
    with app.app_context(), tenant_context(tenant):
        locks.lock_one(PaymentIntent, PaymentIntent.id == -1)
        with pytest.raises(locks.LockOrderError, match="bank_transfers asked for after payment_intents"):
            locks.lock_one(BankTransfer, BankTransfer.id == -1)


def test_the_order_starts_again_with_each_transaction_but_not_with_a_savepoint(app, make):
    tenant = make.tenant("bat-trang")
    with app.app_context(), tenant_context(tenant):
        locks.lock_one(PaymentIntent, PaymentIntent.id == -1)
        with db.session.begin_nested():
            pass
        with pytest.raises(locks.LockOrderError):
            locks.lock_one(BankTransfer, BankTransfer.id == -1)
        db.session.rollback()
        assert locks.lock_one(BankTransfer, BankTransfer.id == -1) is None  # a new transaction


def test_a_table_without_a_place_in_the_order_cannot_be_locked(app, make):
    from tenants.models import Tenant

    with app.app_context():
        with pytest.raises(locks.LockOrderError, match="has no place"):
            locks.lock_one(Tenant, Tenant.id == -1)
