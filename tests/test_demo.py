"""The demo's payment history: `flask seed-demo` gives every commune two weeks of paid fees, a short payment and an
unmatched transfer in its inbox (tests seed fewer days: each payment goes through the real reconciliation), so the payment pages, charts and inbox of a fresh `make run` have something to show."""

from __future__ import annotations

from sqlalchemy import func, select

from app import demo
from app.extensions import db
from app.formatting import to_local
from app.clock import utcnow
from app.payments.models import BankTransfer, Event, PaymentIntent
from tenants.models import Tenant
from tenants.scoping import all_tenants, tenant_context
from tests.conftest import login


def seeded(app, days: int, now=None) -> dict:
    with app.app_context():
        return demo.seed(app.config["DEMO_PASSWORD"], payment_days=days, now=now)


def test_every_commune_gets_paid_fees_in_office_hours_and_its_pages_show_them(app, client):
    now = utcnow()
    counts = seeded(app, days=7, now=now)
    with app.app_context(), all_tenants():
        intents = db.session.scalars(select(PaymentIntent)).all()
        transfers = db.session.scalars(select(BankTransfer)).all()
        tenants = db.session.scalars(select(Tenant)).all()
        assert all(len(t.tax_code) == 10 and t.tax_code.isdigit() for t in tenants)  # printed on fee receipts
        succeeded = [i for i in intents if i.status == "succeeded"]
        assert counts["payments"] == len(succeeded) > 22 * 4
        assert {i.tenant_id for i in succeeded} == {t.id for t in tenants}
        for intent in succeeded:
            local = to_local(intent.succeeded_at)
            assert local.weekday() != 6 and 8 <= local.hour < 17 and local.hour != 12, local
            assert to_local(intent.succeeded_at) <= to_local(now)
            assert (now - to_local(intent.succeeded_at)).days < 7
            assert intent.amount_received == intent.amount and intent.flag is None
            assert to_local(intent.created_at) < local  # the history reads in order
        days = {to_local(i.succeeded_at).date() for i in succeeded}
        assert len(days) >= 4  # spread over the week, not all today
        # Each paid fee has its matched transfer, made through the real reconciliation and labelled demo.
        matched = [t for t in transfers if t.status == "matched"]
        assert len(matched) == len(succeeded)
        assert {t.provider for t in transfers} == {"demo"}
        # ...and its events, moved back in time with it.
        some = succeeded[0]
        events = db.session.scalars(select(Event).where(Event.intent_id == some.id)).all()
        assert {e.type for e in events} >= {"payment_intent.created", "payment_intent.succeeded"}
        assert all(to_local(e.created_at) == to_local(some.succeeded_at) for e in events)

    # Bát Tràng (00583) got exactly its planned history.
    with app.app_context():
        bat_trang = db.session.scalar(select(Tenant).where(Tenant.slug == "bat-trang"))
        with tenant_context(bat_trang):
            paid = db.session.execute(
                select(PaymentIntent.description, PaymentIntent.amount, PaymentIntent.succeeded_at)
                .where(PaymentIntent.status == "succeeded").order_by(PaymentIntent.succeeded_at, PaymentIntent.id)
            ).all()
    plan = demo.plan_payment_history("00583", 7, now)
    assert [(d, a, to_local(t)) for d, a, t in paid] == [(d, a, to_local(t)) for d, a, t in plan]

    login(client, "admin.bat-trang@gialam.demo", app.config["DEMO_PASSWORD"])
    html = client.get("/c/bat-trang/payments/").get_data(as_text=True)
    assert 'data-testid="daily-chart"' in html
    assert "Chưa nhận khoản tiền nào" not in html  # the empty chart's message
    inbox = client.get("/c/bat-trang/payments/inbox").get_data(as_text=True)
    assert inbox.count('data-testid="inbox-item"') == 2
    assert "Dữ liệu demo" in inbox  # the provider label says the transfers are made up


def test_every_commune_inbox_has_a_short_payment_and_an_unmatched_transfer(app):
    seeded(app, days=2)
    with app.app_context(), all_tenants():
        rows = db.session.execute(
            select(BankTransfer.tenant_id, BankTransfer.status, func.count())
            .where(BankTransfer.status.in_(("short", "unmatched"))).group_by(BankTransfer.tenant_id, BankTransfer.status)
        ).all()
        tenant_ids = set(db.session.scalars(select(Tenant.id)))
    assert {(tenant_id, status) for tenant_id, status, _n in rows} == {
        (tenant_id, status) for tenant_id in tenant_ids for status in ("short", "unmatched")}
    assert all(n == 1 for *_rest, n in rows)


def test_seeding_again_adds_no_payments(app):
    seeded(app, days=2)
    with app.app_context(), all_tenants():
        before = (db.session.scalar(select(func.count()).select_from(PaymentIntent)),
                  db.session.scalar(select(func.count()).select_from(BankTransfer)))
    assert seeded(app, days=2)["payments"] == 0
    with app.app_context(), all_tenants():
        after = (db.session.scalar(select(func.count()).select_from(PaymentIntent)),
                 db.session.scalar(select(func.count()).select_from(BankTransfer)))
    assert after == before


def test_the_history_is_the_same_on_every_machine_and_differs_between_communes():
    now = utcnow()
    plan = demo.plan_payment_history("00583", 7, now)
    assert plan and plan == demo.plan_payment_history("00583", 7, now)
    assert plan != demo.plan_payment_history("00580", 7, now)
