"""Staff payment pages and the reconciliation inbox: what each commune sees, what it may do, 404 across communes,
CSRF, flash messages for bad input, statement upload, and a fixed number of queries per page."""

from __future__ import annotations

import io
import json
import re
import uuid
from datetime import datetime, timezone

import pytest

from app import transactions
from app.extensions import db
from app.payments.bank.notifications import BankTransaction
from app.payments.bank.reconciliation import confirm_transfer
from tests.conftest import count_queries, csrf_token, data_statements, login, post_form
from tests.payments.helpers import ACCOUNT_A, ACCOUNT_B, claims, intent_state, make_account, make_intent, transfer, transfers

pytestmark = pytest.mark.usefixtures("bank_secrets")


@pytest.fixture
def world(app, make):
    """Communes A and B with staff, an account and a payment each; district admin."""
    a, b = make.tenant("xa-a", "Xã A"), make.tenant("xa-b", "Xã B")
    account_a, account_b = make_account(app, a, ACCOUNT_A), make_account(app, b, ACCOUNT_B)
    return {
        "a": a, "b": b, "account_a": account_a, "account_b": account_b,
        "intent_a": make_intent(app, account_a, 150_000), "intent_b": make_intent(app, account_b, 90_000),
        "a_admin": make.user("admin@a.vn", "commune_admin", a),
        "a_officer": make.user("officer@a.vn", "officer", a),
        "b_officer": make.user("officer@b.vn", "officer", b),
        "district": make.user("district@gialam.vn", "district_admin"),
    }


def arrive(app, content: str, amount: int, account_number: str | None = ACCOUNT_A) -> int:
    with app.app_context():
        return transactions.run(lambda: confirm_transfer(BankTransaction(
            provider="sepay", provider_txn_id=uuid.uuid4().hex, amount=amount, content=content,
            account_number=account_number, bank="Vietcombank", occurred_at=datetime.now(timezone.utc),
            reference=None, raw={},
        )).transfer.id)


def flashes(client) -> list[str]:
    with client.session_transaction() as session:
        return [message for _category, message in session.get("_flashes", [])]


# --- commune staff sees its own -------------------------------------------------------------------------------

def shown_in(html: str, name: str) -> str:
    match = re.search(rf'data-testid="{name}"[^>]*>([^<]*)<', html)
    assert match, name
    return match.group(1).strip()


def test_a_note_the_system_wrote_is_shown_in_the_staff_language(client, world, app):
    arrive(app, world["intent_b"].reference_code, 90_000, ACCOUNT_A)  # B's code, paid into A's account
    login(client, "officer@a.vn")
    html = client.get("/c/xa-a/payments/inbox").get_data(as_text=True)
    assert "Mã tham chiếu thuộc về một khoản thanh toán vào tài khoản ngân hàng khác." in html
    assert "names a payment to another bank account" not in html


def test_the_desk_shows_todays_money_the_inbox_and_the_week_of_its_own_commune_only(client, world, app):
    login(client, "officer@a.vn")
    empty = client.get("/c/xa-a/desk").get_data(as_text=True)
    assert shown_in(empty, "received-today") == "0 ₫"
    assert 'data-testid="desk-chart-empty"' in empty
    assert 'class="stat"' in empty and "attention" not in empty

    arrive(app, f"{world['intent_a'].reference_code} le phi", 150_000)
    arrive(app, "khong co ma", 20_000)  # into A's account, nothing matches: A's inbox
    arrive(app, world["intent_b"].reference_code, 90_000, ACCOUNT_B)  # commune B's money
    arrive(app, "khong co ma", 70_000, ACCOUNT_B)  # B's inbox
    html = client.get("/c/xa-a/desk").get_data(as_text=True)
    assert shown_in(html, "received-today") == "150.000 ₫"
    inbox = re.search(r'<a class="stat attention" href="([^"]+)" data-testid="desk-inbox"><span class="stat-value">(\d+)<',
                      html)
    assert inbox and inbox.groups() == ("/c/xa-a/payments/inbox", "1")
    assert 'data-testid="desk-chart"' in html and "desk-chart-empty" not in html
    assert "150.000 ₫</title>" in html  # today's column of the chart
    assert "90.000" not in html and "70.000" not in html



