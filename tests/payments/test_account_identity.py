"""A payment account is its bank and its number (and its commune); one transfer is one record whatever reports it;
lateness is judged by the bank's time. (Issue #11 item 2, issue #10.)"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app import transactions
from sqlalchemy import select, update

from app.auth.models import User
from app.errors import ValidationError
from app.extensions import db
from app.payments.accounts import create_account
from app.payments.bank import reconciliation
from app.payments.bank.statement import import_statement
from app.payments.intents import expire_due
from app.payments.models import PaymentIntent
from tenants.scoping import all_tenants, tenant_context
from tests.payments.helpers import (
    bank_reference,
    casso_body,
    intent_state,
    make_account,
    make_intent,
    payos_body,
    post_casso,
    post_payos,
    post_sepay,
    sepay_payload,
    transfers,
)

pytestmark = pytest.mark.usefixtures("bank_secrets")

NUMBER = "0912345678"  # a phone number, chosen by customers at many banks
VIETINBANK, VIETCOMBANK = "970415", "970436"


@pytest.fixture
def communes(make):
    return make.tenant("xa-bat-trang", "Bát Tràng"), make.tenant("xa-kieu-ky", "Kiêu Kỵ")


@pytest.fixture
def victim(app, communes):
    """Commune B's fee account: NUMBER at VietinBank."""
    return make_account(app, communes[1], NUMBER, VIETINBANK)


@pytest.fixture
def lookalike(app, communes, victim):
    """Commune A registers NUMBER at Vietcombank, with its own notification secrets."""
    return make_account(app, communes[0], NUMBER, VIETCOMBANK, sepay_api_key="a-own-sepay-key",
                        casso_checksum_key="a-own-casso-key", payos_checksum_key="a-own-payos-key")


@pytest.fixture
def b_intent(app, victim, lookalike):
    return make_intent(app, victim, 150_000)


def sepay(number, code, amount, gateway):
    payload = sepay_payload(number, code, amount)
    payload["gateway"] = gateway
    return payload


def casso(number, code, amount, abbreviation):
    body = casso_body(number, code, amount)
    body["data"]["bankAbbreviation"] = abbreviation
    body["data"]["bankName"] = abbreviation
    return body


def assert_not_paid(app, intent):
    assert intent_state(app, intent.public_id)["status"] == "requires_action"
    assert intent_state(app, intent.public_id)["amount_received"] == 0


# --- the same number at two banks in two communes --------------------------------------------------------------

@pytest.mark.parametrize("send", [
    pytest.param(lambda c, code: post_sepay(c, sepay(NUMBER, code, 150_000, "Vietcombank"), key="a-own-sepay-key"),
                 id="sepay-own-key"),
    pytest.param(lambda c, code: post_sepay(c, sepay(NUMBER, code, 150_000, ""), key="a-own-sepay-key"),
                 id="sepay-own-key-no-bank"),
    pytest.param(lambda c, code: post_sepay(c, sepay(NUMBER, code, 150_000, "Vietcombank")), id="sepay-platform"),
    pytest.param(lambda c, code: post_casso(c, casso(NUMBER, code, 150_000, "VCB"), key="a-own-casso-key"),
                 id="casso-own-key"),
    pytest.param(lambda c, code: post_casso(c, casso(NUMBER, code, 150_000, "VCB")), id="casso-platform"),
    pytest.param(lambda c, code: post_payos(c, payos_body(NUMBER, code, 150_000, key="a-own-payos-key")),
                 id="payos-own-key"),
    pytest.param(lambda c, code: post_payos(c, payos_body(NUMBER, code, 150_000)), id="payos-platform-no-bank"),
])
def test_money_into_the_lookalike_account_never_pays_the_other_communes_intent(app, client, b_intent, send):
    assert send(client, b_intent.reference_code).status_code == 200
    assert_not_paid(app, b_intent)
    [stored] = transfers(app)
    assert stored["intent_id"] is None and stored["status"] == "unmatched"


