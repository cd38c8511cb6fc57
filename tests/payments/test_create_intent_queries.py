"""Creating an intent knows its account already (issue #17): serialising the new intent reads nothing more, and
answers what a freshly loaded intent answers."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.payments.accounts import find_account
from app.payments.intents import create_intent, serialize
from app.payments.models import PaymentIntent
from tenants.scoping import tenant_context
from tests.conftest import count_queries, data_statements
from tests.payments.helpers import make_account


def test_the_new_intent_serialises_without_reading_its_account_again_and_equal_to_a_fresh_read(app, make):
    tenant = make.tenant("xa-a")
    make_account(app, tenant)
    with app.app_context(), tenant_context(tenant):
        account = find_account()
        with count_queries(app) as statements:
            intent = create_intent(account, 150_000, description="Lệ phí")
            fresh_answer = serialize(intent)
        assert intent.account is account
        assert not [s for s in data_statements(statements) if "FROM payment_accounts" in s]
        public_id = intent.public_id
        db.session.commit()
        db.session.expunge_all()
        again = db.session.scalar(select(PaymentIntent).where(PaymentIntent.public_id == public_id))
        assert serialize(again) == fresh_answer
