"""The plan runs on PostgreSQL under row-level security, as the application role (not a superuser, no BYPASSRLS):
the rows move and each commune sees exactly its own afterwards, at the database level too."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, text

from app import transactions
from app.extensions import db
from tenants.lineage import apply_plan, parse_plan
from tenants.notices.models import Notice
from tenants.scoping import tenant_context
from tests.payments.helpers import make_account, make_intent

pytestmark = pytest.mark.usefixtures("postgres")


def test_the_plan_applies_under_row_level_security_as_the_application_role(app, make):
    dong_du, bat_trang = make.tenant("dong-du"), make.tenant("bat-trang")
    make.notice(dong_du, "Lịch tiếp dân Đông Dư")
    make.notice(bat_trang, "Lịch tiếp dân Bát Tràng")
    make_intent(app, make_account(app, dong_du, "0011001234567"), 50_000)
    plan = {"key": "pg", "effective_date": "2025-01-01", "legal_basis": "thử",
            "lines": [{"predecessor": "dong-du", "successor": "bat-trang"}]}
    with app.app_context():
        role = db.session.execute(text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")).one()
        assert tuple(role) == (False, False)
        report = transactions.run(lambda: apply_plan(parse_plan(json.dumps(plan).encode())))
        assert report.moved[("dong-du", "bat-trang")]["notices"] == 1
        assert report.moved[("dong-du", "bat-trang")]["payment_intents"] == 1
        with tenant_context(bat_trang):
            assert sorted(db.session.scalars(select(Notice.title))) == ["Lịch tiếp dân Bát Tràng",
                                                                       "Lịch tiếp dân Đông Dư"]
            # The policy itself, not only the ORM's scoping: a raw count sees the successor's rows only.
            assert db.session.execute(text("SELECT count(*) FROM notices")).scalar() == 2
            assert db.session.execute(text("SELECT count(*) FROM payment_intents")).scalar() == 1
        db.session.commit()
        with tenant_context(dong_du):
            assert db.session.scalar(select(func.count()).select_from(Notice)) == 0
            assert db.session.execute(text("SELECT count(*) FROM notices")).scalar() == 0
        db.session.commit()


def test_a_split_applies_under_row_level_security_each_record_with_its_successor(app, make):
    from tests.tenants.market.helpers import make_market, make_vendor

    kieu_ky, bat_trang, da_ton = (make.tenant(slug) for slug in ("kieu-ky", "bat-trang", "da-ton"))
    make.notice(kieu_ky, "Lịch tiếp dân Kiêu Kỵ")
    _market, stalls = make_market(app, kieu_ky, "Chợ Kiêu Kỵ")
    vendor = make_vendor(app, kieu_ky, stall_id=stalls[0])
    make_intent(app, make_account(app, kieu_ky, "0011001234567"), 50_000)
    plan = {"key": "pg-split", "effective_date": "2025-07-01", "legal_basis": "thử", "lines": [
        {"predecessor": "kieu-ky", "successor": "bat-trang", "whole": False, "markets": ["cho-kieu-ky"]},
        {"predecessor": "kieu-ky", "successor": "da-ton", "whole": False, "default": True}]}
    with app.app_context():
        report = transactions.run(lambda: apply_plan(parse_plan(json.dumps(plan).encode())))
        assert report.moved[("kieu-ky", "bat-trang")]["markets"] == 1
        assert report.moved[("kieu-ky", "bat-trang")]["vendors"] == 1
        assert report.moved[("kieu-ky", "da-ton")]["payment_intents"] == 1
        seen = {}
        for tenant in (kieu_ky, bat_trang, da_ton):
            with tenant_context(tenant):
                seen[tenant.slug] = {name: db.session.execute(text(f"SELECT count(*) FROM {name}")).scalar()
                                     for name in ("markets", "stalls", "vendors", "vendor_accounts", "notices",
                                                  "payment_intents", "payment_accounts")}
            db.session.commit()
        assert seen["kieu-ky"] == dict.fromkeys(seen["kieu-ky"], 0)
        assert seen["bat-trang"] == {"markets": 1, "stalls": 4, "vendors": 1, "vendor_accounts": 1, "notices": 0,
                                     "payment_intents": 0, "payment_accounts": 1}
        assert seen["da-ton"] == {"markets": 0, "stalls": 0, "vendors": 0, "vendor_accounts": 0, "notices": 1,
                                  "payment_intents": 1, "payment_accounts": 1}
        assert vendor.id


def _confirmation(app, intent, release):
    """A bank notification of ``intent`` confirmed in a thread, committed when ``release`` is set: returns (thread,
    the event set once it has flushed, the errors it met)."""
    import threading
    from datetime import datetime, timezone

    from app.payments.bank.notifications import BankTransaction
    from app.payments.bank.reconciliation import confirm_transfer

    flushed, errors = threading.Event(), []

    def confirm():
        try:
            with app.app_context():
                confirm_transfer(BankTransaction(
                    provider="sepay", provider_txn_id=f"race-{intent.public_id}", amount=intent.amount,
                    content=intent.reference_code, account_number="0011001234567", bank="Vietcombank",
                    occurred_at=datetime.now(timezone.utc), reference=None, raw={}))
                flushed.set()
                assert release.wait(30)
                db.session.commit()
        except Exception as err:  # reported by the test
            errors.append(err)
        finally:
            flushed.set()

    thread = threading.Thread(target=confirm)
    thread.start()
    return thread, flushed, errors


MERGE = {"key": "race", "effective_date": "2025-01-01", "legal_basis": "thử",
         "lines": [{"predecessor": "dong-du", "successor": "bat-trang"}]}


def _paid_once_in(app, public_id: str, tenant) -> None:
    from tests.payments.helpers import intent_state, transfers

    assert intent_state(app, public_id)["status"] == "succeeded"
    assert intent_state(app, public_id)["amount_received"] > 0
    assert [(t["tenant_id"], t["status"]) for t in transfers(app)] == [(tenant.id, "matched")]


def test_a_confirmation_under_way_when_the_plan_starts_is_moved_with_everything_it_wrote(app, make):
    """docs/decisions.md "Second read, #17 session": the plan locks what it moves, so it waits for a confirmation
    already writing, and its move then sees the rows that confirmation inserted (before the locks, the move's
    snapshot missed the new bank transfer: left with the merged unit, the intent moved without it)."""
    import threading

    dong_du, bat_trang = make.tenant("dong-du"), make.tenant("bat-trang")
    intent = make_intent(app, make_account(app, dong_du, "0011001234567"), 50_000)
    release = threading.Event()
    confirming, flushed, errors = _confirmation(app, intent, release)
    assert flushed.wait(30) and not errors
    applied: list = []

    def reorganise():
        with app.app_context():
            applied.append(transactions.run(lambda: apply_plan(parse_plan(json.dumps(MERGE).encode()))))

    plan = threading.Thread(target=reorganise)
    plan.start()
    plan.join(1.0)
    waited = plan.is_alive()
    release.set()
    confirming.join(30)
    plan.join(60)
    assert waited and not errors and applied
    _paid_once_in(app, intent.public_id, bat_trang)


def test_a_confirmation_arriving_while_the_plan_runs_waits_and_finds_its_intent_in_the_successor(app, make):
    import threading

    dong_du, bat_trang = make.tenant("dong-du"), make.tenant("bat-trang")
    intent = make_intent(app, make_account(app, dong_du, "0011001234567"), 50_000)
    release = threading.Event()
    release.set()
    started: dict = {}

    def plan_then_a_confirmation():
        apply_plan(parse_plan(json.dumps(MERGE).encode()))  # applied, not yet committed
        started["thread"], _flushed, started["errors"] = _confirmation(app, intent, release)
        started["thread"].join(1.0)
        started["waited"] = started["thread"].is_alive()

    with app.app_context():
        transactions.run(plan_then_a_confirmation, retries=1)  # the commit (and its hooks) as the command's
    started["thread"].join(30)
    assert started["waited"] and not started["errors"]
    _paid_once_in(app, intent.public_id, bat_trang)