def test_a_statement_of_the_lookalike_account_never_pays_the_other_communes_intent(app, communes, b_intent,
                                                                                  lookalike):
    csv_text = f"transaction_id,date,amount,content\n1,30/11/2026 09:00,150000,{b_intent.reference_code}\n"
    with app.app_context(), tenant_context(communes[0]):
        result = import_statement(csv_text, lookalike)
    assert result.counts == {"unmatched": 1}
    assert_not_paid(app, b_intent)
    assert transfers(app)[0]["tenant_id"] == communes[0].id  # waits in A's inbox, the account's commune


def test_an_own_key_cannot_claim_the_other_bank(app, client, b_intent):
    """A's key with the victim's bank named: A's secret is not a candidate for that account, so 401."""
    response = post_sepay(client, sepay(NUMBER, b_intent.reference_code, 150_000, "VietinBank"),
                          key="a-own-sepay-key")
    assert response.status_code == 401
    assert transfers(app) == []


def test_the_victims_own_bank_named_by_the_platform_source_pays_it(app, client, b_intent, communes):
    """The control: the same notification naming B's bank does pay B's intent (so the refusals above are real)."""
    assert post_sepay(client, sepay(NUMBER, b_intent.reference_code, 150_000, "VietinBank")).status_code == 200
    assert intent_state(app, b_intent.public_id)["status"] == "succeeded"
    assert transfers(app)[0]["tenant_id"] == communes[1].id


def test_statement_rows_numbered_alike_in_the_two_accounts_are_two_transfers(app, communes, victim, lookalike):
    csv_text = "transaction_id,date,amount,content\n1,30/11/2026 09:00,50000,tien hang\n"
    with app.app_context(), tenant_context(communes[0]):
        assert import_statement(csv_text, lookalike).counts == {"unmatched": 1}
    with app.app_context(), tenant_context(communes[1]):
        assert import_statement(csv_text, victim).counts == {"unmatched": 1}
    assert sorted(t["tenant_id"] for t in transfers(app)) == sorted(c.id for c in communes)


def test_a_second_account_with_the_same_bank_and_number_is_refused(app, communes, victim):
    with app.app_context(), tenant_context(communes[0]):
        with pytest.raises(ValidationError) as caught:
            create_account("Quầy chợ", VIETINBANK, NUMBER, "NGUYEN VAN A")
        assert caught.value.field == "account_number"
        db.session.rollback()
        other_bank = create_account("Quầy chợ", VIETCOMBANK, NUMBER, "NGUYEN VAN A")
        assert other_bank.id != victim.id


# --- one transfer, one record -----------------------------------------------------------------------------------

@pytest.fixture
def account(app, communes):
    return make_account(app, communes[0], "0011001234567", VIETCOMBANK)


@pytest.fixture
def intent(app, account):
    return make_intent(app, account, 150_000)


def statement(app, account, code, reference, *, amount=150_000, when="30/11/2026 09:00", txn_id="1"):
    csv_text = f"transaction_id,date,amount,content,reference\n{txn_id},{when},{amount},{code},{reference}\n"
    with app.app_context(), tenant_context(account.tenant_id):
        return import_statement(csv_text, account).counts


def test_a_sepay_notification_then_the_statement_record_the_transfer_once(app, client, account, intent):
    ref = bank_reference()
    assert post_sepay(client, sepay_payload(account.account_number, intent.reference_code, 150_000,
                                            reference=ref)).status_code == 200
    assert statement(app, account, intent.reference_code, ref) == {"already_recorded": 1}
    [stored] = transfers(app)
    assert stored["provider"] == "sepay" and stored["status"] == "matched"
    state = intent_state(app, intent.public_id)
    assert (state["status"], state["amount_received"], state["flag"]) == ("succeeded", 150_000, None)


