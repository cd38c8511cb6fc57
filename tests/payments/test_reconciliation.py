"""confirm_transfer and the reconciliation inbox: short, top-up, overpaid, late, paid twice, unmatched, assign,
resolve, accept_late, a reference code that names a payment into another bank account; bank-statement import."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from app import transactions
from app.auth.models import User
from app.errors import NotFound, ValidationError
from app.extensions import db
from app.payments.bank import reconciliation
from app.payments.models import BankTransfer
from app.payments.bank.notifications import BankTransaction
from app.payments.bank.statement import StatementError, decode_statement, import_statement, parse_amount, parse_date
from tenants.scoping import all_tenants, tenant_context
from tests.payments.helpers import (
    ACCOUNT_A,
    ACCOUNT_B,
    claims,
    event_types,
    intent_state,
    make_account,
    make_intent,
    mangle,
    transfer,
    transfers,
)

pytestmark = pytest.mark.usefixtures("bank_secrets")


def txn(content: str, amount: int, account_number: str | None = ACCOUNT_A, *, provider: str = "sepay",
        txn_id: str | None = None, direction: str = "in") -> BankTransaction:
    return BankTransaction(
        provider=provider, provider_txn_id=txn_id or uuid.uuid4().hex, amount=amount, content=content,
        account_number=account_number, bank="Vietcombank", occurred_at=datetime.now(timezone.utc), reference=None,
        raw={"test": True}, direction=direction,
    )


def confirm(app, transaction: BankTransaction, **kwargs):
    with app.app_context():
        outcome = transactions.run(lambda: reconciliation.confirm_transfer(transaction, **kwargs))
        return outcome.transfer.id, outcome.duplicate


def inbox_ids(app, tenant_id: int | None) -> list[int]:
    """The inbox as a commune's page (in its tenant context) or the district's (across tenants) reads it."""
    with app.app_context(), tenant_context(tenant_id) if tenant_id is not None else all_tenants():
        return [t.id for t in db.session.scalars(reconciliation.inbox_query(tenant_id))]


@pytest.fixture
def communes(make):
    return make.tenant("xa-bat-trang", "Bát Tràng"), make.tenant("xa-kieu-ky", "Kiêu Kỵ")


@pytest.fixture
def accounts(app, communes):
    return make_account(app, communes[0], ACCOUNT_A), make_account(app, communes[1], ACCOUNT_B)


@pytest.fixture
def intent(app, accounts):
    return make_intent(app, accounts[0], 150_000)


@pytest.fixture
def officer(make, communes):
    return make.user("officer@battrang.vn", "officer", communes[0])


# --- amounts ---------------------------------------------------------------------------------------------------

def test_exact_payment_is_matched(app, intent):
    transfer_id, duplicate = confirm(app, txn(mangle(intent.reference_code), 150_000))
    assert not duplicate
    assert intent_state(app, intent.public_id)["status"] == "succeeded"
    assert transfer(app, transfer_id)["status"] == "matched"
    assert inbox_ids(app, intent.tenant_id) == []


def test_short_payment_is_flagged_not_paid_and_waits_in_the_inbox(app, intent):
    transfer_id, _ = confirm(app, txn(mangle(intent.reference_code), 100_000))
    state = intent_state(app, intent.public_id)
    assert state["status"] == "requires_action"
    assert state["flag"] == "short" and state["amount_received"] == 100_000
    assert transfer(app, transfer_id)["status"] == "short"
    assert inbox_ids(app, intent.tenant_id) == [transfer_id]
    assert event_types(app, intent.public_id)[-1] == "payment_intent.partially_funded"
    assert "payment_intent.succeeded" not in event_types(app, intent.public_id)


def test_a_top_up_completes_a_short_payment_and_clears_the_inbox(app, intent):
    short_id, _ = confirm(app, txn(mangle(intent.reference_code), 100_000))
    top_up_id, _ = confirm(app, txn(f"bo sung {intent.reference_code}", 50_000))
    state = intent_state(app, intent.public_id)
    assert state == {"status": "succeeded", "amount_received": 150_000, "flag": None, "cancellation_reason": None}
    assert transfer(app, short_id)["status"] == "matched"
    assert transfer(app, top_up_id)["status"] == "matched"
    assert inbox_ids(app, intent.tenant_id) == []
    assert event_types(app, intent.public_id).count("payment_intent.succeeded") == 1


def test_overpayment_succeeds_flagged_overpaid_and_waits_in_the_inbox(app, intent):
    transfer_id, _ = confirm(app, txn(mangle(intent.reference_code), 200_000))
    state = intent_state(app, intent.public_id)
    assert state["status"] == "succeeded" and state["flag"] == "overpaid" and state["amount_received"] == 200_000
    assert transfer(app, transfer_id)["status"] == "overpaid"
    assert inbox_ids(app, intent.tenant_id) == [transfer_id]
    assert event_types(app, intent.public_id)[-2:] == ["payment_intent.succeeded", "payment_intent.overpaid"]


def test_a_second_payment_of_a_paid_intent_is_a_duplicate_in_the_inbox(app, intent):
    confirm(app, txn(intent.reference_code, 150_000))
    second_id, _ = confirm(app, txn(intent.reference_code, 150_000))
    assert transfer(app, second_id)["status"] == "duplicate"
    assert intent_state(app, intent.public_id)["amount_received"] == 150_000
    assert inbox_ids(app, intent.tenant_id) == [second_id]


def test_the_same_provider_transaction_twice_changes_nothing(app, intent):
    first = txn(intent.reference_code, 100_000, txn_id="92704")
    first_id, _ = confirm(app, first)
    again_id, duplicate = confirm(app, first)
    assert duplicate and again_id == first_id
    assert intent_state(app, intent.public_id)["amount_received"] == 100_000
    assert len(transfers(app)) == 1


# --- late payments ---------------------------------------------------------------------------------------------

def test_payment_after_expiry_is_late_the_intent_canceled_and_in_the_inbox(app, accounts):
    expired = make_intent(app, accounts[0], 150_000, expired=True)
    transfer_id, _ = confirm(app, txn(mangle(expired.reference_code), 150_000))
    state = intent_state(app, expired.public_id)
    assert state["status"] == "canceled" and state["flag"] == "late" and state["amount_received"] == 0
    assert state["cancellation_reason"] == "abandoned"
    assert transfer(app, transfer_id)["status"] == "late"
    assert inbox_ids(app, expired.tenant_id) == [transfer_id]
    assert event_types(app, expired.public_id)[-2:] == ["payment_intent.canceled", "payment_intent.late_payment"]


def test_accept_late_marks_the_intent_paid_flagged_late(app, accounts, officer):
    expired = make_intent(app, accounts[0], 150_000, expired=True)
    transfer_id, _ = confirm(app, txn(mangle(expired.reference_code), 150_000))
    with app.app_context():
        transactions.run(lambda: reconciliation.accept_late(transfer_id, expired.tenant_id, db.session.get(User,
                                                            officer.id)))
    state = intent_state(app, expired.public_id)
    assert state["status"] == "succeeded" and state["flag"] == "late" and state["amount_received"] == 150_000
    assert state["cancellation_reason"] is None
    assert transfer(app, transfer_id)["status"] == "resolved"
    assert inbox_ids(app, expired.tenant_id) == []
    assert event_types(app, expired.public_id)[-1] == "payment_intent.succeeded"


def test_accept_late_refuses_too_little_money_and_changes_nothing(app, accounts, officer):
    expired = make_intent(app, accounts[0], 150_000, expired=True)
    transfer_id, _ = confirm(app, txn(expired.reference_code, 100_000))
    with app.app_context():
        with pytest.raises(ValidationError):
            transactions.run(lambda: reconciliation.accept_late(transfer_id, expired.tenant_id,
                                                                db.session.get(User, officer.id)))
        db.session.commit()  # even a commit afterwards must not write a half-applied change
    state = intent_state(app, expired.public_id)
    assert state["status"] == "canceled" and state["amount_received"] == 0
    assert transfer(app, transfer_id)["status"] == "late"


def test_accept_late_only_for_late_transfers(app, intent, officer):
    short_id, _ = confirm(app, txn(intent.reference_code, 100_000))
    with app.app_context(), pytest.raises(ValidationError):
        transactions.run(lambda: reconciliation.accept_late(short_id, intent.tenant_id, db.session.get(User,
                                                            officer.id)))


# --- unmatched, attribution, assign, resolve -------------------------------------------------------------------

def test_unmatched_transfer_into_a_known_account_goes_to_its_communes_inbox(app, accounts, communes):
    transfer_id, _ = confirm(app, txn("chuyen tien hoc phi", 80_000, ACCOUNT_B))
    assert transfer(app, transfer_id)["tenant_id"] == communes[1].id
    assert inbox_ids(app, communes[1].id) == [transfer_id]
    assert inbox_ids(app, communes[0].id) == []
    assert inbox_ids(app, None) == [transfer_id]


def test_unmatched_transfer_into_an_unknown_account_is_for_the_district_only(app, accounts, communes):
    transfer_id, _ = confirm(app, txn("GLXXXXXXXX ung ho", 80_000, "999999999"))
    assert transfer(app, transfer_id)["tenant_id"] is None
    assert inbox_ids(app, communes[0].id) == [] and inbox_ids(app, communes[1].id) == []
    assert inbox_ids(app, None) == [transfer_id]


def test_a_reference_code_of_a_payment_into_another_account_is_not_applied(app, accounts, communes):
    intent_b = make_intent(app, accounts[1], 90_000)
    transfer_id, _ = confirm(app, txn(mangle(intent_b.reference_code), 90_000, ACCOUNT_A))
    stored = transfer(app, transfer_id)
    assert stored["status"] == "unmatched" and stored["intent_id"] is None
    assert stored["tenant_id"] == communes[0].id  # the account the money went into
    assert "another bank account" in stored["note"]
    assert intent_state(app, intent_b.public_id)["status"] == "requires_action"
    assert intent_state(app, intent_b.public_id)["amount_received"] == 0


def test_when_two_codes_appear_the_one_of_the_receiving_account_wins(app, accounts, intent):
    intent_b = make_intent(app, accounts[1], 150_000)
    confirm(app, txn(f"{intent_b.reference_code} {intent.reference_code}", 150_000, ACCOUNT_A))
    assert intent_state(app, intent.public_id)["status"] == "succeeded"
    assert intent_state(app, intent_b.public_id)["status"] == "requires_action"


def test_assign_applies_an_unmatched_transfer_to_a_payment(app, intent, officer):
    transfer_id, _ = confirm(app, txn("chuyen khoan le phi chung thuc", 150_000))
    with app.app_context():
        transactions.run(lambda: reconciliation.assign(transfer_id, intent.tenant_id, intent.public_id,
                                                       db.session.get(User, officer.id)))
    assert transfer(app, transfer_id)["status"] == "matched"
    assert transfer(app, transfer_id)["intent_id"] == intent.id
    assert intent_state(app, intent.public_id)["status"] == "succeeded"
    assert inbox_ids(app, intent.tenant_id) == []


def test_a_commune_cannot_assign_to_another_communes_payment(app, accounts, communes, officer):
    intent_b = make_intent(app, accounts[1], 150_000)
    transfer_id, _ = confirm(app, txn("chuyen khoan", 150_000))
    with app.app_context(), pytest.raises(NotFound):
        transactions.run(lambda: reconciliation.assign(transfer_id, communes[0].id, intent_b.public_id,
                                                       db.session.get(User, officer.id)))
    assert transfer(app, transfer_id)["status"] == "unmatched"
    assert intent_state(app, intent_b.public_id)["amount_received"] == 0


def test_the_district_assigns_an_unattributed_transfer(app, intent, make):
    district = make.user("district@gialam.vn", "district_admin")
    transfer_id, _ = confirm(app, txn("no memo", 150_000, "999999999"))
    with app.app_context():
        transactions.run(lambda: reconciliation.assign(transfer_id, None, intent.public_id, db.session.get(User,
                                                       district.id)))
    stored = transfer(app, transfer_id)
    assert stored["tenant_id"] == intent.tenant_id and stored["status"] == "matched"
    assert intent_state(app, intent.public_id)["status"] == "succeeded"


def test_resolve_requires_a_note(app, intent, officer):
    transfer_id, _ = confirm(app, txn("no memo", 20_000))
    with app.app_context():
        user = db.session.get(User, officer.id)
        with pytest.raises(ValidationError):
            transactions.run(lambda: reconciliation.resolve(transfer_id, intent.tenant_id, user, "   "))
        assert transfer(app, transfer_id)["status"] == "unmatched"
        transactions.run(lambda: reconciliation.resolve(transfer_id, intent.tenant_id, user,
                                                        "Refunded to the payer on 25/07"))
    stored = transfer(app, transfer_id)
    assert stored["status"] == "resolved" and stored["note"] == "Refunded to the payer on 25/07"
    assert inbox_ids(app, intent.tenant_id) == []


def test_another_commune_cannot_touch_the_transfer(app, intent, communes, officer):
    transfer_id, _ = confirm(app, txn("no memo", 20_000))
    with app.app_context():
        user = db.session.get(User, officer.id)
        with pytest.raises(NotFound):
            transactions.run(lambda: reconciliation.resolve(transfer_id, communes[1].id, user, "mine now"))
        with pytest.raises(NotFound):
            transactions.run(lambda: reconciliation.assign(transfer_id, communes[1].id, intent.public_id, user))
    assert transfer(app, transfer_id)["status"] == "unmatched"


# --- confirm by hand, outgoing, bad values ---------------------------------------------------------------------

def test_confirm_by_hand_is_a_claim_not_money(app, intent, officer, communes):
    with app.app_context(), tenant_context(communes[0]):
        reconciliation.confirm_by_hand(intent.public_id, 150_000, db.session.get(User, officer.id),
                                       "Seen on the Vietcombank app")
        db.session.commit()
    state = intent_state(app, intent.public_id)
    assert state["status"] == "succeeded" and state["amount_received"] == 0 and state["flag"] is None
    assert transfers(app) == []
    [claim] = claims(app)
    assert claim["status"] == "open" and claim["note"] == "Seen on the Vietcombank app"


def test_the_banks_transfer_after_a_claim_settles_it_once(app, intent, officer, communes):
    with app.app_context(), tenant_context(communes[0]):
        reconciliation.confirm_by_hand(intent.public_id, 150_000, db.session.get(User, officer.id), "seen")
        db.session.commit()
    transfer_id, _ = confirm(app, txn(intent.reference_code, 150_000))
    state = intent_state(app, intent.public_id)
    assert state["status"] == "succeeded" and state["amount_received"] == 150_000 and state["flag"] is None
    assert transfer(app, transfer_id)["status"] == "matched"
    [claim] = claims(app)
    assert claim["status"] == "settled" and claim["settled_transfer_id"] == transfer_id
    assert event_types(app, intent.public_id).count("payment_intent.succeeded") == 1
    assert "payment_intent.overpaid" not in event_types(app, intent.public_id)
    assert inbox_ids(app, intent.tenant_id) == []


def test_a_claim_the_bank_never_confirms_shows_in_the_inbox_after_the_set_days(app, client, intent, officer,
                                                                            communes):
    from datetime import timedelta

    from app.clock import utcnow

    with app.app_context(), tenant_context(communes[0]):
        reconciliation.confirm_by_hand(intent.public_id, 150_000, db.session.get(User, officer.id), "seen")
        db.session.commit()
        days = app.config["PAYMENT_CLAIM_DAYS"]
        assert reconciliation.overdue_claims(communes[0].id, utcnow() + timedelta(days=days - 1)) == []
        [late] = reconciliation.overdue_claims(communes[0].id, utcnow() + timedelta(days=days, minutes=1))
        assert late.intent_id == intent.id
        assert reconciliation.overdue_claims(communes[1].id, utcnow() + timedelta(days=days, minutes=1)) == []


def test_confirm_by_hand_of_a_paid_or_short_claimed_amount_is_refused(app, intent, officer, communes):
    confirm(app, txn(intent.reference_code, 50_000))
    with app.app_context(), tenant_context(communes[0]):
        with pytest.raises(ValidationError):
            reconciliation.confirm_by_hand(intent.public_id, 50_000, db.session.get(User, officer.id), "part")
        reconciliation.confirm_by_hand(intent.public_id, 100_000, db.session.get(User, officer.id), "the rest")
        db.session.commit()
        with pytest.raises(ValidationError):
            reconciliation.confirm_by_hand(intent.public_id, 100_000, db.session.get(User, officer.id), "again")
    assert intent_state(app, intent.public_id)["amount_received"] == 50_000
    assert [c["amount"] for c in claims(app)] == [100_000]


def test_confirm_by_hand_cannot_reach_another_communes_payment(app, accounts, communes, officer):
    intent_b = make_intent(app, accounts[1], 150_000)
    with app.app_context(), tenant_context(communes[0]), pytest.raises(NotFound):
        transactions.run(lambda: reconciliation.confirm_by_hand(intent_b.public_id, 150_000, db.session.get(User,
                                                                officer.id)))
    assert intent_state(app, intent_b.public_id)["amount_received"] == 0


def test_outgoing_transfer_is_recorded_and_never_matched(app, intent):
    transfer_id, _ = confirm(app, txn(intent.reference_code, 150_000, direction="out"))
    assert transfer(app, transfer_id)["status"] == "outgoing"
    assert intent_state(app, intent.public_id)["amount_received"] == 0
    assert inbox_ids(app, intent.tenant_id) == []


@pytest.mark.parametrize("changes", [
    {"provider_txn_id": "x" * 101}, {"provider_txn_id": ""}, {"amount": 0}, {"amount": 10**14},
    {"account_number": "9" * 41},
])
def test_values_the_columns_cannot_hold_are_refused_before_any_write(app, intent, changes):
    from dataclasses import replace

    with app.app_context(), pytest.raises(ValidationError):
        transactions.run(lambda: reconciliation.confirm_transfer(replace(txn(intent.reference_code, 150_000),
                                                                 **changes)))
    assert transfers(app) == []


def test_nul_characters_are_dropped_from_the_transfer_text(app, intent):
    transfer_id, _ = confirm(app, txn(f"{intent.reference_code}\x00 thanh toan", 150_000))
    assert "\x00" not in transfer(app, transfer_id)["content"]
    assert intent_state(app, intent.public_id)["status"] == "succeeded"


def test_inbox_query_lists_only_waiting_statuses(app, intent):
    confirm(app, txn(intent.reference_code, 150_000))  # matched
    confirm(app, txn("no code", 1_000))  # unmatched
    with app.app_context(), tenant_context(intent.tenant_id):
        statuses = {t.status for t in db.session.scalars(reconciliation.inbox_query(intent.tenant_id))}
        assert statuses == {"unmatched"}
        assert db.session.scalar(select(BankTransfer).where(BankTransfer.status == "matched")) is not None


# --- bank-statement import -------------------------------------------------------------------------------------

def run_import(app, csv_text: str, account):
    with app.app_context(), tenant_context(account.tenant_id):
        return import_statement(csv_text, account)


def test_statement_rows_go_through_confirm_transfer(app, accounts, intent):
    short = make_intent(app, accounts[0], 300_000)
    csv_text = (
        "transaction_id,date,amount,content\n"
        f"FT001,25/07/2024 14:02,\"150,000\",MBVCB.3312.{intent.reference_code[:5]} {intent.reference_code[5:]}\n"
        f"FT002,2024-07-25T15:00:00+07:00,100.000 ₫,{short.reference_code} dot 1\n"
        "FT003,25/07/2024,50000,khong co ma\n"
        "FT004,25/07/2024 16:00:05,-20.000,phi chuyen tien\n"
    )
    result = run_import(app, csv_text, accounts[0])
    assert result.errors == []
    assert result.counts == {"matched": 1, "short": 1, "unmatched": 1, "outgoing": 1}
    assert result.imported == 4
    assert intent_state(app, intent.public_id)["status"] == "succeeded"
    assert intent_state(app, short.public_id)["amount_received"] == 100_000
    stored = {t["provider_txn_id"]: t for t in transfers(app)}
    assert set(stored) == {"FT001", "FT002", "FT003", "FT004"}
    assert all(t["provider"] == "statement" and t["account_number"] == ACCOUNT_A for t in stored.values())


def test_importing_the_same_statement_twice_changes_nothing(app, accounts, intent):
    csv_text = f"transaction_id,date,amount,content\nFT001,25/07/2024 14:02,150000,{intent.reference_code}\n"
    assert run_import(app, csv_text, accounts[0]).counts == {"matched": 1}
    again = run_import(app, csv_text, accounts[0])
    assert again.counts == {"already_recorded": 1} and again.imported == 0
    assert len(transfers(app)) == 1
    assert event_types(app, intent.public_id).count("payment_intent.succeeded") == 1


def test_two_communes_statements_may_number_their_rows_alike(app, accounts, intent):
    """Statement exports number their own rows: row 1 of commune B is not row 1 of commune A."""
    intent_b = make_intent(app, accounts[1], 90_000)
    assert run_import(app, f"transaction_id,date,amount,content\n1,25/07/2024,150000,{intent.reference_code}\n",
                      accounts[0]).counts == {"matched": 1}
    assert run_import(app, f"transaction_id,date,amount,content\n1,25/07/2024,90000,{intent_b.reference_code}\n",
                      accounts[1]).counts == {"matched": 1}
    assert intent_state(app, intent_b.public_id)["status"] == "succeeded"
    assert sorted((t["account_number"], t["provider_txn_id"]) for t in transfers(app)) == [
        (ACCOUNT_A, "1"), (ACCOUNT_B, "1")]


def test_vietnamese_headers_semicolons_and_a_bom_are_accepted(app, accounts, intent):
    csv_text = ("\ufeffMã giao dịch;Ngày;Số tiền;Nội dung\r\n"
                f"FT77;25/07/2024 09:15;1.250.000;{intent.reference_code}\r\n")
    result = run_import(app, csv_text, accounts[0])
    assert result.errors == [] and result.counts == {"overpaid": 1}


def test_invalid_rows_are_reported_with_their_line_number_and_skipped(app, accounts, intent):
    csv_text = (
        "transaction_id,date,amount,content\n"
        ",25/07/2024,1000,no id\n"                              # line 2
        "FT2,32/13/2024,1000,bad date\n"                         # line 3
        "FT3,25/07/2024,12.5,decimal amount\n"                   # line 4
        "\n"
        "FT5,25/07/2024,0,zero\n"                                # line 6
        f"FT6,25/07/2024,150.000,{intent.reference_code}\n"      # line 7: good
        f"{'X' * 101},25/07/2024,1000,long id\n"                 # line 8
    )
    result = run_import(app, csv_text, accounts[0])
    assert [e.line for e in result.errors] == [2, 3, 4, 6, 8]
    assert result.counts == {"matched": 1}
    assert [t["provider_txn_id"] for t in transfers(app)] == ["FT6"]


@pytest.mark.parametrize("csv_text", [
    "", "\n\n", "FT001,25/07/2024,150000,GLAAAAAAAA\n", "id,date,amount\nFT1,25/07/2024,1000\n",
])
def test_a_file_without_a_valid_header_is_refused_as_a_whole(app, accounts, csv_text):
    with pytest.raises(StatementError):
        run_import(app, csv_text, accounts[0])
    assert transfers(app) == []


def test_decode_statement_refuses_non_utf8(app):
    with app.app_context():
        assert decode_statement("\ufeffa,b".encode("utf-8")) == "a,b"
        with pytest.raises(StatementError):
            decode_statement("Nội dung".encode("utf-16"))


@pytest.mark.parametrize("text,expected", [
    ("1.250.000", 1_250_000), ("1250000", 1_250_000), ("1,250,000", 1_250_000), ("1.250.000 ₫", 1_250_000),
    ("200000 VND", 200_000), ("-500.000", -500_000), ("1.250.000,00", 1_250_000),
])
def test_parse_amount(text, expected):
    assert parse_amount(text) == expected


@pytest.mark.parametrize("text", ["", "12.5", "1.25.000", "abc", "1e6", "1.250.000,50"])
def test_parse_amount_refuses(text):
    with pytest.raises(ValueError):
        parse_amount(text)


def test_parse_date_reads_vietnam_time():
    assert parse_date("25/07/2024 14:02") == datetime(2024, 7, 25, 7, 2, tzinfo=timezone.utc)
    assert parse_date("2024-07-25T14:02:00") == datetime(2024, 7, 25, 7, 2, tzinfo=timezone.utc)
    assert parse_date("2024-07-25T14:02:00Z") == datetime(2024, 7, 25, 14, 2, tzinfo=timezone.utc)


def test_import_statement_command(app, runner, accounts, intent, communes, tmp_path):
    path = tmp_path / "sao-ke.csv"
    path.write_text("ma_giao_dich,ngay,so_tien,noi_dung\n"
                    f"FT1,25/07/2024 10:00,150.000,{intent.reference_code}\nFT2,hom qua,1000,x\n", encoding="utf-8")
    result = runner.invoke(args=["payments", "import-statement", "--tenant", communes[0].slug, str(path)])
    assert result.exit_code == 0, result.output
    assert "matched: 1" in result.output and "line 3:" in result.output
    assert intent_state(app, intent.public_id)["status"] == "succeeded"


def test_import_statement_command_refuses_a_file_without_header(app, runner, accounts, communes, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("FT1,25/07/2024,1000,x\n", encoding="utf-8")
    result = runner.invoke(args=["payments", "import-statement", "--tenant", communes[0].slug, str(path)])
    assert result.exit_code != 0
    assert transfers(app) == []
