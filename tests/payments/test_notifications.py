"""Bank notifications: each provider's authentication and parsing, and reference codes in mangled transfer text."""

import copy
import hashlib
import hmac
import json
import re
from contextlib import contextmanager
from datetime import datetime, timezone

import pytest

from app.payments.bank.notifications import (
    REFERENCE_ALPHABET,
    REFERENCE_LENGTH,
    BankTransaction,
    NotificationError,
    find_reference_codes,
    new_reference_code,
)
from app.payments.bank.casso import parse_casso, sign_casso, verify_casso
from app.payments.bank.payos import parse_payos, sign_payos, verify_payos
from app.payments.bank.sepay import parse_sepay, sign_sepay, verify_sepay

NOW = 1_760_000_000
SECRET = "whk-secret-Đà-Nẵng"  # non-ASCII on purpose: keys are UTF-8 encoded


@contextmanager
def raises(status: int):
    """pytest.raises for NotificationError, then check the HTTP status it carries."""
    with pytest.raises(NotificationError) as info:
        yield info
    assert info.value.status == status, info.value.message


# --- SePay ----------------------------------------------------------------------------------------------------

SEPAY = {
    "id": 92704,
    "gateway": "Vietcombank",
    "transactionDate": "2024-07-25 14:02:37",
    "accountNumber": "0123499999",
    "code": None,
    "content": "MBVCB.3312345678.GL7K3M9QXA thanh toan",
    "transferType": "in",
    "transferAmount": 150000,
    "accumulated": 19077000,
    "subAccount": None,
    "referenceCode": "MBVCB.3278907687",
    "description": "BankAPINotify MBVCB.3312345678.GL7K3M9QXA thanh toan",
}


def sepay_body(**changes) -> bytes:
    return json.dumps({**SEPAY, **changes}, ensure_ascii=False).encode()


def verify_sepay_hmac(headers, body, now=NOW):
    verify_sepay(headers, body, api_key=None, webhook_secret=SECRET, now=now)


def test_sepay_api_key_is_accepted():
    verify_sepay({"Authorization": "Apikey k-123"}, sepay_body(), api_key="k-123", webhook_secret=None)


def test_sepay_header_names_are_case_insensitive():
    verify_sepay({"authorization": "apikey k-123"}, sepay_body(), api_key="k-123", webhook_secret=None)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Apikey wrong"}, {"Authorization": "Bearer k-123"}])
def test_sepay_wrong_or_missing_api_key_is_401(headers):
    with raises(401):
        verify_sepay(headers, sepay_body(), api_key="k-123", webhook_secret=None)


def test_sepay_without_any_configured_secret_refuses_everything():
    with raises(401) as info:
        verify_sepay({"Authorization": "Apikey "}, sepay_body(), api_key=None, webhook_secret=None)
    assert "not configured" in info.value.message


def test_sepay_hmac_signature_is_accepted():
    body = sepay_body()
    verify_sepay_hmac(sign_sepay(body, SECRET, NOW), body)


def test_sepay_hmac_is_over_timestamp_dot_raw_body():
    body = sepay_body()
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + body, hashlib.sha256).hexdigest()
    assert sign_sepay(body, SECRET, NOW) == {"X-SePay-Timestamp": str(NOW), "X-SePay-Signature": expected}


def test_sepay_hmac_tampered_body_is_401():
    headers = sign_sepay(sepay_body(), SECRET, NOW)
    with raises(401):
        verify_sepay_hmac(headers, sepay_body(transferAmount=1500000))


def test_sepay_hmac_wrong_secret_is_401():
    body = sepay_body()
    with raises(401):
        verify_sepay_hmac(sign_sepay(body, "another-secret", NOW), body)


@pytest.mark.parametrize("offset", [-301, 301], ids=["stale", "future"])
def test_sepay_hmac_outside_five_minutes_is_401(offset):
    body = sepay_body()
    with raises(401) as info:
        verify_sepay_hmac(sign_sepay(body, SECRET, NOW + offset), body)
    assert "window" in info.value.message


@pytest.mark.parametrize("offset", [-300, 300])
def test_sepay_hmac_inside_five_minutes_passes(offset):
    body = sepay_body()
    verify_sepay_hmac(sign_sepay(body, SECRET, NOW + offset), body)


@pytest.mark.parametrize("timestamp", ["", "soon", "1.5", "-1", "9" * 400])
def test_sepay_hmac_bad_timestamp_header_is_401(timestamp):
    body = sepay_body()
    headers = {**sign_sepay(body, SECRET, NOW), "X-SePay-Timestamp": timestamp}
    with raises(401):
        verify_sepay_hmac(headers, body)


def test_sepay_hmac_absurd_timestamp_is_401_not_a_crash():
    body, huge = sepay_body(), int("9" * 400)
    with raises(401):
        verify_sepay_hmac(sign_sepay(body, SECRET, huge), body)