def test_the_statement_first_then_the_notification_record_it_once(app, client, account, intent):
    ref = bank_reference()
    assert statement(app, account, intent.reference_code, ref) == {"matched": 1}
    assert post_sepay(client, sepay_payload(account.account_number, intent.reference_code, 150_000,
                                            reference=ref)).status_code == 200
    assert len(transfers(app)) == 1
    assert intent_state(app, intent.public_id)["flag"] is None


def test_two_gateways_watching_one_account_record_it_once(app, client, account, intent):
    ref = bank_reference()
    assert post_casso(client, casso_body(account.account_number, intent.reference_code, 150_000,
                                         reference=ref)).status_code == 200
    assert post_payos(client, payos_body(account.account_number, intent.reference_code, 150_000,
                                         reference=ref)).status_code == 200
    assert post_sepay(client, sepay_payload(account.account_number, intent.reference_code, 150_000,
                                            reference=ref)).status_code == 200
    [stored] = transfers(app)
    assert stored["provider"] == "casso"
    state = intent_state(app, intent.public_id)
    assert (state["amount_received"], state["flag"]) == (150_000, None)


def test_the_same_reference_into_another_account_is_another_transfer(app, client, account, intent, communes):
    other = make_account(app, communes[1], "0021009876543", VIETCOMBANK)
    ref = bank_reference()
    assert post_sepay(client, sepay_payload(account.account_number, intent.reference_code, 150_000,
                                            reference=ref)).status_code == 200
    assert post_sepay(client, sepay_payload(other.account_number, "tien hang", 20_000,
                                            reference=ref)).status_code == 200
    assert len(transfers(app)) == 2


# --- lateness by the bank's time --------------------------------------------------------------------------------

def _deadline(app, intent, moment: datetime) -> None:
    with app.app_context(), all_tenants():
        db.session.execute(update(PaymentIntent).where(PaymentIntent.id == intent.id).values(expires_at=moment))
        db.session.commit()


def _vn(moment: datetime) -> str:
    return (moment + timedelta(hours=7)).strftime("%d/%m/%Y %H:%M:%S")


def test_an_on_time_transfer_imported_late_stays_on_time(app, account, intent):
    deadline = datetime.now(timezone.utc) - timedelta(hours=1)
    _deadline(app, intent, deadline)
    with app.app_context():
        assert transactions.run(expire_due) == 1  # our clock canceled it an hour ago
    assert statement(app, account, intent.reference_code, bank_reference(),
                     when=_vn(deadline - timedelta(minutes=5))) == {"matched": 1}
    state = intent_state(app, intent.public_id)
    assert (state["status"], state["flag"], state["cancellation_reason"]) == ("succeeded", None, None)


def test_a_bank_clock_a_minute_ahead_is_tolerated(app, account, intent):
    deadline = datetime.now(timezone.utc) - timedelta(minutes=30)
    _deadline(app, intent, deadline)
    assert statement(app, account, intent.reference_code, bank_reference(),
                     when=_vn(deadline + timedelta(minutes=1))) == {"matched": 1}


def test_a_transfer_the_bank_dates_after_the_deadline_is_late(app, account, intent):
    deadline = datetime.now(timezone.utc) - timedelta(minutes=30)
    _deadline(app, intent, deadline)
    assert statement(app, account, intent.reference_code, bank_reference(),
                     when=_vn(deadline + timedelta(minutes=10))) == {"late": 1}
    assert intent_state(app, intent.public_id)["status"] == "canceled"


def test_a_gateway_retry_after_our_error_is_judged_by_the_bank_time(app, client, account, intent):
    payload = sepay_payload(account.account_number, intent.reference_code, 150_000)
    bank_time = datetime.now(timezone.utc) - timedelta(minutes=20) + timedelta(hours=7)  # Vietnam time
    payload["transactionDate"] = bank_time.strftime("%Y-%m-%d %H:%M:%S")
    _deadline(app, intent, datetime.now(timezone.utc) - timedelta(minutes=10))
    assert post_sepay(client, payload).status_code == 200
    assert intent_state(app, intent.public_id)["status"] == "succeeded"


