"""NAPAS VietQR payload codec (EMVCo Merchant-Presented Mode, inter-bank transfer to account or card).

encode() is strict so that every payload we print is accepted by every bank app; decode() is tolerant in the ways
real wallets differ (field order, unknown tags, lowercase CRC) and strict about integrity (TLV framing, CRC).
Facts and limits come from shared/docs/vietqr.md; the NAPAS examples are the tests' ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from typing import Any

from app.payments.banks import Bank, get_bank, is_known_bin
from app.text import strip_diacritics

NAPAS_GUID = "A000000727"
SERVICES = ("QRIBFTTA", "QRIBFTTC")  # transfer to account / to card
CURRENCY_VND = "704"
COUNTRY_VN = "VN"
INITIATION_STATIC = "11"
INITIATION_DYNAMIC = "12"
MAX_ACCOUNT_LEN = 19
MAX_AMOUNT_DIGITS = 13
MAX_MEMO_LEN = 25
MAX_BILL_NUMBER_LEN = 25
CRC_TAG = "63"


class VietQRError(ValueError):
    """A payload cannot be encoded or decoded; ``field`` names the culprit so callers can map it to a form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


# --- CRC ---------------------------------------------------------------------------------------------------------


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16_ccitt_false(data: str) -> str:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no xor-out) as 4 uppercase hex digits."""
    crc = 0xFFFF
    for byte in data.encode("utf-8"):
        crc = ((crc << 8) & 0xFFFF) ^ _CRC_TABLE[((crc >> 8) ^ byte) & 0xFF]
    return f"{crc:04X}"


# --- TLV ---------------------------------------------------------------------------------------------------------


def _tlv(tag: str, value: str) -> str:
    """One ID+LEN+value field; callers validate lengths first, this guards the framing invariant."""
    if not 0 < len(value) <= 99:
        raise VietQRError(f"tag {tag}", f"value length {len(value)} is outside 1-99")
    return f"{tag}{len(value):02d}{value}"


def parse_tlv(s: str, *, field: str = "payload") -> list[tuple[str, str]]:
    """Split an EMVCo TLV string into (id, value) pairs, in order; broken framing raises VietQRError(field)."""
    items: list[tuple[str, str]] = []
    pos, end = 0, len(s)
    while pos < end:
        if pos + 4 > end:
            raise VietQRError(field, f"truncated field header at position {pos}: {s[pos:]!r}")
        tag, length = s[pos : pos + 2], s[pos + 2 : pos + 4]
        if not (tag.isascii() and tag.isdigit()):
            raise VietQRError(field, f"field id {tag!r} at position {pos} is not two digits")
        if not (length.isascii() and length.isdigit()):
            raise VietQRError(field, f"length {length!r} of tag {tag} at position {pos} is not two digits")
        start, stop = pos + 4, pos + 4 + int(length)
        if stop > end:
            raise VietQRError(field, f"tag {tag} at position {pos} declares {int(length)} characters but only "
                                     f"{end - start} remain")
        items.append((tag, s[start:stop]))
        pos = stop
    return items


def _tlv_dict(s: str, *, field: str) -> dict[str, str]:
    """parse_tlv as an ordered dict; a repeated id is ambiguous, so it is refused."""
    out: dict[str, str] = {}
    for tag, value in parse_tlv(s, field=field):
        if tag in out:
            raise VietQRError(field, f"tag {tag} appears more than once")
        out[tag] = value
    return out


# --- encode ------------------------------------------------------------------------------------------------------


def _is_ascii_alnum(text: str) -> bool:
    return text.isascii() and text.isalnum()


def _is_printable_ascii(ch: str) -> bool:
    """What NAPAS allows in a memo (field 62.08, "ans"): space to tilde, 0x20-0x7E."""
    return " " <= ch <= "~"


def fold_memo(memo: str | None) -> str:
    """Bank-safe memo: diacritics folded (đ -> d), whitespace collapsed. Validation is left to encode()."""
    if not memo:
        return ""
    return " ".join(strip_diacritics(memo).split())


def _check_bin(bin: str) -> str:  # noqa: A002
    if not isinstance(bin, str) or len(bin) != 6 or not (bin.isascii() and bin.isdigit()):
        raise VietQRError("bin", f"bank BIN must be 6 digits, got {bin!r}")
    if not is_known_bin(bin):
        raise VietQRError("bin", f"unknown bank BIN {bin!r}")
    return bin


def _check_account(account: str) -> str:
    if not isinstance(account, str) or not account:
        raise VietQRError("account", "account number is required")
    if len(account) > MAX_ACCOUNT_LEN:
        raise VietQRError("account", f"account number is {len(account)} characters, at most {MAX_ACCOUNT_LEN}")
    if not _is_ascii_alnum(account):
        raise VietQRError("account", f"account number may contain only ASCII letters and digits, got {account!r}")
    return account


def _check_amount(amount: Any) -> str | None:
    if amount is None:
        return None
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise VietQRError("amount", f"amount must be an integer number of dong, got {type(amount).__name__}")
    if amount <= 0:
        raise VietQRError("amount", f"amount must be positive, got {amount}")
    text = str(amount)
    if len(text) > MAX_AMOUNT_DIGITS:
        raise VietQRError("amount", f"amount has {len(text)} digits, at most {MAX_AMOUNT_DIGITS}")
    return text


def _check_memo(memo: str | None) -> str | None:
    if memo is None:
        return None
    if not isinstance(memo, str):
        raise VietQRError("memo", f"memo must be text, got {type(memo).__name__}")
    folded = fold_memo(memo)
    bad = sorted({ch for ch in folded if not _is_printable_ascii(ch)})
    if bad:
        raise VietQRError("memo", f"memo may contain only printable ASCII characters; found {''.join(bad)!r}")
    if len(folded) > MAX_MEMO_LEN:
        raise VietQRError("memo", f"memo is {len(folded)} characters after folding, at most {MAX_MEMO_LEN}")
    return folded or None


def _check_bill_number(bill_number: str | None) -> str | None:
    if bill_number is None or bill_number == "":
        return None
    if not isinstance(bill_number, str) or not _is_ascii_alnum(bill_number):
        raise VietQRError("bill_number", f"bill number may contain only ASCII letters and digits, got {bill_number!r}")
    if len(bill_number) > MAX_BILL_NUMBER_LEN:
        raise VietQRError("bill_number", f"bill number is {len(bill_number)} characters, at most {MAX_BILL_NUMBER_LEN}")
    return bill_number


def encode(
    bin: str,  # noqa: A002 - the NAPAS name of the field
    account: str,
    amount: int | None = None,
    memo: str | None = None,
    service: str = "QRIBFTTA",
    bill_number: str | None = None,
) -> str:
    """Build a VietQR payload in canonical order (00, 01, 38, 53, 54, 58, 62, 63).

    Initiation is 12 (dynamic, one payment) when an amount is given, else 11 (static). The memo is folded to
    ASCII because banks drop or mangle diacritics; anything still not letters/digits/spaces is refused rather than
    silently altered, so the reference code the payer's bank carries is exactly the one we match on.
    """
    bin = _check_bin(bin)
    account = _check_account(account)
    if service not in SERVICES:
        raise VietQRError("service", f"service must be one of {', '.join(SERVICES)}, got {service!r}")
    amount_text = _check_amount(amount)
    memo_text = _check_memo(memo)
    bill_text = _check_bill_number(bill_number)

    beneficiary = _tlv("00", bin) + _tlv("01", account)
    merchant = _tlv("00", NAPAS_GUID) + _tlv("01", beneficiary) + _tlv("02", service)
    parts = [
        _tlv("00", "01"),
        _tlv("01", INITIATION_DYNAMIC if amount_text else INITIATION_STATIC),
        _tlv("38", merchant),
        _tlv("53", CURRENCY_VND),
    ]
    if amount_text:
        parts.append(_tlv("54", amount_text))
    parts.append(_tlv("58", COUNTRY_VN))
    additional = (_tlv("01", bill_text) if bill_text else "") + (_tlv("08", memo_text) if memo_text else "")
    if additional:
        parts.append(_tlv("62", additional))
    body = "".join(parts) + CRC_TAG + "04"
    return body + crc16_ccitt_false(body)


# --- decode ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecodedVietQR:
    """What a VietQR payload says; ``tags`` keeps every top-level field (unknown ones too) for diagnostics."""

    bin: str
    account: str
    service: str | None
    amount: int | None
    memo: str | None
    bill_number: str | None
    initiation: str | None
    currency: str | None
    country: str | None
    merchant_name: str | None
    merchant_city: str | None
    tags: dict[str, str] = dc_field(default_factory=dict, hash=False)
    additional_data: dict[str, str] | None = dc_field(default=None, hash=False)

    @property
    def bank(self) -> Bank | None:
        """Registry entry for the BIN; None for a bank the registry does not know (decode does not refuse it)."""
        return get_bank(self.bin)


def _check_crc(payload: str, items: list[tuple[str, str]]) -> None:
    tags = [tag for tag, _ in items]
    if CRC_TAG not in tags:
        raise VietQRError("crc", "CRC field (tag 63) is missing")
    if tags[-1] != CRC_TAG or tags.count(CRC_TAG) != 1:
        raise VietQRError("crc", "CRC field (tag 63) must be the last field")
    given = items[-1][1]
    if len(given) != 4:
        raise VietQRError("crc", f"CRC must be 4 hex digits, got {given!r}")
    expected = crc16_ccitt_false(payload[:-4])
    if given.upper() != expected:
        raise VietQRError("crc", f"CRC mismatch: payload says {given}, content gives {expected}")


def decode(payload: str) -> DecodedVietQR:
    """Parse and verify a VietQR payload; raise VietQRError naming the field at the first problem."""
    if not isinstance(payload, str):
        raise VietQRError("payload", f"payload must be text, got {type(payload).__name__}")
    payload = payload.strip()
    if not payload:
        raise VietQRError("payload", "payload is empty")
    items = parse_tlv(payload)
    if items[0][0] != "00":
        raise VietQRError("payload", f"payload format indicator (tag 00) must come first, found tag {items[0][0]}")
    if items[0][1] != "01":
        raise VietQRError("payload", f"payload format indicator must be 01, got {items[0][1]!r}")
    _check_crc(payload, items)
    tags = _tlv_dict(payload, field="payload")

    if "38" not in tags:
        raise VietQRError("tag 38", "not a NAPAS VietQR code: merchant account field (tag 38) is missing")
    merchant = _tlv_dict(tags["38"], field="tag 38")
    if merchant.get("00", "").upper() != NAPAS_GUID:
        raise VietQRError("tag 38", f"not a NAPAS VietQR code: GUID is {merchant.get('00')!r}, not {NAPAS_GUID}")
    beneficiary = _tlv_dict(merchant.get("01", ""), field="tag 38.01")
    if "02" in beneficiary:  # the service code (38.02) sits beside the beneficiary organisation, never inside it
        raise VietQRError("tag 38.01", "malformed merchant account: the service code (02) is inside the beneficiary "
                                       "organisation (tag 38.01) instead of beside it (tag 38.02)")
    bin_ = beneficiary.get("00")
    if not bin_:
        raise VietQRError("bin", "bank BIN (tag 38.01.00) is missing")
    if len(bin_) != 6 or not (bin_.isascii() and bin_.isdigit()):
        raise VietQRError("bin", f"bank BIN must be 6 digits, got {bin_!r}")
    account = beneficiary.get("01")
    if not account:
        raise VietQRError("account", "account number (tag 38.01.01) is missing")

    amount: int | None = None
    if "54" in tags:
        raw = tags["54"]
        if not (raw.isascii() and raw.isdigit()) or len(raw) > MAX_AMOUNT_DIGITS:
            raise VietQRError("amount", f"amount must be at most {MAX_AMOUNT_DIGITS} digits, got {raw!r}")
        amount = int(raw)

    additional = _tlv_dict(tags["62"], field="tag 62") if "62" in tags else None
    extra = additional or {}
    return DecodedVietQR(
        bin=bin_,
        account=account,
        service=merchant.get("02"),
        amount=amount,
        memo=extra.get("08") or None,
        bill_number=extra.get("01") or None,
        initiation=tags.get("01"),
        currency=tags.get("53"),
        country=tags.get("58"),
        merchant_name=tags.get("59"),
        merchant_city=tags.get("60"),
        tags=tags,
        additional_data=additional,
    )