def test_sepay_with_both_schemes_configured_accepts_either():
    body = sepay_body()
    kwargs = {"api_key": "k-123", "webhook_secret": SECRET, "now": NOW}
    verify_sepay({"Authorization": "Apikey k-123"}, body, **kwargs)
    verify_sepay(sign_sepay(body, SECRET, NOW), body, **kwargs)
    with raises(401):
        verify_sepay({"Authorization": "Apikey nope"}, body, **kwargs)


def test_sepay_parse_maps_fields_and_converts_vietnam_time_to_utc():
    txn = parse_sepay(sepay_body())
    assert txn == BankTransaction(
        provider="sepay",
        provider_txn_id="92704",
        amount=150000,
        content="MBVCB.3312345678.GL7K3M9QXA thanh toan",
        account_number="0123499999",
        bank="Vietcombank",
        bank_bin="970436",
        occurred_at=datetime(2024, 7, 25, 7, 2, 37, tzinfo=timezone.utc),
        reference="MBVCB.3278907687",
        raw=SEPAY,
        direction="in",
    )
    assert txn.raw == SEPAY
    assert txn.occurred_at.utcoffset().total_seconds() == 0


def test_sepay_outgoing_transfer_is_returned_as_out():
    assert parse_sepay(sepay_body(transferType="out")).direction == "out"


def test_sepay_falls_back_to_description_when_content_is_empty():
    assert parse_sepay(sepay_body(content=None)).content == SEPAY["description"]
    assert parse_sepay(sepay_body(content="", description="")).content == ""


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe", b"[1, 2]", b'"text"'])
def test_sepay_malformed_body_is_400(body):
    with raises(400):
        parse_sepay(body)


@pytest.mark.parametrize(
    "changes",
    [
        {"id": None},
        {"id": ""},
        {"transferAmount": None},
        {"transferAmount": 0},
        {"transferAmount": -5000},
        {"transferAmount": 1500.5},
        {"transferAmount": "150000"},
        {"transferAmount": True},
        {"transferType": None},
        {"transferType": "sideways"},
        {"content": None, "description": None},
        {"transactionDate": "25/07/2024"},
    ],
)
def test_sepay_missing_or_invalid_fields_are_400(changes):
    with raises(400):
        parse_sepay(sepay_body(**changes))


# --- Casso v2 -------------------------------------------------------------------------------------------------

CASSO = {
    "error": 0,
    "data": {
        "id": 1276543,
        "reference": "BANK_REF_ID",
        "description": "CT DEN:0123 GL7K3M9QXA chuyển tiền",
        "amount": 250000,
        "runningBalance": 25000000,
        "transactionDateTime": "2025-02-12 15:51:00",
        "accountNumber": "88888888",
        "bankName": "VPBank",
        "bankAbbreviation": "VPB",
        "virtualAccountNumber": "",
        "virtualAccountName": "",
        "counterAccountName": "NGUYEN VAN A",
        "counterAccountNumber": "0123",
        "counterAccountBankId": "970415",
        "counterAccountBankName": "VietinBank",
    },
}


def casso_request(body_obj=CASSO, key=SECRET, t_ms=NOW * 1000):
    return {"X-Casso-Signature": sign_casso(body_obj, key, t_ms)}, json.dumps(body_obj, indent=2).encode()


def test_casso_valid_signature_passes_whatever_the_body_formatting():
    headers, body = casso_request()
    verify_casso(headers, body, checksum_key=SECRET, now=NOW)


def test_casso_signature_is_hmac_sha512_over_t_and_sorted_compact_json():
    body_obj = {"b": 1, "a": {"d": "Đ", "c": [2, {"z": None, "y": True}]}}
    canonical = '{"a":{"c":[2,{"y":true,"z":null}],"d":"Đ"},"b":1}'
    expected = hmac.new(SECRET.encode(), f"1700000000123.{canonical}".encode(), hashlib.sha512).hexdigest()
    assert sign_casso(body_obj, SECRET, 1700000000123) == f"t=1700000000123,v1={expected}"


def test_casso_header_parts_may_come_in_any_order_with_spaces():
    headers, body = casso_request()
    t_part, v1_part = headers["X-Casso-Signature"].split(",")
    verify_casso({"x-casso-signature": f"{v1_part}, {t_part}"}, body, checksum_key=SECRET, now=NOW)


def test_casso_tampered_body_is_401():
    headers, _ = casso_request()
    tampered = copy.deepcopy(CASSO)
    tampered["data"]["amount"] = 2500000
    with raises(401):
        verify_casso(headers, json.dumps(tampered).encode(), checksum_key=SECRET, now=NOW)


def test_casso_wrong_key_is_401():
    headers, body = casso_request(key="other-key")
    with raises(401):
        verify_casso(headers, body, checksum_key=SECRET, now=NOW)


