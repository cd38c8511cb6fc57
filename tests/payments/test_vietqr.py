"""VietQR codec: the NAPAS examples round-trip byte for byte, decoding tolerates real-world variation, and every
refusal names its field. Pure functions: no Flask app needed."""

from __future__ import annotations

import json
from dataclasses import replace
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from app.payments import banks
from app.payments.vietqr import (
    DecodedVietQR,
    VietQRError,
    crc16_ccitt_false,
    decode,
    encode,
    fold_memo,
    parse_tlv,
)

EXAMPLES = json.loads((Path(__file__).parent / "data" / "vietqr_spec_examples.json").read_text(encoding="utf-8"))
STATIC = EXAMPLES[0]["payload"]
DYNAMIC = EXAMPLES[2]["payload"]
BIN, ACCOUNT = "970403", "0011012345678"


def with_crc(body: str) -> str:
    """Append a correct CRC field to a payload body (for hand-built variants)."""
    body += "6304"
    return body + crc16_ccitt_false(body)


def fields_of(payload: str) -> list[tuple[str, str]]:
    return [(tag, value) for tag, value in parse_tlv(payload) if tag != "63"]


def build(fields: list[tuple[str, str]]) -> str:
    return with_crc("".join(f"{tag}{len(value):02d}{value}" for tag, value in fields))


@contextmanager
def expect_error(field: str, match: str) -> Iterator[pytest.ExceptionInfo[VietQRError]]:
    """pytest.raises for VietQRError that also checks the field attribute and the field-prefixed message."""
    with pytest.raises(VietQRError, match=match) as info:
        yield info
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")


# --- CRC ---------------------------------------------------------------------------------------------------------


def test_crc_check_value():
    assert crc16_ccitt_false("123456789") == "29B1"


def test_crc_is_zero_padded_uppercase():
    assert crc16_ccitt_false("") == "FFFF"
    for payload in (e["payload"] for e in EXAMPLES):
        assert crc16_ccitt_false(payload[:-4]) == payload[-4:]


# --- NAPAS examples ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e["payload"][-4:])
def test_spec_example_decodes_to_listed_fields(example):
    decoded = decode(example["payload"])
    assert decoded.bin == example["bin"]
    assert decoded.account == example["account"]
    assert decoded.amount == example["amount"]
    assert decoded.memo == example["memo"]
    assert decoded.initiation == example["initiation"]
    assert decoded.service == example["service"]
    assert decoded.additional_data == example["additional_data"]
    assert decoded.currency == "704" and decoded.country == "VN"
    assert decoded.merchant_name is None and decoded.merchant_city is None
    assert list(decoded.tags) == [tag for tag, _ in parse_tlv(example["payload"])]
    assert decoded.bank is not None and decoded.bank.bin == example["bin"]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e["payload"][-4:])
def test_spec_example_reencodes_byte_for_byte(example):
    bill = (example["additional_data"] or {}).get("01")
    payload = encode(
        example["bin"], example["account"], amount=example["amount"], memo=example["memo"],
        service=example["service"], bill_number=bill,
    )
    assert payload == example["payload"]


# --- encode ------------------------------------------------------------------------------------------------------


def test_static_code_has_initiation_11_and_no_amount():
    decoded = decode(encode(BIN, ACCOUNT))
    assert decoded.initiation == "11" and decoded.amount is None and decoded.additional_data is None


def test_amount_makes_code_dynamic():
    decoded = decode(encode(BIN, ACCOUNT, amount=1_250_000))
    assert decoded.initiation == "12" and decoded.amount == 1_250_000


def test_memo_is_folded_to_ascii():
    assert fold_memo("Thanh toán đơn hàng") == "Thanh toan don hang"
    assert fold_memo("  ĐƠN   hàng\t12 ") == "DON hang 12"


def test_round_trip_with_vietnamese_memo():
    payload = encode(BIN, ACCOUNT, amount=180000, memo="GL7K2 Thanh toán đơn hàng"[:25], bill_number="GL7K2")
    decoded = decode(payload)
    assert decoded.memo == "GL7K2 Thanh toan don hang"
    assert decoded.bill_number == "GL7K2"
    assert decoded.amount == 180000
    assert payload.isascii()


