"""Every audited action of the domains leaves exactly one entry per row it changed, in the commune's trail; what
machines write with their own log (a bank's notification, an intent) leaves none."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app import transactions
from app.audit import MASK
from app.extensions import db
from app.payments import accounts, refunds
from app.payments.bank import reconciliation
from app.payments.models import PaymentIntent
from tenants.market import services as market
from tenants.onestop import services as onestop, settings
from tenants.scoping import tenant_context
from tests.audit.helpers import entries
from tests.payments.helpers import make_account, make_intent, post_sepay, sepay_payload
from tests.tenants.market.helpers import make_market, make_vendor
from tests.tenants.onestop.conftest import online_dossier, procedure, vn

pytestmark = pytest.mark.usefixtures("bank_secrets")


@pytest.fixture
def bank_secrets(app, monkeypatch):
    from tests.payments.conftest import SEPAY_KEY

    monkeypatch.setitem(app.config, "SEPAY_API_KEY", SEPAY_KEY)


class Trail:
    """What the trail gained since the mark: ``since()`` -> [(table, action, record, chain)]."""

    def __init__(self, app):
        self.app, self.mark = app, 0

    def start(self) -> None:
        self.mark = max((e["id"] for e in entries(self.app)), default=0)

    def since(self) -> list[dict]:
        return [e for e in entries(self.app) if e["id"] > self.mark]

    def tables(self) -> list[tuple]:
        return [(e["table_name"], e["action"]) for e in self.since()]


@pytest.fixture
def trail(app):
    return Trail(app)


@pytest.fixture
def commune(make):
    return make.tenant("bat-trang")


def run(app, tenant, work):
    with app.app_context(), tenant_context(tenant):
        return transactions.run(work)


def test_a_receiving_account_and_its_notification_key(app, trail, commune):
    trail.start()
    account = make_account(app, commune)
    assert trail.tables() == [("payment_accounts", "insert")]
    trail.start()
    run(app, commune, lambda: accounts.set_notification_secret(accounts.get_account(account.id), "casso", "casso-key-123"))
    [entry] = trail.since()
    assert entry["changes"] == {"casso_checksum_key": [None, MASK]} and entry["tenant_id"] == commune.id


def test_an_api_key_created_and_revoked(app, trail, commune):
    account = make_account(app, commune)
    trail.start()
    key, secret = run(app, commune, lambda: accounts.create_api_key(accounts.get_account(account.id)))
    [created] = trail.since()
    assert (created["table_name"], created["action"]) == ("api_keys", "insert")
    assert created["changes"]["key_hash"] == [None, MASK] and secret not in str(created)
    trail.start()
    run(app, commune, lambda: accounts.revoke_api_key(key.id))
    [revoked] = trail.since()
    assert revoked["action"] == "update" and list(revoked["changes"]) == ["revoked_at"]


def test_a_confirmation_by_hand_is_one_entry_and_the_banks_notification_none(app, client, trail, commune, make):
    account = make_account(app, commune, number="113000583", bank_bin="970415")
    paid_by_bank = make_intent(app, account, 30_000)
    trail.start()
    response = post_sepay(client, sepay_payload("113000583", paid_by_bank.reference_code, 30_000,
                                                gateway="VietinBank"))
    assert response.status_code < 300
    assert trail.since() == []  # the bank's own record: no entry
    by_hand = make_intent(app, account, 45_000)
    officer = make.user("officer@bt.vn", "officer", commune)
    trail.start()
    run(app, commune, lambda: reconciliation.confirm_by_hand(by_hand.public_id, 45_000, officer, note="đã thấy tiền"))
    # A confirmation by hand is a claim (who, when, why), not a bank transfer.
    [entry] = [e for e in trail.since() if e["action"] == "insert"]
    assert (entry["table_name"], entry["tenant_id"]) == ("payment_claims", commune.id)
    assert entry["changes"]["claimed_by"] == [None, "officer@bt.vn"] and entry["changes"]["amount"] == [None, 45_000]
    assert {e["table_name"] for e in trail.since()} == {"payment_claims"}


def test_a_refund_created_then_confirmed_by_hand(app, client, trail, commune, make):
    account = make_account(app, commune, number="113000583", bank_bin="970415")
    intent = make_intent(app, account, 30_000)
    post_sepay(client, sepay_payload("113000583", intent.reference_code, 30_000, gateway="VietinBank"))
    officer = make.user("officer@bt.vn", "officer", commune)

    def refund():
        paid = db.session.scalar(select(PaymentIntent).where(PaymentIntent.id == intent.id))
        made = refunds.create_refund(paid, 10_000, reason="requested_by_customer")
        refunds.set_destination(made, "970436", "0011001234567", "NGUYEN VAN AN")
        return made

    trail.start()
    made = run(app, commune, refund)
    [created] = trail.since()  # created in a savepoint, its payer's account set after it: one entry
    assert (created["table_name"], created["action"]) == ("payment_refunds", "insert")
    assert created["changes"]["amount"] == [None, 10_000]
    assert created["changes"]["destination_account_number"] == [None, MASK]
    trail.start()
    run(app, commune, lambda: refunds.confirm_by_hand(made, officer))
    [confirmed] = trail.since()
    assert confirmed["action"] == "update" and confirmed["changes"]["status"] == ["pending", "succeeded"]


def test_a_procedures_fee_changed(app, trail, commune):
    proc = run(app, commune, lambda: procedure(fee=8_000))
    trail.start()
    run(app, commune, lambda: settings.save_procedure(
        proc.id, name=proc.name, sector=proc.sector, time_unit="days", time_amount=3, same_day=False, fee=10_000,
        required_documents="Tờ khai", online=True))
    [entry] = trail.since()
    assert entry["table_name"] == "onestop_procedures" and entry["changes"] == {"fee": [8_000, 10_000]}


def test_a_dossier_received_then_refused(app, trail, commune, make):
    officer = make.user("officer@bt.vn", "officer", commune)
    proc = run(app, commune, procedure)
    trail.start()
    dossier = run(app, commune, lambda: online_dossier(proc, vn(2026, 11, 30, 9, 0)))
    [created] = [e for e in trail.since() if e["table_name"] == "onestop_dossiers"]
    assert created["action"] == "insert" and created["changes"]["applicant_id_number"] == [None, MASK]
    assert "Nguyễn Văn An" not in str(trail.since())
    trail.start()

    def refuse():
        row = onestop.get_dossier(dossier.id) if hasattr(onestop, "get_dossier") else None
        from tenants.onestop.models import Dossier

        row = row or db.session.scalar(select(Dossier).where(Dossier.id == dossier.id))
        return onestop.refuse(row, db.session.merge(officer), "Không thuộc thẩm quyền của xã")

    run(app, commune, refuse)
    [refused] = [e for e in trail.since() if e["table_name"] == "onestop_dossiers"]
    assert refused["action"] == "update" and refused["changes"]["status"] == ["registered", "refused"]


def test_a_vendor_onboarded_with_a_stall_and_a_bank_account(app, trail, commune):
    _market_id, stalls = make_market(app, commune)
    trail.start()
    info = make_vendor(app, commune, stall_id=stalls[0])
    got = sorted(trail.tables())
    assert got == sorted([("vendors", "insert"), ("payment_accounts", "insert"), ("vendor_accounts", "insert"),
                          ("users", "insert"), ("memberships", "insert"), ("vendor_memberships", "insert"),
                          ("stalls", "update")])
    assert {e["tenant_id"] for e in trail.since()} == {commune.id}
    vendor = next(e for e in trail.since() if e["table_name"] == "vendors")
    assert vendor["record_id"] == str(info.id) and vendor["changes"]["phone"] == [None, MASK]


def test_a_vendors_cash_sale_and_a_qr_sale_confirmed_by_hand(app, trail, commune):
    info = make_vendor(app, commune)
    trail.start()
    run(app, commune, lambda: market.record_cash_sale(info.id, "50000"))
    assert trail.tables() == [("market_sales", "insert")]
    qr = run(app, commune, lambda: market.record_qr_sale(info.id, "120000"))
    assert trail.tables() == [("market_sales", "insert")]  # a QR sale waits for the bank: its record
    trail.start()
    from app.auth.models import User

    def confirm():
        vendor_user = db.session.get(User, info.user_id)
        return market.confirm_money_received(info.id, qr.id, vendor_user)

    run(app, commune, confirm)
    # One transaction: the vendor's claim (who, when, why: not a bank transfer) and the sale it pays.
    assert sorted(trail.tables()) == [("market_sales", "update"), ("payment_claims", "insert")]
    changes = {}
    for entry in trail.since():
        if entry["table_name"] == "market_sales":
            changes.update(entry["changes"])
    assert changes["confirmation"] == [None, "hand"] and changes["status"] == ["pending", "paid"]
