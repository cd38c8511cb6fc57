"""Every pair among bank notification, confirmation by hand, cancel, expiry and refund, raced on one intent of each
domain that takes payments (PostgreSQL only). Whatever the interleaving: no error but a domain's refusal, and the
money invariants hold afterwards (tests/conftest.py runs ``flask payments check`` after each test of this module).
"""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app import transactions
from app.auth.models import User
from app.errors import DomainError
from app.extensions import db
from app.payments import intents, refunds
from app.payments.bank import reconciliation
from app.payments.bank.notifications import BankTransaction
from app.payments.models import PaymentIntent
from tenants.scoping import all_tenants, tenant_context
from tests.payments.helpers import make_account, make_intent
from tests.payments.test_concurrency import _all_at_once

pytestmark = pytest.mark.usefixtures("bank_secrets", "postgres")

ACTIONS = ("bank", "hand", "cancel", "expiry", "refund")
PAIRS = list(itertools.combinations(ACTIONS, 2))
DOMAINS = ("api", "market_sale", "marketplace_order", "onestop_fee")
PAYER = {"counter_bank_bin": "970436", "counter_account_number": "0451000123456", "counter_account_name": "NGUYEN A"}


def _new_intent(app, make, domain: str):
    """(tenant, intent public id, account number) of a fresh unpaid intent of ``domain``."""
    tenant = make.tenant(f"t{uuid.uuid4().hex[:8]}", "Xã")
    if domain == "api":
        account = make_account(app, tenant, f"77{uuid.uuid4().int % 10**8:08d}")
        return tenant, make_intent(app, account, 100_000).public_id
    if domain == "market_sale":
        from tenants.market import payments, services
        from tests.tenants.market.helpers import make_market, make_vendor

        _, stalls = make_market(app, tenant)
        vendor = make_vendor(app, tenant, stall_id=stalls[0])
        with app.app_context(), tenant_context(tenant):
            sale = services.record_qr_sale(vendor.id, 100_000)
            db.session.commit()
            return tenant, payments.sale_intent(sale.intent_id).public_id
    if domain == "marketplace_order":
        from tests.marketplace.helpers import checkout, make_product, sub_orders
        from tests.marketplace.helpers import make_vendor as make_shop_vendor

        product = make_product(app, tenant, make_shop_vendor(app, tenant), price=100_000, stock=3)
        [sub] = sub_orders(app, checkout(app, [(product, 1)]))
        return tenant, sub["intent"]
    from tenants.onestop import services
    from tests.tenants.onestop.conftest import counter_dossier, procedure, vn

    make_account(app, tenant, f"88{uuid.uuid4().int % 10**8:08d}")
    officer = make.user(f"o{uuid.uuid4().hex[:6]}@x.vn", "officer", tenant)
    with app.app_context(), tenant_context(tenant):
        dossier = counter_dossier(officer, procedure(fee=100_000), vn(2026, 3, 2, 8, 0))
        services.request_fee(dossier, db.session.merge(officer))
        db.session.commit()
        return tenant, db.session.scalar(select(PaymentIntent.public_id)
                                         .where(PaymentIntent.id == dossier.fee_intent_id))


def _intent(public_id: str) -> PaymentIntent:
    return db.session.scalar(select(PaymentIntent).where(PaymentIntent.public_id == public_id))


def _action(app, name: str, tenant, public_id: str, officer_id: int):
    def bank():
        with all_tenants():
            intent = _intent(public_id)
            account = intent.account
            reference, number, bank_bin = intent.reference_code, account.account_number, account.bank_bin
        return reconciliation.confirm_transfer(BankTransaction(
            provider="casso", provider_txn_id=uuid.uuid4().hex, amount=100_000, content=f"{reference} ck",
            account_number=number, bank=None, occurred_at=datetime.now(timezone.utc), reference=uuid.uuid4().hex[:12],
            raw={}, bank_bin=bank_bin, **PAYER))

    def hand():
        with tenant_context(tenant):
            return reconciliation.confirm_by_hand(public_id, 100_000, db.session.get(User, officer_id), "seen")

    def cancel():
        with tenant_context(tenant):
            return intents.cancel_intent(intents.lock_intent(public_id=public_id))

    def expiry():
        return intents.expire_due(datetime.now(timezone.utc) + timedelta(days=2))

    def refund():
        with tenant_context(tenant):
            return refunds.create_refund(_intent(public_id))

    work = {"bank": bank, "hand": hand, "cancel": cancel, "expiry": expiry, "refund": refund}[name]

    def job():
        with app.app_context():
            try:
                transactions.run(work)
                return "done"
            except DomainError:
                return "refused"
    return job


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_pair_of_actions_on_one_intent(app, make, domain):
    outcomes = {}
    for first, second in PAIRS:
        tenant, public_id = _new_intent(app, make, domain)
        officer = make.user(f"o{uuid.uuid4().hex[:8]}@x.vn", "officer", tenant)
        if "refund" in (first, second):  # a refund needs money the bank moved
            assert _action(app, "bank", tenant, public_id, officer.id)() == "done"
        results = _all_at_once([_action(app, first, tenant, public_id, officer.id),
                                _action(app, second, tenant, public_id, officer.id)])
        assert all(r in ("done", "refused") for r in results), (domain, first, second, results)
        outcomes[(first, second)] = results
        with app.app_context(), all_tenants():
            intent = _intent(public_id)
            assert intent.amount_refunded <= refunds.received_amount(intent), (domain, first, second)
    assert outcomes[("bank", "hand")].count("done") >= 1