# --- accepting a larger late transfer -----------------------------------------------------------------------------

def test_accepting_a_larger_late_transfer_leaves_the_difference_for_a_refund(app, make, communes, account):
    officer = make.user("officer@battrang.vn", "officer", communes[0])
    expired = make_intent(app, account, 150_000, expired=True)
    statement(app, account, expired.reference_code, bank_reference(), amount=200_000,
              when=_vn(datetime.now(timezone.utc)))
    [late] = transfers(app)
    assert late["status"] == "late"
    with app.app_context():
        transactions.run(lambda: reconciliation.accept_late(late["id"], expired.tenant_id,
                                                            db.session.get(User, officer.id)))
    state = intent_state(app, expired.public_id)
    assert (state["status"], state["flag"], state["amount_received"]) == ("succeeded", "overpaid", 200_000)
    [still] = transfers(app)
    assert still["status"] == "overpaid"  # still in the inbox, waiting for a refund decision
    with app.app_context(), tenant_context(communes[0]):
        assert [t.id for t in db.session.scalars(reconciliation.inbox_query(communes[0].id))] == [late["id"]]


def test_transfers_keep_the_bank_reference_and_the_payer(app, client, account, intent):
    ref = bank_reference()
    assert post_casso(client, casso_body(account.account_number, intent.reference_code, 150_000,
                                         reference=ref)).status_code == 200
    from app.payments.models import BankTransfer

    with app.app_context(), all_tenants():
        stored = db.session.scalar(select(BankTransfer))
        assert (stored.bank_reference, stored.bank_bin) == (ref, VIETCOMBANK)
        assert (stored.counter_bank_bin, stored.counter_account_number) == ("970436", "0451000123456")
        assert stored.counter_account_name == "NGUYEN VAN A"


@pytest.mark.parametrize("gateway", ["casso", "payos"])
def test_a_casso_or_payos_notification_then_the_statement_record_it_once(app, client, account, intent, gateway):
    ref = bank_reference()
    if gateway == "casso":
        response = post_casso(client, casso_body(account.account_number, intent.reference_code, 150_000,
                                                 reference=ref))
    else:
        response = post_payos(client, payos_body(account.account_number, intent.reference_code, 150_000,
                                                 reference=ref))
    assert response.status_code == 200
    assert statement(app, account, intent.reference_code, ref) == {"already_recorded": 1}
    [stored] = transfers(app)
    assert stored["provider"] == gateway
    state = intent_state(app, intent.public_id)
    assert (state["amount_received"], state["flag"]) == (150_000, None)


def test_without_a_bank_reference_a_second_source_lands_in_the_inbox_never_counted(app, client, account, intent):
    """What docs/payments.md says: no reference, no cross-source recognition; the repeat waits for a person."""
    payload = sepay_payload(account.account_number, intent.reference_code, 150_000)
    payload["referenceCode"] = None
    assert post_sepay(client, payload).status_code == 200
    assert statement(app, account, intent.reference_code, "") == {"duplicate": 1}
    state = intent_state(app, intent.public_id)
    assert (state["amount_received"], state["flag"]) == (150_000, "overpaid")


def test_a_statement_date_without_time_is_on_time_only_if_the_whole_day_was(app, account, intent):
    day = (datetime.now(timezone.utc) + timedelta(hours=7) - timedelta(days=2)).date()  # Vietnam, two days ago
    local_noon = datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc) - timedelta(hours=7)
    _deadline(app, intent, local_noon)  # the payment was due at noon that day
    when = day.strftime("%d/%m/%Y")
    assert statement(app, account, intent.reference_code, bank_reference(), when=when) == {"late": 1}
    other = make_intent(app, account, 150_000)
    _deadline(app, other, local_noon + timedelta(hours=12, minutes=30))  # due just after that day ended
    assert statement(app, account, other.reference_code, bank_reference(), when=when, txn_id="2") == {"matched": 1}
