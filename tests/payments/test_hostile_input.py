"""No 500 from hostile input, and bodies have a limit (issue 11, items 6 and 7).

A deeply nested JSON body to any bank receiver, before authentication, and a date of year 1 in a notification
answer 400; a statement row dated year 1 is a bad row, never a 500; an oversized body answers 413 before it is
read, while the statement upload has its own explicit, larger limit.
"""

from __future__ import annotations

import io

import pytest

from app.payments.bank.statement import MAX_BYTES, parse_date
from tests.conftest import csrf_token, login
from tests.payments.helpers import (
    ACCOUNT_A,
    casso_body,
    make_account,
    payos_body,
    post_casso,
    post_payos,
    post_sepay,
    sepay_payload,
    sepay_request,
    transfers,
)

pytestmark = pytest.mark.usefixtures("bank_secrets")

DEPTH = 100_000  # 200 KB: under the receivers' 256 KB body limit, far over the JSON parser's recursion limit
NESTED_LIST = b"[" * DEPTH + b"]" * DEPTH
NESTED_OBJECT = b'{"data":' * (DEPTH // 4) + b"1" + b"}" * (DEPTH // 4)  # 225 KB


@pytest.mark.parametrize("provider", ["sepay", "casso", "payos"])
@pytest.mark.parametrize("body", [NESTED_LIST, NESTED_OBJECT], ids=["list", "object"])
def test_deeply_nested_json_to_every_receiver_before_authentication_is_a_400(client, provider, body):
    response = client.post(f"/webhooks/{provider}", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["success"] is False


def test_deeply_nested_json_with_a_valid_sepay_key_is_a_400(client):
    body, headers = sepay_request(NESTED_OBJECT)
    assert client.post("/webhooks/sepay", data=body, headers=headers).status_code == 400


@pytest.fixture
def commune(make):
    return make.tenant("xa-a", "Xã A")


@pytest.fixture
def account(app, commune):
    return make_account(app, commune, ACCOUNT_A)


@pytest.fixture
def officer(make, commune):
    return make.user("officer@a.vn", "officer", commune)


YEAR_ONE = ["0001-01-01 00:00:00", "0001-01-01T00:00:00+07:00", "1-01-01", "9999-12-31T23:59:59-14:00",
            "1970-01-01 00:00:00"]


@pytest.mark.parametrize("date", YEAR_ONE)
def test_a_sepay_notification_dated_year_one_is_a_400(app, client, account, date):
    payload = {**sepay_payload(ACCOUNT_A, "tien dien", 50_000), "transactionDate": date}
    response = post_sepay(client, payload)
    assert response.status_code == 400, response.get_json()
    assert transfers(app) == []


@pytest.mark.parametrize("date", YEAR_ONE)
def test_a_casso_notification_dated_year_one_is_a_400(app, client, account, date):
    body = casso_body(ACCOUNT_A, "tien dien", 50_000)
    body["data"]["transactionDateTime"] = date
    assert post_casso(client, body).status_code == 400
    assert transfers(app) == []


@pytest.mark.parametrize("date", YEAR_ONE)
def test_a_payos_notification_dated_year_one_is_a_400(app, client, account, date):
    from app.payments.bank.payos import sign_payos

    body = payos_body(ACCOUNT_A, "tien dien", 50_000)
    body["data"]["transactionDateTime"] = date
    body["signature"] = sign_payos(body["data"], app.config["PAYOS_CHECKSUM_KEY"])
    assert post_payos(client, body).status_code == 400
    assert transfers(app) == []


@pytest.mark.parametrize("text", ["01/01/0001 00:00", "0001-01-01", "0001-01-01T00:00:00+07:00",
                                  "31/12/9999 23:59", "9999-12-31T23:59:59-14:00"])
def test_a_statement_date_out_of_range_is_a_bad_value_not_an_overflow(text):
    with pytest.raises(ValueError):
        parse_date(text)


def upload(client, data: bytes, account_id: int):
    return client.post("/c/xa-a/payments/statement", data={
        "csrf_token": csrf_token(client, "/account/password"), "account": str(account_id),
        "file": (io.BytesIO(data), "statement.csv"),
    }, content_type="multipart/form-data")


def test_a_statement_row_dated_year_one_is_reported_and_nothing_of_it_recorded(app, client, account, officer):
    login(client, "officer@a.vn")
    csv_text = ("ma_giao_dich,ngay,so_tien,noi_dung\n"
                "FT001,01/01/0001 00:00,150.000,abc\n"
                "FT002,0001-01-01T00:00:00+07:00,20.000,abc\n")
    response = upload(client, csv_text.encode(), account.id)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<strong>Dòng 2</strong>" in html and "<strong>Dòng 3</strong>" in html
    assert transfers(app) == []


# --- body limits -------------------------------------------------------------------------------------------------

def test_an_oversized_login_form_is_413_before_it_is_read(app, client):
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit and limit <= 1024 * 1024
    response = client.post("/login", data={"email": "a@b.vn", "password": "x" * (limit + 1)})
    assert response.status_code == 413


def test_an_oversized_api_call_is_413(app, client, make_api_key):
    creds = make_api_key("xa-c")
    data = {"amount": "150000", "currency": "vnd", "description": "y" * (app.config["MAX_CONTENT_LENGTH"] + 1)}
    response = client.post("/v1/payment_intents", data=data, headers=creds.headers)
    assert response.status_code == 413


def test_the_statement_upload_has_its_own_larger_limit(app, client, account, officer):
    login(client, "officer@a.vn")
    padding = "\r\n" * (app.config["MAX_CONTENT_LENGTH"] // 2 + 1000)  # blank lines: a big file, one row
    data = ("ma_giao_dich,ngay,so_tien,noi_dung\nFT001,25/07/2024 14:02,20.000,abc\n" + padding).encode()
    assert app.config["MAX_CONTENT_LENGTH"] < len(data) <= MAX_BYTES  # bigger than any other request may be
    response = upload(client, data, account.id)
    assert response.status_code == 200  # read and imported
    assert [t["provider_txn_id"] for t in transfers(app)] == ["FT001"]
    too_big = upload(client, b"x" * (MAX_BYTES + 128 * 1024), account.id)
    assert too_big.status_code == 413
