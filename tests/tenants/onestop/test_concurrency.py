"""Concurrent intake gives unique, consecutive dossier codes (PostgreSQL only: SQLite serialises writers)."""

from __future__ import annotations

import threading

import pytest

from app.extensions import db
from tenants.scoping import tenant_context
from tests.tenants.onestop.conftest import counter_dossier, procedure, vn

THREADS = 8


pytestmark = pytest.mark.usefixtures("postgres")


def test_concurrent_intake_gives_unique_consecutive_codes(app, commune, officer):
    with app.app_context(), tenant_context(commune):
        proc_id = procedure().id
        db.session.commit()
    barrier = threading.Barrier(THREADS)
    codes, errors = [], []

    def intake():
        try:
            with app.app_context(), tenant_context(commune):
                from tenants.onestop.queries import get_procedure

                proc = get_procedure(proc_id)
                barrier.wait(timeout=30)
                codes.append(counter_dossier(officer, proc, vn(2026, 3, 2, 9, 0)).code)
                db.session.commit()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=intake) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(code[-4:] for code in codes) == [f"{n:04d}" for n in range(1, THREADS + 1)]


def test_concurrent_fee_payments_get_gapless_unique_receipt_numbers(app, commune, officer):
    """Eight fees paid at once (cash at two counters, bank notifications): receipts 1..8 of the commune's series,
    none twice, none skipped; a payment rolled back gives its number back."""
    from sqlalchemy import select

    from tenants.onestop import services
    from tenants.onestop.models import Dossier, FeeReceipt

    with app.app_context(), tenant_context(commune):
        proc = procedure(fee=15_000)
        ids = []
        for n in range(THREADS + 1):
            d = counter_dossier(officer, proc, vn(2026, 3, 2, 9, n))
            d.status = "awaiting_fee"
            ids.append(d.id)
        db.session.commit()
    barrier = threading.Barrier(THREADS + 1)
    errors = []

    def pay(dossier_id, roll_back=False):
        try:
            with app.app_context(), tenant_context(commune):
                barrier.wait(timeout=30)
                d = services.lock_dossier(dossier_id)
                services.record_fee_paid(d, "cash", db.session.merge(officer))
                if roll_back:
                    db.session.rollback()
                else:
                    db.session.commit()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=pay, args=(dossier_id, n == 0)) for n, dossier_id in enumerate(ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with app.app_context(), tenant_context(commune):
        numbers = sorted(db.session.scalars(select(FeeReceipt.number)))
        assert numbers == list(range(1, THREADS + 1))
        assert db.session.scalar(select(Dossier).where(Dossier.id == ids[0])).fee_paid_at is None