def test_round_trip_card_service_and_letters_in_account():
    decoded = decode(encode("970422", "VQRQ0001abcd", service="QRIBFTTC"))
    assert (decoded.bin, decoded.account, decoded.service) == ("970422", "VQRQ0001abcd", "QRIBFTTC")


def test_limits_are_inclusive():
    payload = encode(BIN, "1" * 19, amount=10**13 - 1, memo="m" * 25, bill_number="B" * 25)
    decoded = decode(payload)
    assert decoded.account == "1" * 19 and decoded.amount == 10**13 - 1
    assert decoded.memo == "m" * 25 and decoded.bill_number == "B" * 25


@pytest.mark.parametrize("memo", [None, "", "   ", "\t\n"])
def test_empty_memo_emits_no_tag_62(memo):
    assert "62" not in decode(encode(BIN, ACCOUNT, amount=1000, memo=memo)).tags


def test_empty_bill_number_is_omitted():
    assert decode(encode(BIN, ACCOUNT, memo="ABC", bill_number="")).additional_data == {"08": "ABC"}


@pytest.mark.parametrize(
    ("kwargs", "field", "match"),
    [
        ({"bin": "999999"}, "bin", "unknown bank BIN"),
        ({"bin": "97040"}, "bin", "6 digits"),
        ({"bin": "9704031"}, "bin", "6 digits"),
        ({"bin": "97040A"}, "bin", "6 digits"),
        ({"bin": 970403}, "bin", "6 digits"),
        ({"bin": "９７０４０３"}, "bin", "6 digits"),  # full-width digits are str.isdigit() but not ASCII
        ({"account": ""}, "account", "required"),
        ({"account": None}, "account", "required"),
        ({"account": "1" * 20}, "account", "20 characters, at most 19"),
        ({"account": "0011 0123"}, "account", "only ASCII letters and digits"),
        ({"account": "0011-0123"}, "account", "only ASCII letters and digits"),
        ({"account": "tàikhoản"}, "account", "only ASCII letters and digits"),
        ({"service": "QRIBFTTX"}, "service", "QRIBFTTA, QRIBFTTC"),
        ({"service": "qribftta"}, "service", "QRIBFTTA, QRIBFTTC"),
        ({"amount": 0}, "amount", "positive"),
        ({"amount": -5}, "amount", "positive"),
        ({"amount": True}, "amount", "integer"),
        ({"amount": 1000.0}, "amount", "integer"),
        ({"amount": "1000"}, "amount", "integer"),
        ({"amount": 10**13}, "amount", "14 digits, at most 13"),
        ({"memo": "m" * 26}, "memo", "26 characters after folding, at most 25"),
        ({"memo": "chuyển tiền 💸"}, "memo", "only printable ASCII characters; found '💸'"),
        ({"memo": "tab\x7fdel"}, "memo", "only printable ASCII characters"),
        ({"memo": 12}, "memo", "must be text"),
        ({"bill_number": "B" * 26}, "bill_number", "26 characters, at most 25"),
        ({"bill_number": "HD 12"}, "bill_number", "only ASCII letters and digits"),
        ({"bill_number": "HĐ12"}, "bill_number", "only ASCII letters and digits"),
    ],
)
def test_encode_refusals_name_the_field(kwargs, field, match):
    args = {"bin": BIN, "account": ACCOUNT, **kwargs}
    with expect_error(field, match):
        encode(**args)


def test_memo_length_is_checked_after_folding_and_collapsing():
    # 27 characters as typed, 25 after collapsing the double spaces: accepted.
    assert decode(encode(BIN, ACCOUNT, memo="Thanh  toán  đơn hàng 1234")).memo == "Thanh toan don hang 1234"


# --- decode tolerance --------------------------------------------------------------------------------------------


def test_lowercase_crc_is_accepted():
    lowered = DYNAMIC[:-4] + DYNAMIC[-4:].lower()
    assert lowered != DYNAMIC
    decoded = decode(lowered)
    assert decoded.tags["63"] == DYNAMIC[-4:].lower()  # tags keep raw values
    assert replace(decoded, tags={}) == replace(decode(DYNAMIC), tags={})


