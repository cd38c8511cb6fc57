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