@pytest.mark.parametrize("email", ["admin@a.vn", "officer@a.vn"])
def test_commune_staff_sees_its_payments(client, world, email):
    login(client, email)
    page = client.get("/c/xa-a/payments/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert world["intent_a"].reference_code in html
    assert "150.000 ₫" in html
    assert world["intent_b"].reference_code not in html


def test_commune_staff_sees_its_inbox_only(app, client, world):
    mine = arrive(app, "tien hoc phi khong ma", 70_000, ACCOUNT_A)
    theirs = arrive(app, "ung ho xa B", 30_000, ACCOUNT_B)
    login(client, "officer@a.vn")
    html = client.get("/c/xa-a/payments/inbox").get_data(as_text=True)
    assert f'data-transfer-id="{mine}"' in html and "tien hoc phi khong ma" in html
    assert f'data-transfer-id="{theirs}"' not in html and "ung ho xa B" not in html


def test_payment_detail_page_shows_the_confirm_form(client, world):
    login(client, "officer@a.vn")
    page = client.get(f"/c/xa-a/payments/{world['intent_a'].public_id}")
    assert page.status_code == 200
    assert 'data-testid="confirm-form"' in page.get_data(as_text=True)


def test_district_admin_sees_every_commune_and_unattributed_transfers(app, client, world):
    a_item = arrive(app, "khong ma", 10_000, ACCOUNT_A)
    nobody = arrive(app, "chuyen nham", 20_000, "555666777")
    login(client, "district@gialam.vn")
    html = client.get("/district/payments/inbox").get_data(as_text=True)
    assert f'data-transfer-id="{a_item}"' in html and f'data-transfer-id="{nobody}"' in html
    assert "Xã A" in html


def test_commune_staff_cannot_open_the_district_inbox(client, world):
    login(client, "admin@a.vn")
    assert client.get("/district/payments/inbox").status_code == 403


# --- another commune: 404, and nothing changes ----------------------------------------------------------------

@pytest.mark.parametrize("path", ["/c/xa-a/payments/", "/c/xa-a/payments/inbox", "/c/xa-a/payments/statement",
                                  "/c/xa-a/payments/{pi}"])
def test_another_communes_officer_gets_404_for_the_pages(client, world, path):
    login(client, "officer@b.vn")
    assert client.get(path.format(pi=world["intent_a"].public_id)).status_code == 404


def test_another_communes_payment_by_id_is_404_from_ones_own_commune(app, client, world):
    login(client, "officer@b.vn")
    assert client.get(f"/c/xa-b/payments/{world['intent_a'].public_id}").status_code == 404
    response = post_form(client, f"/c/xa-b/payments/{world['intent_a'].public_id}/confirm", {"amount": "150000"})
    assert response.status_code == 404
    assert intent_state(app, world["intent_a"].public_id)["amount_received"] == 0


@pytest.mark.parametrize("action,data", [("resolve", {"note": "mine"}), ("assign", {"payment": "{pi_b}"}),
                                         ("accept-late", {})])
@pytest.mark.parametrize("commune", ["xa-a", "xa-b"])
def test_another_communes_officer_gets_404_for_actions_on_this_communes_transfers(
        app, client, world, action, data, commune):
    late_intent = make_intent(app, world["account_a"], 20_000, expired=True)
    transfer_id = arrive(app, late_intent.reference_code if action == "accept-late" else "khong ma", 20_000)
    before = transfer(app, transfer_id)
    login(client, "officer@b.vn")
    data = {k: v.format(pi_b=world["intent_b"].public_id) for k, v in data.items()}
    response = post_form(client, f"/c/{commune}/payments/inbox/{transfer_id}/{action}", data)
    assert response.status_code == 404
    assert transfer(app, transfer_id) == before
    assert intent_state(app, world["intent_b"].public_id)["amount_received"] == 0


def test_a_post_without_csrf_token_is_refused(app, client, world):
    transfer_id = arrive(app, "khong ma", 20_000)
    login(client, "officer@a.vn")
    response = client.post(f"/c/xa-a/payments/inbox/{transfer_id}/resolve", data={"note": "done"})
    assert response.status_code == 400
    response = client.post(f"/c/xa-a/payments/{world['intent_a'].public_id}/confirm", data={"amount": "150000"})
    assert response.status_code == 400
    assert transfer(app, transfer_id)["status"] == "unmatched"
    assert intent_state(app, world["intent_a"].public_id)["status"] == "requires_action"


# --- confirm by hand -------------------------------------------------------------------------------------------

def test_confirm_by_hand_marks_the_payment_paid(app, client, world):
    login(client, "officer@a.vn")
    pi = world["intent_a"].public_id
    response = post_form(client, f"/c/xa-a/payments/{pi}/confirm", {"amount": "150.000", "note": "Seen in the bank app"})
    assert response.status_code == 302
    assert intent_state(app, pi)["status"] == "succeeded"
    assert transfers(app) == []  # a claim, not a transfer: nothing counted as received
    [claim] = claims(app)
    assert claim["status"] == "open" and claim["amount"] == 150_000 and claim["claimed_by"] == "officer@a.vn"
    assert claim["note"] == "Seen in the bank app"
    assert intent_state(app, pi)["amount_received"] == 0
    assert any("150.000 ₫" in message for message in flashes(client))


@pytest.mark.parametrize("amount", ["", "0", "-5", "abc", "12.5"])
def test_confirm_by_hand_with_a_bad_amount_changes_nothing(app, client, world, amount):
    login(client, "officer@a.vn")
    pi = world["intent_a"].public_id
    response = post_form(client, f"/c/xa-a/payments/{pi}/confirm", {"amount": amount})
    assert response.status_code == 302
    assert flashes(client)
    assert transfers(app) == []
    assert intent_state(app, pi)["status"] == "requires_action"


def test_flash_messages_follow_the_ui_language(app, client, world):
    login(client, "officer@a.vn")
    with client.session_transaction() as session:
        session["lang"] = "en"
    post_form(client, f"/c/xa-a/payments/{world['intent_a'].public_id}/confirm", {"amount": "abc"})
    assert "The amount must be a whole number of đồng greater than zero." in flashes(client)


# --- the inbox actions ----------------------------------------------------------------------------------------

def test_resolve_with_a_note(app, client, world):
    transfer_id = arrive(app, "khong ma", 20_000)
    login(client, "officer@a.vn")
    response = post_form(client, f"/c/xa-a/payments/inbox/{transfer_id}/resolve", {"note": "Refunded on 25/07"})
    assert response.status_code == 302
    stored = transfer(app, transfer_id)
    assert stored["status"] == "resolved" and stored["note"] == "Refunded on 25/07"


def test_resolve_without_a_note_is_a_flash_and_changes_nothing(app, client, world):
    transfer_id = arrive(app, "khong ma", 20_000)
    login(client, "officer@a.vn")
    with client.session_transaction() as session:
        session["lang"] = "en"
    response = post_form(client, f"/c/xa-a/payments/inbox/{transfer_id}/resolve", {"note": "  "})
    assert response.status_code == 302
    assert "Say what was done with this transfer." in flashes(client)
    assert transfer(app, transfer_id)["status"] == "unmatched"


@pytest.mark.parametrize("by", ["public_id", "reference_code"])
def test_assign_by_payment_id_or_reference_code(app, client, world, by):
    transfer_id = arrive(app, "chuyen khoan le phi", 150_000)
    login(client, "officer@a.vn")
    value = getattr(world["intent_a"], by)
    response = post_form(client, f"/c/xa-a/payments/inbox/{transfer_id}/assign",
                    {"payment": value.lower() if by == "reference_code" else value})
    assert response.status_code == 302
    assert transfer(app, transfer_id)["status"] == "matched"
    assert intent_state(app, world["intent_a"].public_id)["status"] == "succeeded"


@pytest.mark.parametrize("value", ["pi_doesnotexist", "GLZZZZZZZZ", "{pi_b}", "{ref_b}"])
def test_assign_to_an_unknown_or_foreign_payment_is_a_flash(app, client, world, value):
    transfer_id = arrive(app, "chuyen khoan", 90_000)
    login(client, "officer@a.vn")
    value = value.format(pi_b=world["intent_b"].public_id, ref_b=world["intent_b"].reference_code)
    response = post_form(client, f"/c/xa-a/payments/inbox/{transfer_id}/assign", {"payment": value})
    assert response.status_code == 302
    assert flashes(client)
    assert transfer(app, transfer_id)["status"] == "unmatched"
    assert intent_state(app, world["intent_b"].public_id)["amount_received"] == 0


def test_accept_a_late_payment(app, client, world):
    late_intent = make_intent(app, world["account_a"], 20_000, expired=True)
    transfer_id = arrive(app, late_intent.reference_code, 20_000)
    login(client, "admin@a.vn")
    assert 'data-testid="accept-late-form"' in client.get("/c/xa-a/payments/inbox").get_data(as_text=True)
    response = post_form(client, f"/c/xa-a/payments/inbox/{transfer_id}/accept-late")
    assert response.status_code == 302
    state = intent_state(app, late_intent.public_id)
    assert state["status"] == "succeeded" and state["flag"] == "late"
    assert transfer(app, transfer_id)["status"] == "resolved"


def test_accept_late_on_a_short_late_payment_is_a_flash_and_changes_nothing(app, client, world):
    late_intent = make_intent(app, world["account_a"], 20_000, expired=True)
    transfer_id = arrive(app, late_intent.reference_code, 5_000)
    login(client, "admin@a.vn")
    post_form(client, f"/c/xa-a/payments/inbox/{transfer_id}/accept-late")
    assert flashes(client)
    assert intent_state(app, late_intent.public_id)["amount_received"] == 0
    assert transfer(app, transfer_id)["status"] == "late"


def test_district_assigns_an_unattributed_transfer(app, client, world):
    transfer_id = arrive(app, "chuyen nham", 90_000, "555666777")
    login(client, "district@gialam.vn")
    response = post_form(client, f"/district/payments/inbox/{transfer_id}/assign",
                    {"payment": world["intent_b"].reference_code})
    assert response.status_code == 302
    assert intent_state(app, world["intent_b"].public_id)["status"] == "succeeded"
    assert transfer(app, transfer_id)["tenant_id"] == world["b"].id


def test_district_resolves_an_unattributed_transfer(app, client, world):
    transfer_id = arrive(app, "chuyen nham", 90_000, "555666777")
    login(client, "district@gialam.vn")
    response = post_form(client, f"/district/payments/inbox/{transfer_id}/resolve", {"note": "Đã hoàn tiền"})
    assert response.status_code == 302
    stored = transfer(app, transfer_id)
    assert (stored["status"], stored["note"], stored["tenant_id"]) == ("resolved", "Đã hoàn tiền", None)


def test_district_accepts_a_communes_late_payment(app, client, world):
    late = make_intent(app, world["account_b"], 40_000, expired=True)
    transfer_id = arrive(app, late.reference_code, 40_000, ACCOUNT_B)
    assert transfer(app, transfer_id)["status"] == "late"
    login(client, "district@gialam.vn")
    assert post_form(client, f"/district/payments/inbox/{transfer_id}/accept-late", {}).status_code == 302
    assert intent_state(app, late.public_id)["status"] == "succeeded"
    assert intent_state(app, late.public_id)["flag"] == "late"
    assert transfer(app, transfer_id)["status"] == "resolved"


def test_a_transfer_resolved_twice_says_it_was_handled_not_404(app, client, world):
    """A double click, or a colleague first: the second resolve is a message on the inbox, not a missing page."""
    transfer_id = arrive(app, "khong co ma", 20_000)
    login(client, "officer@a.vn")
    path = f"/c/xa-a/payments/inbox/{transfer_id}/resolve"
    assert post_form(client, path, {"note": "Trả lại tiền"}).status_code == 302
    again = post_form(client, path, {"note": "Trả lại tiền"})
    assert again.status_code == 302 and again.headers["Location"].endswith("/c/xa-a/payments/inbox")
    assert "Giao dịch này đã được xử lý, có thể bởi một đồng nghiệp." in flashes(client)
    assert transfer(app, transfer_id)["note"] == "Trả lại tiền"
    # another commune's handled transfer is still not there at all
    other = app.test_client()
    login(other, "officer@b.vn")
    assert post_form(other, f"/c/xa-b/payments/inbox/{transfer_id}/resolve", {"note": "x"}).status_code == 404


def test_the_district_gets_a_message_for_an_empty_form_not_a_404(app, client, world):
    transfer_id = arrive(app, "chuyen nham", 90_000, "555666777")  # unattributed: only the district sees it
    login(client, "district@gialam.vn")
    response = post_form(client, f"/district/payments/inbox/{transfer_id}/resolve", {"note": ""})
    assert response.status_code == 302
    assert transfer(app, transfer_id)["status"] == "unmatched"


@pytest.mark.parametrize("action, data", [("resolve", {"note": "x"}), ("accept-late", {}),
                                          ("assign", {"payment": "GLAAAAAAAA"})])
def test_commune_staff_cannot_use_the_district_inbox_actions(app, client, world, action, data):
    transfer_id = arrive(app, "chuyen nham", 90_000, "555666777")
    login(client, "admin@a.vn")
    assert post_form(client, f"/district/payments/inbox/{transfer_id}/{action}", data).status_code == 403
    assert transfer(app, transfer_id)["status"] == "unmatched"


# --- statement upload ------------------------------------------------------------------------------------------

def upload(client, csv_text: str, account_id: int, headers=None):
    return client.post("/c/xa-a/payments/statement", data={
        "csrf_token": csrf_token(client, "/account/password"), "account": str(account_id),
        "file": (io.BytesIO(csv_text.encode("utf-8")), "statement.csv"),
    }, content_type="multipart/form-data", headers=headers)


STREAM = {"Accept": "application/x-ndjson"}


def test_statement_import_streams_its_progress_then_the_result(app, client, world):
    login(client, "officer@a.vn")
    rows = [f"FT{n:04d},25/07/2024 14:02,20.000,NGUYEN VAN {n} nop phi" for n in range(250)]
    rows[7] = f"FT0007,25/07/2024 14:02,150.000,{world['intent_a'].reference_code} thanh toan"
    rows[9] = "FT0009,khong phai ngay,20.000,abc"
    response = upload(client, "ma_giao_dich,ngay,so_tien,noi_dung\n" + "\n".join(rows) + "\n",
                      world["account_a"].id, headers=STREAM)
    assert response.status_code == 200 and response.mimetype == "application/x-ndjson"
    assert response.headers["Cache-Control"] == "no-store"
    lines = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    assert lines[0] == {"done": 0, "total": 250}
    steps = [line["done"] for line in lines[1:-1]]
    assert steps == sorted(steps) and len(steps) >= 50 and steps[-1] <= 250  # about a hundred updates at most
    assert all(line["total"] == 250 for line in lines)
    last = lines[-1]
    assert last["done"] == 250 and last["level"] == "info"
    assert last["message"] == "Đã nhập sao kê: ghi nhận 249 dòng, bỏ qua 1 dòng."
    assert 'data-testid="import-result"' in last["html"] and 'data-testid="count-unmatched"' in last["html"]
    assert "<strong>Dòng 11</strong>" in last["html"]
    assert intent_state(app, world["intent_a"].public_id)["status"] == "succeeded"
    assert len(transfers(app)) == 249


def test_a_refused_statement_is_not_streamed_and_changes_nothing(app, client, world):
    login(client, "officer@a.vn")
    response = upload(client, "FT001,25/07/2024,150000,GLAAAAAAAA\n", world["account_a"].id, headers=STREAM)
    assert response.status_code == 400 and response.mimetype == "text/html"  # the page, with the error
    assert transfers(app) == []


def test_an_error_halfway_is_reported_in_the_stream_and_keeps_the_rows_before_it(app, client, world, monkeypatch):
    from app.payments.bank import statement

    real, calls = statement.confirm_transfer, []

    def breaks_on_the_third(txn):
        calls.append(txn)
        if len(calls) == 3:
            raise RuntimeError("database went away")
        return real(txn)

    monkeypatch.setattr(statement, "confirm_transfer", breaks_on_the_third)
    login(client, "officer@a.vn")
    rows = "\n".join(f"FT{n},25/07/2024 14:02,20.000,abc" for n in range(5))
    response = upload(client, "ma_giao_dich,ngay,so_tien,noi_dung\n" + rows, world["account_a"].id, headers=STREAM)
    lines = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    assert "error" in lines[-1] and "html" not in lines[-1]
    assert (lines[-1]["done"], lines[-1]["total"]) == (2, 5)  # the rows recorded before the failure
    assert [t["provider_txn_id"] for t in transfers(app)] == ["FT0", "FT1"]


def test_statement_upload_reports_good_and_bad_rows(app, client, world):
    login(client, "officer@a.vn")
    csv_text = ("ma_giao_dich,ngay,so_tien,noi_dung\n"
                f"FT001,25/07/2024 14:02,150.000,MBVCB.331.{world['intent_a'].reference_code} thanh toan\n"
                "FT002,khong phai ngay,20.000,abc\n")
    response = upload(client, csv_text, world["account_a"].id)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-testid="count-matched"' in html
    assert "<strong>Dòng 3</strong>" in html
    assert intent_state(app, world["intent_a"].public_id)["status"] == "succeeded"
    [stored] = transfers(app)
    assert stored["provider"] == "statement" and stored["provider_txn_id"] == "FT001"


def test_statement_without_a_header_is_refused_as_a_whole(app, client, world):
    login(client, "officer@a.vn")
    with client.session_transaction() as session:
        session["lang"] = "en"
    response = upload(client, "FT001,25/07/2024,150000,GLAAAAAAAA\n", world["account_a"].id)
    assert response.status_code == 400
    assert "no valid header" in response.get_data(as_text=True)
    assert transfers(app) == []


def test_statement_upload_into_another_communes_account_is_refused(app, client, world):
    login(client, "officer@a.vn")
    csv_text = f"transaction_id,date,amount,content\nFT9,2024-07-25T10:00:00,90000,{world['intent_b'].reference_code}\n"
    response = upload(client, csv_text, world["account_b"].id)
    assert response.status_code == 400
    assert transfers(app) == []


# --- a fixed number of queries per page -------------------------------------------------------------------------

def queries_for_page(app, client, path: str) -> int:
    with count_queries(app) as statements:
        assert client.get(path).status_code == 200
    return len(data_statements(statements))


def test_payments_list_runs_a_fixed_number_of_queries(app, client, world):
    login(client, "officer@a.vn")
    few = queries_for_page(app, client, "/c/xa-a/payments/")
    for _ in range(20):
        make_intent(app, world["account_a"], 10_000)
    many = queries_for_page(app, client, "/c/xa-a/payments/")
    assert many == few
    assert few <= 8


def test_inbox_runs_a_fixed_number_of_queries(app, client, world):
    arrive(app, "khong ma", 1_000)
    login(client, "officer@a.vn")
    few = queries_for_page(app, client, "/c/xa-a/payments/inbox")
    for n in range(15):
        arrive(app, f"khong ma {n}" if n % 2 else world["intent_a"].reference_code, 1_000)
    many = queries_for_page(app, client, "/c/xa-a/payments/inbox")
    assert many == few


def test_a_claim_the_bank_never_confirmed_shows_in_the_inbox_after_the_set_days(app, client, world):
    from datetime import timedelta

    from sqlalchemy import update

    from app.payments.models import PaymentClaim
    from tenants.scoping import all_tenants

    login(client, "officer@a.vn")
    pi = world["intent_a"].public_id
    post_form(client, f"/c/xa-a/payments/{pi}/confirm", {"amount": "150000", "note": "Seen in the bank app"})
    assert 'data-testid="overdue-claim"' not in client.get("/c/xa-a/payments/inbox").get_data(as_text=True)
    with app.app_context(), all_tenants():
        db.session.execute(update(PaymentClaim).values(
            claimed_at=datetime.now(timezone.utc) - timedelta(days=app.config["PAYMENT_CLAIM_DAYS"], minutes=1)))
        db.session.commit()
    page = client.get("/c/xa-a/payments/inbox").get_data(as_text=True)
    assert page.count('data-testid="overdue-claim"') == 1 and "Seen in the bank app" in page
    assert world["intent_a"].reference_code in page
    other = app.test_client()
    login(other, "officer@b.vn")
    assert 'data-testid="overdue-claim"' not in other.get("/c/xa-b/payments/inbox").get_data(as_text=True)


def _overdue_claim(app, client, world) -> int:
    from datetime import timedelta

    from sqlalchemy import update

    from app.payments.models import PaymentClaim
    from tenants.scoping import all_tenants

    login(client, "officer@a.vn")
    post_form(client, f"/c/xa-a/payments/{world['intent_a'].public_id}/confirm",
              {"amount": "150000", "note": "Seen in the bank app"})
    with app.app_context(), all_tenants():
        db.session.execute(update(PaymentClaim).values(
            claimed_at=datetime.now(timezone.utc) - timedelta(days=app.config["PAYMENT_CLAIM_DAYS"], minutes=1)))
        db.session.commit()
    return claims(app)[0]["id"]


def test_an_overdue_claim_is_settled_against_the_transfer_staff_find_for_it(app, client, world):
    claim_id = _overdue_claim(app, client, world)
    found = arrive(app, "chuyen tien ma sai", 150_000)  # the memo was mistyped: no payment found
    page = client.get("/c/xa-a/payments/inbox").get_data(as_text=True)
    assert 'data-testid="settle-claim-form"' in page and f'<option value="{found}">' in page
    response = post_form(client, f"/c/xa-a/payments/inbox/claims/{claim_id}/settle", {"transfer": str(found)},
                         token_from="/c/xa-a/payments/inbox")
    assert response.status_code == 302
    [claim] = claims(app)
    assert claim["status"] == "settled" and claim["settled_transfer_id"] == found
    assert transfer(app, found)["status"] == "matched"
    state = intent_state(app, world["intent_a"].public_id)
    assert state["status"] == "succeeded" and state["amount_received"] == 150_000 and state["flag"] is None
    assert 'data-testid="overdue-claim"' not in client.get("/c/xa-a/payments/inbox").get_data(as_text=True)
    with app.app_context():
        from sqlalchemy import select

        from app.audit.models import AuditEntry
        from tenants.scoping import all_tenants

        with all_tenants():
            tables = set(db.session.scalars(select(AuditEntry.table_name).where(AuditEntry.action == "update")))
    assert {"payment_claims", "bank_transfers"} <= tables  # who settled it, on the audit trail
    again = post_form(client, f"/c/xa-a/payments/inbox/claims/{claim_id}/settle", {"transfer": str(found)},
                      token_from="/c/xa-a/payments/inbox")
    assert again.status_code in (302, 400) and claims(app)[0]["settled_transfer_id"] == found


def test_settling_a_claim_refuses_a_transfer_not_offered_and_another_communes_claim(app, client, world):
    claim_id = _overdue_claim(app, client, world)
    theirs = arrive(app, "khong ma", 90_000, ACCOUNT_B)
    ours = arrive(app, "khong ma", 150_000)
    before = (claims(app), transfers(app), intent_state(app, world["intent_a"].public_id))
    refused = post_form(client, f"/c/xa-a/payments/inbox/claims/{claim_id}/settle?lang=en", {"transfer": str(theirs)},
                        token_from="/c/xa-a/payments/inbox")
    assert refused.status_code == 302 and "Choose the bank transfer of this money." in flashes(client)
    assert (claims(app), transfers(app), intent_state(app, world["intent_a"].public_id)) == before  # nothing changed
    other = app.test_client()
    login(other, "officer@b.vn")
    assert post_form(other, f"/c/xa-b/payments/inbox/claims/{claim_id}/settle", {"transfer": str(ours)},
                     token_from="/c/xa-b/payments/inbox").status_code == 404
    assert claims(app)[0]["status"] == "open"


def test_two_people_settling_one_claim_at_once_settle_it_once(app, client, world, postgres):
    """PostgreSQL: each locks its own transfer, then the intent; the second reads the claim under the intent's lock
    and is refused, its transfer left unmatched for another decision (not counted as a second payment)."""
    import threading

    from app.auth.models import User
    from app.errors import DomainError
    from app.payments.bank import reconciliation

    claim_id = _overdue_claim(app, client, world)
    found = [arrive(app, f"chuyen tien {n}", 150_000) for n in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list = [None, None]

    def settle(index):
        with app.app_context():
            actor = db.session.get(User, world["a_officer"].id)
            barrier.wait(timeout=30)
            try:
                transactions.run(lambda: reconciliation.settle_claim(claim_id, found[index], world["a"].id, actor))
                outcomes[index] = "settled"
            except DomainError as err:
                outcomes[index] = err.message._args[0]  # the message's English id, whatever the locale

    threads = [threading.Thread(target=settle, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["The bank has already confirmed this payment.", "settled"]
    winner = found[outcomes.index("settled")]
    assert claims(app)[0]["settled_transfer_id"] == winner
    assert {transfer(app, t)["status"] for t in found} == {"matched", "unmatched"}
    assert intent_state(app, world["intent_a"].public_id)["amount_received"] == 150_000