def test_surrounding_whitespace_is_trimmed():
    assert decode(f"  \n{DYNAMIC}\r\n ") == decode(DYNAMIC)


def test_reordered_fields_are_accepted():
    fields = fields_of(DYNAMIC)
    reordered = [fields[0]] + list(reversed(fields[1:]))  # 00 first, then 62, 58, 54, 53, 38, 01
    payload = build(reordered)
    decoded = decode(payload)
    assert list(decoded.tags) == ["00", "62", "58", "54", "53", "38", "01", "63"]
    assert (decoded.bin, decoded.account, decoded.amount, decoded.memo) == (
        "970403", "0011012345678", 180000, "thanh toan don hang")


def test_unknown_tag_80_and_merchant_name_are_kept():
    fields = fields_of(STATIC) + [("59", "NGUYEN VAN A"), ("60", "HA NOI"), ("80", "0002vi")]
    decoded = decode(build(fields))
    assert decoded.tags["80"] == "0002vi"
    assert decoded.merchant_name == "NGUYEN VAN A" and decoded.merchant_city == "HA NOI"
    assert decoded.account == "0011012345678"


def test_unknown_bin_decodes_without_bank():
    decoded = decode(build([("00", "01"), ("01", "11"), ("38", "0010A000000727011600061234560102AB")]))
    assert decoded.bin == "123456" and decoded.account == "AB" and decoded.bank is None
    assert decoded.service is None and decoded.currency is None


def test_decoded_value_is_frozen_and_hashable():
    decoded = decode(DYNAMIC)
    assert isinstance(decoded, DecodedVietQR)
    with pytest.raises(AttributeError):
        decoded.amount = 1  # type: ignore[misc]
    assert hash(decoded) == hash(decode(DYNAMIC))


# --- decode refusals ---------------------------------------------------------------------------------------------


def test_bad_crc_is_refused():
    with expect_error("crc", "CRC mismatch: payload says 2E2F, content gives 2E2E"):
        decode(DYNAMIC[:-4] + "2E2F")


def test_tampered_amount_is_refused_by_crc():
    with expect_error("crc", "CRC mismatch"):
        decode(DYNAMIC.replace("5406180000", "5406980000"))


def test_missing_crc_is_refused():
    with expect_error("crc", "missing"):
        decode(STATIC[:-8])


def test_crc_not_last_is_refused():
    body = STATIC[:-8]
    crc_field = "6304" + crc16_ccitt_false(body + "6304")
    with expect_error("crc", "must be the last field"):
        decode(body + crc_field + "5802VN")


def test_crc_of_wrong_length_is_refused():
    with expect_error("crc", "4 hex digits"):
        decode(STATIC[:-8] + "63039E6")


def test_format_indicator_not_first_is_refused():
    fields = fields_of(STATIC)
    with expect_error("payload", "tag 00.* must come first, found tag 01"):
        decode(build([fields[1], fields[0], *fields[2:]]))


def test_wrong_format_indicator_is_refused():
    with expect_error("payload", "must be 01"):
        decode(build([("00", "02"), *fields_of(STATIC)[1:]]))


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        ("000201010A11", "length '0A' of tag 01 at position 6 is not two digits"),
        ("0002010x0211", "field id '0x' at position 6 is not two digits"),
        ("000201010", "truncated field header at position 6"),
        ("000201015011", "tag 01 at position 6 declares 50 characters but only 2 remain"),
        (STATIC[:-1], "declares 4 characters but only 3 remain"),
    ],
)
def test_broken_tlv_is_refused(payload, match):
    with expect_error("payload", match):
        decode(payload)


@pytest.mark.parametrize("payload", ["", "   ", None, b"000201"])
def test_empty_or_non_text_payload_is_refused(payload):
    with expect_error("payload", "empty|must be text"):
        decode(payload)


def test_duplicate_top_level_tag_is_refused():
    with expect_error("payload", "tag 58 appears more than once"):
        decode(build([*fields_of(STATIC), ("58", "VN")]))


def test_missing_tag_38_is_not_napas():
    with expect_error("tag 38", "not a NAPAS VietQR code"):
        decode(build([("00", "01"), ("01", "11"), ("53", "704"), ("58", "VN")]))


