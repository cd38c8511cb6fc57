"""The dossier's one state machine, as a table of every (state, action) pair, then the rules at its edges."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.errors import DomainError
from app.extensions import db
from app.payments.accounts import create_account
from app.payments.models import PaymentIntent
from tenants.onestop import services, statuses
from tenants.onestop.models import Dossier, DossierEvent
from tenants.onestop.services import TRANSITIONS, IllegalTransition
from tests.tenants.onestop.conftest import PDF, counter_dossier, online_dossier, procedure, vn

T0 = vn(2026, 3, 2, 8, 0)  # a Monday morning
LATER = T0 + timedelta(minutes=30)


def _officer(officer):
    return db.session.merge(officer)


def dossier_in(state: str, officer):
    """A dossier brought to ``state`` through legal actions only (5 working days, a fee)."""
    proc = procedure(time_amount=5, fee=8_000)
    o = _officer(officer)
    if state in ("registered", "refused"):
        d = online_dossier(proc, T0)
        if state == "refused":
            services.refuse(d, o, "Hồ sơ không đúng thẩm quyền", T0)
        return d
    d = counter_dossier(officer, proc, T0)
    steps = {
        "received": [],
        "processing": [lambda: services.process(d, o, T0)],
        "awaiting_documents": [lambda: services.request_documents(d, o, "Bản sao giấy khai sinh", T0)],
        "awaiting_fee": [lambda: services.request_fee(d, o, T0)],
        "withdrawn": [lambda: services.withdraw(d, o, "", T0)],
        "stopped": [lambda: services.stop(d, o, "Người yêu cầu đã mất", T0)],
        "processed": [lambda: services.record_result(d, o, "ketqua.pdf", PDF, "", T0)],
        "returned": [lambda: services.record_result(d, o, "ketqua.pdf", PDF, "", T0),
                     lambda: services.return_result(d, o, T0)],
    }[state]
    for step in steps:
        step()
    assert d.status == state
    return d


def run(action: str, d, officer):
    o = _officer(officer)
    return {
        "receive": lambda: services.receive(d, o, LATER),
        "refuse": lambda: services.refuse(d, o, "Thiếu giấy tờ", LATER),
        "process": lambda: services.process(d, o, LATER),
        "request_documents": lambda: services.request_documents(d, o, "Bản sao CCCD", LATER),
        "request_fee": lambda: services.request_fee(d, o, LATER),
        "fee_paid": lambda: services.record_fee_paid(d, "cash", o, LATER),
        "record_result": lambda: services.record_result(d, o, "ketqua.pdf", PDF, "Đã ký", LATER),
        "return_result": lambda: services.return_result(d, o, LATER),
        "withdraw": lambda: services.withdraw(d, o, "Công dân xin rút", LATER),
        "stop": lambda: services.stop(d, o, "Trùng hồ sơ", LATER),
        "apologise": lambda: services.apologise(d, o, "Chờ xác minh", (d.due_at or T0) + timedelta(days=7), LATER),
        "supplement": lambda: services.log_supplement(d, 1, LATER),  # the citizen's (online.add_supplement)
    }[action]()


def snapshot(d) -> dict:
    return {column.key: getattr(d, column.key) for column in Dossier.__table__.columns}


PAIRS = [(state.value, action) for state in statuses.ALL for action in TRANSITIONS]


@pytest.fixture
def fee_account(ctx):
    create_account("Tài khoản thu phí", "970415", "113366668888", "UBND XA BAT TRANG")
    db.session.commit()  # the service flushes; here the fixture is the boundary


@pytest.mark.parametrize("state, action", PAIRS, ids=[f"{s}-{a}" for s, a in PAIRS])
def test_every_state_and_action(ctx, fee_account, officer, state, action):
    d = dossier_in(state, officer)
    starts, to = TRANSITIONS[action]
    events_before = db.session.scalar(select(func.count()).select_from(DossierEvent))
    intents_before = db.session.scalar(select(func.count()).select_from(PaymentIntent))
    before = snapshot(d)
    if state in starts:
        run(action, d, officer)
        assert d.status == (to or state)
        last = db.session.scalars(select(DossierEvent).where(DossierEvent.dossier_id == d.id)
                                  .order_by(DossierEvent.id.desc())).first()
        assert (last.action, last.from_status, last.to_status) == (action, state, d.status)
        assert last.actor_id == (None if action == "supplement" else officer.id)
    else:
        with pytest.raises(IllegalTransition) as refused:
            run(action, d, officer)
        assert str(statuses.get(state).label) in str(refused.value.message)
        assert snapshot(d) == before
        assert db.session.scalar(select(func.count()).select_from(DossierEvent)) == events_before
        assert db.session.scalar(select(func.count()).select_from(PaymentIntent)) == intents_before


def test_the_table_covers_all_ten_states_and_only_known_ones():
    assert len(statuses.ALL) == 10 and [s.number for s in statuses.ALL] == list(range(1, 11))
    for starts, to in TRANSITIONS.values():
        assert set(starts) <= set(statuses.VALUES) and (to is None or to in statuses.VALUES)
    for final in (s for s in statuses.ALL if s.final):
        assert not any(final.value in starts for starts, _ in TRANSITIONS.values())


def test_counter_intake_starts_the_clock_and_online_waits(ctx, officer):
    proc = procedure(time_unit="hours", time_amount=2, fee=0)
    d = counter_dossier(officer, proc, vn(2026, 3, 2, 10, 30))
    assert d.status == "received" and d.officer_id == officer.id
    assert d.due_at == vn(2026, 3, 2, 14, 30)
    online = online_dossier(proc, vn(2026, 3, 2, 10, 30))
    assert online.status == "registered" and online.due_at is None and online.received_at is None
    services.receive(online, _officer(officer), vn(2026, 3, 2, 16, 0))  # the clock starts at reception
    assert online.due_at == vn(2026, 3, 3, 8, 0)


def test_dossier_codes_are_unit_day_and_a_daily_sequence(ctx, officer, commune):
    proc = procedure()
    first = counter_dossier(officer, proc, vn(2026, 3, 2, 8, 0))
    second = online_dossier(proc, vn(2026, 3, 2, 23, 30))
    next_day = counter_dossier(officer, proc, vn(2026, 3, 3, 0, 5))
    assert first.code == f"{commune.code}-260302-0001"
    assert second.code == f"{commune.code}-260302-0002"
    assert next_day.code == f"{commune.code}-260303-0001"


def test_a_rolled_back_intake_gives_its_number_back(app, commune, officer):
    from tenants.scoping import tenant_context

    with app.app_context(), tenant_context(commune):
        proc = procedure()
        db.session.commit()
        counter_dossier(officer, proc, T0)
        db.session.rollback()
        assert counter_dossier(officer, proc, T0).code.endswith("-0001")
        db.session.commit()


def test_the_clock_stops_while_waiting_for_documents(ctx, officer):
    proc = procedure(time_amount=2)
    o = _officer(officer)
    d = counter_dossier(officer, proc, vn(2026, 3, 2, 8, 0))  # due Wed 4 March 08:00
    assert d.due_at == vn(2026, 3, 4, 8, 0)
    services.request_documents(d, o, "Bản sao CCCD", vn(2026, 3, 2, 16, 0))  # 10 working hours were left
    assert d.status == "awaiting_documents" and d.paused_remaining_minutes == 600
    services.process(d, o, vn(2026, 3, 9, 9, 0))  # documents brought a week later
    assert d.due_at == vn(2026, 3, 10, 11, 0)  # 6 hours on Monday, 4 on Tuesday
    services.record_result(d, o, "kq.pdf", PDF, "", vn(2026, 3, 10, 9, 0))
    assert d.finished_on_time is True
    assert d.processing_minutes == 360 + 480  # the week spent waiting for the citizen does not count


def test_a_second_request_for_documents_makes_the_dossier_late(ctx, officer):
    o = _officer(officer)
    d = counter_dossier(officer, procedure(time_amount=5), T0)
    for when in (T0, T0 + timedelta(hours=2)):
        services.request_documents(d, o, "Bổ sung", when)
        services.process(d, o, when + timedelta(minutes=30))
    services.record_result(d, o, "kq.pdf", PDF, "", T0 + timedelta(hours=4))
    assert d.supplement_requests == 2 and d.finished_on_time is False


ENDINGS = [
    ("record_result", lambda d, o, t: services.record_result(d, o, "kq.pdf", PDF, "", t)),
    ("stop", lambda d, o, t: services.stop(d, o, "Lý do", t)),
    ("withdraw", lambda d, o, t: services.withdraw(d, o, "", t)),
]


@pytest.mark.parametrize("name, end", ENDINGS, ids=[e[0] for e in ENDINGS])
@pytest.mark.parametrize("minutes_after_due, on_time", [(-1, True), (0, True), (1, False)])
def test_on_time_or_late_for_every_ending(ctx, officer, name, end, minutes_after_due, on_time):
    d = counter_dossier(officer, procedure(time_unit="hours", time_amount=2), vn(2026, 3, 2, 8, 0))
    end(d, _officer(officer), d.due_at + timedelta(minutes=minutes_after_due))
    assert d.finished_on_time is on_time
    [last] = [e for e in db.session.scalars(select(DossierEvent).where(DossierEvent.dossier_id == d.id))
              if e.action == name]
    assert last.on_time is on_time


def test_refused_at_reception_counts_as_on_time(ctx, officer):
    d = online_dossier(procedure(), T0)
    services.refuse(d, _officer(officer), "Sai thẩm quyền", T0 + timedelta(days=30))
    assert d.finished_on_time is True


def test_refusing_or_stopping_needs_a_reason(ctx, officer):
    o = _officer(officer)
    d = online_dossier(procedure(), T0)
    with pytest.raises(DomainError):
        services.refuse(d, o, "  ", T0)
    assert d.status == "registered"


class TestApology:
    def test_once_at_least_a_working_day_before_the_due_time(self, ctx, officer):
        o = _officer(officer)
        d = counter_dossier(officer, procedure(time_amount=3), vn(2026, 3, 2, 8, 0))  # due Thu 5 March 08:00
        new_due = vn(2026, 3, 9, 8, 0)
        services.apologise(d, o, "Chờ xác minh", new_due, vn(2026, 3, 4, 8, 0))  # exactly one working day before
        assert d.due_at == new_due and d.original_due_at == vn(2026, 3, 5, 8, 0)
        with pytest.raises(DomainError, match="một lần"):
            services.apologise(d, o, "Lần nữa", new_due + timedelta(days=2), vn(2026, 3, 4, 9, 0))
        assert d.due_at == new_due

    def test_refused_less_than_a_working_day_before(self, ctx, officer):
        o = _officer(officer)
        d = counter_dossier(officer, procedure(time_amount=3), vn(2026, 3, 2, 8, 0))
        with pytest.raises(DomainError, match="ngày làm việc"):
            services.apologise(d, o, "Chờ", vn(2026, 3, 9, 8, 0), vn(2026, 3, 4, 8, 1))
        assert d.apology_at is None and d.due_at == vn(2026, 3, 5, 8, 0)

    def test_the_new_appointment_is_later(self, ctx, officer):
        d = counter_dossier(officer, procedure(time_amount=3), vn(2026, 3, 2, 8, 0))
        with pytest.raises(DomainError):
            services.apologise(d, _officer(officer), "Chờ", vn(2026, 3, 4, 8, 0), vn(2026, 3, 2, 9, 0))

    def test_an_apologised_dossier_is_late_even_within_its_new_appointment(self, ctx, officer):
        o = _officer(officer)
        d = counter_dossier(officer, procedure(time_amount=3), vn(2026, 3, 2, 8, 0))
        services.apologise(d, o, "Chờ xác minh", vn(2026, 3, 9, 8, 0), vn(2026, 3, 2, 9, 0))
        services.record_result(d, o, "kq.pdf", PDF, "", vn(2026, 3, 6, 8, 0))
        assert d.finished_on_time is False


def test_the_control_sheet_logs_every_step(ctx, fee_account, officer):
    o = _officer(officer)
    d = online_dossier(procedure(), T0)
    services.receive(d, o, T0)
    services.process(d, o, T0)
    services.request_fee(d, o, T0)
    services.pay_cash(d, o, T0)
    services.record_result(d, o, "kq.pdf", PDF, "", T0)
    services.return_result(d, o, T0)
    log = list(db.session.scalars(select(DossierEvent).where(DossierEvent.dossier_id == d.id)
                                  .order_by(DossierEvent.id)))
    assert [(e.action, e.from_status, e.to_status) for e in log] == [
        ("submit", None, "registered"), ("receive", "registered", "received"), ("process", "received", "processing"),
        ("request_fee", "processing", "awaiting_fee"), ("fee_paid", "awaiting_fee", "processing"),
        ("record_result", "processing", "processed"), ("return_result", "processed", "returned"),
    ]
    assert log[0].actor_label == "Công dân" and all(e.actor_id == officer.id for e in log[1:])
    assert d.fee_method == "cash"
    intent = db.session.scalar(select(PaymentIntent))
    assert intent.status == "canceled"  # paid in cash: the QR no longer takes money