@pytest.mark.parametrize("offset_ms", [-300_001, 300_001], ids=["stale", "future"])
def test_casso_outside_five_minutes_is_401(offset_ms):
    headers, body = casso_request(t_ms=NOW * 1000 + offset_ms)
    with raises(401):
        verify_casso(headers, body, checksum_key=SECRET, now=NOW)


def test_casso_timestamp_is_in_milliseconds():
    headers, body = casso_request(t_ms=NOW)  # seconds by mistake: 55 years ago in milliseconds
    with raises(401):
        verify_casso(headers, body, checksum_key=SECRET, now=NOW)


def test_casso_absurd_timestamp_is_401_not_a_crash():
    headers, body = casso_request(t_ms=int("9" * 400))
    with raises(401):
        verify_casso(headers, body, checksum_key=SECRET, now=NOW)


@pytest.mark.parametrize("header", [None, "", "v1=abc", "t=1760000000000", "t=abc,v1=def", "garbage"])
def test_casso_missing_or_malformed_signature_header_is_401(header):
    _, body = casso_request()
    headers = {} if header is None else {"X-Casso-Signature": header}
    with raises(401):
        verify_casso(headers, body, checksum_key=SECRET, now=NOW)


def test_casso_without_configured_key_refuses():
    headers, body = casso_request()
    with raises(401):
        verify_casso(headers, body, checksum_key=None, now=NOW)


def test_casso_signed_header_with_malformed_json_body_is_400():
    headers, _ = casso_request()
    with raises(400):
        verify_casso(headers, b"{oops", checksum_key=SECRET, now=NOW)


def test_casso_parse_single_object():
    [txn] = parse_casso(json.dumps(CASSO).encode())
    assert (txn.provider, txn.provider_txn_id, txn.amount, txn.direction) == ("casso", "1276543", 250000, "in")
    assert txn.content == "CT DEN:0123 GL7K3M9QXA chuyển tiền"
    assert (txn.account_number, txn.bank, txn.reference) == ("88888888", "VPB", "BANK_REF_ID")
    assert txn.occurred_at == datetime(2025, 2, 12, 8, 51, tzinfo=timezone.utc)
    assert txn.raw == CASSO["data"]


def test_casso_parse_list_and_outgoing_negative_amount():
    second = {**CASSO["data"], "id": 1276544, "amount": -90000, "bankAbbreviation": None}
    body = {"error": 0, "data": [CASSO["data"], second]}
    first, out = parse_casso(json.dumps(body))
    assert first.direction == "in"
    assert (out.provider_txn_id, out.amount, out.direction, out.bank) == ("1276544", 90000, "out", "VPBank")


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        {"error": 1, "data": CASSO["data"]},
        {"error": 0},
        {"error": 0, "data": []},
        {"error": 0, "data": [CASSO["data"], "x"]},
        {"error": 0, "data": {**CASSO["data"], "id": None}},
        {"error": 0, "data": {**CASSO["data"], "amount": 0}},
        {"error": 0, "data": {**CASSO["data"], "amount": "250000"}},
        {"error": 0, "data": {**CASSO["data"], "description": None}},
        {"error": 0, "data": {**CASSO["data"], "transactionDateTime": "yesterday"}},
    ],
)
def test_casso_malformed_or_incomplete_is_400(body):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    with raises(400):
        parse_casso(raw)


# --- payOS ----------------------------------------------------------------------------------------------------

PAYOS_DATA = {
    "orderCode": 123,
    "amount": 3000,
    "description": "CSW3X2M GL7K3M9QXA",
    "accountNumber": "12345678",
    "reference": "TF230204212323",
    "transactionDateTime": "2023-02-04 18:25:00",
    "currency": "VND",
    "paymentLinkId": "124c33293c43417ab7879e14c8d9eb18",
    "code": "00",
    "desc": "Thành công",
    "counterAccountBankId": "",
    "counterAccountBankName": "",
    "counterAccountName": None,
    "counterAccountNumber": "",
    "virtualAccountName": "",
    "virtualAccountNumber": "",
}


def payos_body(data=PAYOS_DATA, key=SECRET, **top) -> dict:
    signature = sign_payos(data, key) if isinstance(data, dict) else "0" * 64
    return {"code": "00", "desc": "success", "success": True, "data": data, "signature": signature, **top}


def test_payos_valid_signature_passes_as_object_or_bytes():
    body = payos_body()
    verify_payos(body, checksum_key=SECRET)
    verify_payos(json.dumps(body).encode(), checksum_key=SECRET)


def test_payos_signature_is_over_sorted_key_value_pairs_without_url_encoding():
    data = {"b": "x y&z", "a": 1, "c": None, "d": True, "e": [{"k": 2, "j": 1}], "f": "null"}
    message = 'a=1&b=x y&z&c=&d=true&e=[{"j":1,"k":2}]&f='
    assert sign_payos(data, SECRET) == hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()