def test_other_guid_is_not_napas():
    # Same layout under another scheme's GUID (for example a card-network template) is not a bank transfer.
    merchant = "0010A00000072801270006970403011300110123456780208QRIBFTTA"
    with expect_error("tag 38", "not a NAPAS VietQR code: GUID is 'A000000728'"):
        decode(build([("00", "01"), ("01", "11"), ("38", merchant)]))


def test_broken_nested_tlv_names_the_template():
    with expect_error("tag 38", "declares"):
        decode(build([("00", "01"), ("38", "0010A0000007270150")]))


@pytest.mark.parametrize(
    ("beneficiary", "field", "match"),
    [
        ("01130011012345678", "bin", "BIN .* missing"),
        ("0006970403", "account", "account number .* missing"),
        ("0005970400102AB", "bin", "6 digits"),
        ("", "bin", "missing"),
    ],
)
def test_missing_bin_or_account_is_refused(beneficiary, field, match):
    merchant = "0010A000000727" + (f"01{len(beneficiary):02d}{beneficiary}" if beneficiary else "")
    with expect_error(field, match):
        decode(build([("00", "01"), ("01", "11"), ("38", merchant)]))


@pytest.mark.parametrize("amount", ["18000.00", "-1", "1" * 14, "1 000"])
def test_non_digit_or_too_long_amount_is_refused(amount):
    fields = [(t, amount if t == "54" else v) for t, v in fields_of(DYNAMIC)]
    with expect_error("amount", "at most 13 digits"):
        decode(build(fields))


# --- helpers -----------------------------------------------------------------------------------------------------


def test_parse_tlv_splits_nested_templates():
    top = dict(parse_tlv(STATIC))
    assert parse_tlv(top["38"]) == [
        ("00", "A000000727"), ("01", "000697040301130011012345678"), ("02", "QRIBFTTA")]


def test_bank_registry_lookup():
    assert banks.get_bank("970403").short_name == "Sacombank"
    assert banks.get_bank("000000") is None and banks.get_bank(970403) is None
    assert banks.is_known_bin("970436") and not banks.is_known_bin("97043")
    # 970414 is shared by a renamed bank and its successor: the current one wins.
    assert banks.get_bank("970414").deprecated is False
    current = banks.all_banks()
    assert all(not b.deprecated for b in current)
    assert len(banks.all_banks(include_deprecated=True)) > len(current)
    names = [b.short_name.casefold() for b in current]
    assert names == sorted(names)


def test_memo_accepts_every_printable_ascii_character_napas_allows():
    printable = "".join(chr(code) for code in range(0x21, 0x7F))  # 94 characters: ! to ~
    for start in range(0, len(printable), 25):
        chunk = printable[start:start + 25]
        assert decode(encode(BIN, ACCOUNT, amount=1000, memo=chunk)).memo == chunk
    assert decode(encode(BIN, ACCOUNT, memo="Đơn hàng #12 - thanh-toán")).memo == "Don hang #12 - thanh-toan"


def test_generated_memo_is_the_reference_code_alone():
    from app.payments.intents import _memo

    assert _memo("GL7K3M9QXA") == "GL7K3M9QXA"
    assert decode(encode(BIN, ACCOUNT, amount=150000, memo=_memo("GL7K3M9QXA"))).memo == "GL7K3M9QXA"


def test_service_code_inside_the_beneficiary_organisation_is_refused():
    beneficiary = "0006970436" + "0113" + ACCOUNT[:13] + "0208QRIBFTTA"  # 02 nested in 38.01
    merchant = "0010A000000727" + f"01{len(beneficiary):02d}{beneficiary}"
    with pytest.raises(VietQRError) as caught:
        decode(build([("00", "01"), ("01", "11"), ("38", merchant)]))
    assert caught.value.field == "tag 38.01"
    beside = "0010A000000727" + f"01{len(beneficiary) - 12:02d}{beneficiary[:-12]}" + "0208QRIBFTTA"
    assert decode(build([("00", "01"), ("01", "11"), ("38", beside)])).service == "QRIBFTTA"
