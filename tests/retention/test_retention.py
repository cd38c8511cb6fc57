"""Retention: each kind of record is kept its declared period, then anonymised or deleted by `flask retention run`
(a dry run unless --apply), only where the record is done with; a person's data is found and, where a rule allows,
erased on request. The trail tells what was done, never the values."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.auth.models import User
from app.clock import utcnow
from app.extensions import db
from app.payments.models import Event
from marketplace.models import Order, SubOrder
from tenants.onestop.models import Dossier
from tenants.scoping import all_tenants, tenant_context
from tests.audit.helpers import entries
from tests.conftest import login
from tests.marketplace.helpers import checkout, make_product, make_vendor
from tests.payments.helpers import make_account, make_intent
from tests.tenants.onestop.conftest import online_dossier, procedure, vn

YEARS_AGO = utcnow() - timedelta(days=800)
MONTH_AGO = utcnow() - timedelta(days=30)


def _set(app, model, row_id: int, **values) -> None:
    with app.app_context(), all_tenants():
        db.session.execute(update(model).where(model.id == row_id).values(**values))
        db.session.commit()


def _get(app, model, row_id: int):
    with app.app_context(), all_tenants():
        row = db.session.scalar(select(model).where(model.id == row_id))
        db.session.expunge(row)
        return row


@pytest.fixture
def dossiers(app, make):
    """Three dossiers of one applicant: closed two years ago, closed a month ago, still open after two years."""
    tenant = make.tenant("bat-trang")
    with app.app_context(), tenant_context(tenant):
        proc = procedure()
        made = [online_dossier(proc, vn(2026, 3, 2, 9, 0)).id for _ in range(3)]
        db.session.commit()
    old, recent, open_ = made
    _set(app, Dossier, old, status="refused", finished_at=YEARS_AGO, submitted_at=YEARS_AGO)
    _set(app, Dossier, recent, status="refused", finished_at=MONTH_AGO, submitted_at=MONTH_AGO)
    _set(app, Dossier, open_, submitted_at=YEARS_AGO)
    return tenant, old, recent, open_


@pytest.fixture
def orders(app, make):
    """Three orders: delivered two years ago, delivered a month ago, two years old with a part still shipped."""
    tenant = make.tenant("kieu-ky")
    shop = make_vendor(app, tenant, "Quỳ vàng Kiêu Kỵ")
    product = make_product(app, tenant, shop, "Quỳ vàng", stock=50)
    codes = [checkout(app, [(product, 1)], phone="0988777666") for _ in range(3)]
    with app.app_context(), all_tenants():
        ids = [db.session.scalar(select(Order.id).where(Order.code == code)) for code in codes]
    for order_id, (when, status) in zip(ids, ((YEARS_AGO, "delivered"), (MONTH_AGO, "delivered"),
                                              (YEARS_AGO, "shipped")), strict=True):
        _set(app, Order, order_id, created_at=when)
        with app.app_context(), all_tenants():
            db.session.execute(update(SubOrder).where(SubOrder.order_id == order_id).values(status=status))
            db.session.commit()
    return tenant, ids


def test_a_dry_run_says_what_is_due_and_changes_nothing(app, runner, dossiers, orders):
    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    assert "onestop.applicant_contacts" in result.output and "Dry run" in result.output
    lines = {line.split()[0]: line for line in result.output.splitlines() if " rows due" in line}
    assert "1 rows due" in lines["onestop.applicant_contacts"] and "1 rows due" in lines["marketplace.order_contacts"]
    _tenant, old, _recent, _open = dossiers
    assert _get(app, Dossier, old).applicant_phone == "0912345678"
    assert entries(app, action="retention") == []


def test_apply_anonymises_only_what_is_past_its_period_and_done_with(app, runner, dossiers, orders):
    tenant, old, recent, open_ = dossiers
    market, (old_order, recent_order, open_order) = orders
    result = runner.invoke(args=["retention", "run", "--apply"])
    assert result.exit_code == 0, result.output
    gone = _get(app, Dossier, old)
    assert (gone.applicant_phone, gone.applicant_email) == ("", "")
    assert gone.applicant_name == "Nguyễn Văn An" and gone.applicant_id_number == "001090012345"  # the record stays
    assert _get(app, Dossier, recent).applicant_phone == "0912345678"
    assert _get(app, Dossier, open_).applicant_phone == "0912345678"
    anonymous = _get(app, Order, old_order)
    assert (anonymous.buyer_name, anonymous.phone, anonymous.address) == ("", "", "") and anonymous.total > 0
    assert _get(app, Order, recent_order).phone == "0988777666"
    assert _get(app, Order, open_order).phone == "0988777666"
    [dossier_entry] = [e for e in entries(app, action="retention") if e["changes"]["rule"].startswith("onestop")]
    assert dossier_entry["tenant_id"] == tenant.id and dossier_entry["changes"]["rows"] == 1
    assert "0912345678" not in str(entries(app)) and "0988777666" not in str(entries(app, action="retention"))
    again = runner.invoke(args=["retention", "run"])
    assert "Dry run: 0 rows are due" in again.output  # applied once, nothing left to do


def test_old_events_are_deleted_and_the_payments_stay(app, runner, make):
    tenant = make.tenant("bat-trang")
    intent = make_intent(app, make_account(app, tenant))
    with app.app_context(), all_tenants():
        db.session.execute(update(Event).values(created_at=utcnow() - timedelta(days=400)))
        db.session.commit()
    result = runner.invoke(args=["retention", "run", "--apply", "--rule", "payments.events"])
    assert result.exit_code == 0, result.output
    with app.app_context(), all_tenants():
        assert db.session.scalars(select(Event)).all() == []
        from app.payments.models import PaymentIntent

        assert db.session.scalar(select(PaymentIntent.id).where(PaymentIntent.id == intent.id)) == intent.id


def test_closed_accounts_are_anonymised_after_five_years_and_open_ones_never(app, runner, client, make):
    closed = make.user("cu@bt.vn", active=False)
    active = make.user("dang-lam@bt.vn")
    for user in (closed, active):
        _set(app, User, user.id, created_at=utcnow() - timedelta(days=6 * 365), last_login_at=None)
    assert runner.invoke(args=["retention", "run", "--apply", "--rule", "accounts.closed"]).exit_code == 0
    gone = _get(app, User, closed.id)
    assert (gone.email, gone.name, gone.password_hash) == (f"closed-{closed.id}@invalid", "—", "!")
    assert _get(app, User, active.id).email == "dang-lam@bt.vn"
    login(client, f"closed-{closed.id}@invalid", "!")
    assert entries(app, action="sign_in") == []


def test_an_unknown_rule_is_refused(runner):
    result = runner.invoke(args=["retention", "run", "--rule", "nothing"])
    assert result.exit_code != 0 and "No retention rule" in result.output


def test_every_rule_is_listed_with_its_period(runner):
    result = runner.invoke(args=["retention", "list"])
    assert result.exit_code == 0
    for name in ("onestop.applicant_contacts", "marketplace.order_contacts", "accounts.closed", "payments.events",
                 "payments.webhook_deliveries", "payments.transfer_payers"):
        assert name in result.output


def test_a_rule_naming_a_column_the_schema_lacks_is_found(app):
    from app import retention

    retention.rule("test.wrong", "x", "orders", days=1, clock="no_such_column", anonymise={"phone": ""})
    try:
        assert retention.check(db.metadata) == ["retention.rule('test.wrong'): no column 'no_such_column'"]
    finally:
        retention._RULES.pop("test.wrong")


def test_a_person_finds_every_record_holding_their_phone(app, runner, dossiers, orders):
    tenant, *_ = dossiers
    market, _orders = orders
    result = runner.invoke(args=["personal-data", "find", "--phone", "+84 912 345 678"])
    assert result.exit_code == 0, result.output
    # the applicant's three dossiers and the choice of channel given with each (app/notify), and the market vendor
    # the helper registered with the same phone
    assert result.output.count("onestop_dossiers") == 3 and result.output.count("vendors") == 1
    assert result.output.count("notify_subscriptions") == 3 and "7 records hold this phone" in result.output
    searches = {e["tenant_id"]: e["changes"] for e in entries(app, action="personal_data_search")}
    assert searches == {tenant.id: {"by": "phone", "rows": 6}, market.id: {"by": "phone", "rows": 1}}
    assert "912345678" not in str(entries(app, action="personal_data_search"))
    by_order = runner.invoke(args=["personal-data", "find", "--phone", "0988777666"])
    # the three orders, and the shopper's choice of channel for each (app/notify: SMS to the phone by default)
    assert "6 records hold" in by_order.output and by_order.output.count("notify_subscriptions") == 3


def test_erasure_on_request_reaches_what_is_done_with_whatever_its_age_and_keeps_the_rest(app, runner, dossiers):
    _tenant, old, recent, open_ = dossiers
    dry = runner.invoke(args=["personal-data", "erase", "--phone", "0912345678"])
    # two closed dossiers, and the three choices of channel (withdrawn at any time: app/notify)
    assert dry.exit_code == 0 and "5 can be erased" in dry.output, dry.output
    assert _get(app, Dossier, recent).applicant_phone == "0912345678"
    done = runner.invoke(args=["personal-data", "erase", "--phone", "0912345678", "--apply"])
    assert done.exit_code == 0 and "5 were erased" in done.output, done.output
    assert _get(app, Dossier, old).applicant_phone == _get(app, Dossier, recent).applicant_phone == ""
    assert _get(app, Dossier, open_).applicant_phone == "0912345678"  # still being handled: kept
    erased = sorted((e["changes"]["rule"], e["changes"]["rows"]) for e in entries(app, action="personal_data_erase"))
    assert erased == [("notify.contacts", 3), ("onestop.applicant_contacts", 2)]


def test_one_way_of_naming_the_person_is_required(runner):
    result = runner.invoke(args=["personal-data", "find", "--phone", "1", "--email", "a@b.vn"])
    assert result.exit_code != 0 and "exactly one" in result.output