def test_payos_tampered_data_is_401():
    body = payos_body()
    body["data"] = {**PAYOS_DATA, "amount": 300000}
    with raises(401):
        verify_payos(body, checksum_key=SECRET)


def test_payos_wrong_key_is_401():
    with raises(401):
        verify_payos(payos_body(key="other-key"), checksum_key=SECRET)


@pytest.mark.parametrize("signature", [None, "", 42])
def test_payos_missing_signature_is_401(signature):
    with raises(401):
        verify_payos(payos_body(signature=signature), checksum_key=SECRET)


def test_payos_without_configured_key_refuses():
    with raises(401):
        verify_payos(payos_body(), checksum_key="")


@pytest.mark.parametrize("body", [b"{", b"[]", {"signature": "abc", "data": "x"}, {"signature": "abc"}])
def test_payos_malformed_body_is_400(body):
    with raises(400):
        verify_payos(body, checksum_key=SECRET)


def test_payos_parse_uses_bank_reference_as_transaction_id():
    txn = parse_payos(json.dumps(payos_body()).encode())
    assert (txn.provider, txn.provider_txn_id, txn.amount, txn.content) == (
        "payos", "TF230204212323", 3000, "CSW3X2M GL7K3M9QXA",
    )
    assert (txn.reference, txn.account_number, txn.bank, txn.direction) == ("TF230204212323", "12345678", None, "in")
    assert txn.occurred_at == datetime(2023, 2, 4, 11, 25, tzinfo=timezone.utc)


def test_payos_parse_falls_back_to_order_code_without_reference():
    txn = parse_payos(payos_body(data={**PAYOS_DATA, "reference": ""}))
    assert (txn.provider_txn_id, txn.reference) == ("123", None)


@pytest.mark.parametrize(
    "body",
    [
        payos_body(code="01", success=False, desc="failed"),
        payos_body(success=False),
        payos_body(code=None),
        payos_body(data=None),
        payos_body(data={**PAYOS_DATA, "amount": None}),
        payos_body(data={**PAYOS_DATA, "amount": -3000}),
        payos_body(data={**PAYOS_DATA, "reference": None, "orderCode": None}),
        payos_body(data={**PAYOS_DATA, "description": 7}),
    ],
)
def test_payos_non_success_or_incomplete_is_400(body):
    with raises(400):
        parse_payos(body)


# --- reference codes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "MBVCB.3312345678.GL7K3M9QXA thanh toan",
        "gl7k3m9qxa",
        "CT DEN:0123 GL7K3M9QXA",
        "Thanh toán đơn hàng GL7K3M9QXA cho Bát Tràng",
        "MBVCB.123456.GL7K3M9QXA.CT tu 0123456789 NGUYEN VAN A",
        "THANHTOANGL7K3M9QXAXYZ",  # glued both sides: still found
        "0123456789GL7K3M9QXA",
        "GL7K3M9QXAB",  # a ninth character glued on: the first eight are the candidate
        "GL7K3 M9QXA",  # split by the bank's line wrapping
        "GL-7K3M9QXA",
    ],
)
def test_reference_found_in_mangled_bank_text(text):
    assert find_reference_codes(text, "GL") == ["GL7K3M9QXA"]


@pytest.mark.parametrize("text", ["", None, "thanh toan", "GL7K3M9QX", "GL7K3M9Q0A", "GLI7K3M9QX", "G L"])
def test_no_reference_in_text_without_a_complete_code(text):
    assert find_reference_codes(text, "GL") == []


def test_standalone_codes_rank_before_glued_ones_and_duplicates_collapse():
    text = "THANHTOANGL22222222X GL7K3M9QXA gl7k3m9qxa GLABCDEFGH"
    assert find_reference_codes(text, "GL") == ["GL7K3M9QXA", "GLABCDEFGH", "GL22222222"]


def test_other_prefix_is_honoured():
    assert find_reference_codes("le phi hs7k3m9qxa GL7K3M9QXA", "HS") == ["HS7K3M9QXA"]


def test_new_reference_codes_are_well_formed_unique_and_findable():
    codes = {new_reference_code() for _ in range(2000)}
    assert len(codes) == 2000
    pattern = re.compile(f"GL[{REFERENCE_ALPHABET}]{{{REFERENCE_LENGTH}}}")
    for code in list(codes)[:50]:
        assert pattern.fullmatch(code) and len(code) == 10
        assert find_reference_codes(f"MBVCB.1.{code.lower()}.CT", "GL") == [code]
    assert set("ILO01").isdisjoint(REFERENCE_ALPHABET)
    assert new_reference_code("HS").startswith("HS")
