"""Casso v2, money in: its notification verified (``X-Casso-Signature``, HMAC-SHA512 of canonical JSON) and parsed
into ``BankTransaction`` objects (one notification may carry several).

The schemes are described in ``notifications`` (docs/payments.md, "Money in").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from app.payments.bank.notifications import (  # the shape and checks every source shares
    BankTransaction, NotificationError, _amount, _check_window, _counter, _header, _hex_hmac, _load_object,
    _local_time, _optional_str, _same, _text, _txn_id,
)
from app.payments.banks import bin_for
from app.payments.stripe_wire import parse_signature_header


def _casso_message(body_obj: Any, t_ms: int | str) -> bytes:
    canonical = json.dumps(body_obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{t_ms}.{canonical}".encode("utf-8")


def sign_casso(body_obj: Mapping[str, Any], key: str, t_ms: int) -> str:
    """``X-Casso-Signature`` value for a body (simulate-transfer CLI, tests)."""
    return f"t={t_ms},v1={_hex_hmac(key, _casso_message(body_obj, t_ms), hashlib.sha512)}"


def verify_casso(
    headers: Mapping[str, str], body: bytes, *, checksum_key: str | None, now: float | None = None
) -> None:
    """Check X-Casso-Signature (HMAC-SHA512 over t + canonical JSON) and its 5-minute window."""
    if not checksum_key:
        raise NotificationError("Casso webhook checksum key is not configured", 401)
    header = _header(headers, "X-Casso-Signature")
    if not header:
        raise NotificationError("Missing X-Casso-Signature header", 401)
    stamps, signatures = parse_signature_header(header)
    stamps = [stamp.strip() for stamp in stamps]
    if len(stamps) != 1 or not (stamps[0].isascii() and stamps[0].isdigit()) or not signatures:
        raise NotificationError("Malformed X-Casso-Signature header (want t=<unix ms>,v1=<hex>)", 401)
    expected = _hex_hmac(checksum_key, _casso_message(_load_object(body), stamps[0]), hashlib.sha512)
    if not any(_same(expected, given) for given in signatures):
        raise NotificationError("Casso signature mismatch", 401)
    _check_window(int(stamps[0]), now, 1000)


def parse_casso(body: bytes | str) -> list[BankTransaction]:
    """Casso body -> transactions; ``data`` is one object in v2 webhooks, a list is accepted too.

    Casso reports money going out as a negative amount: returned as direction "out" with a positive amount.
    """
    obj = _load_object(body)
    if obj.get("error", 0) != 0:
        raise NotificationError(f"Casso notification reports error {obj.get('error')!r}")
    data = obj.get("data")
    items = data if isinstance(data, list) else [data]
    if not items or not all(isinstance(item, dict) for item in items):
        raise NotificationError("Field data must be an object or a list of objects")
    return [_casso_transaction(item, index if isinstance(data, list) else None) for index, item in enumerate(items)]


def _casso_transaction(item: dict[str, Any], index: int | None) -> BankTransaction:
    where = "data." if index is None else f"data[{index}]."
    signed_amount = _amount(item, "amount", where, signed=True)
    return BankTransaction(
        provider="casso",
        provider_txn_id=_txn_id(item, "id", where),
        amount=abs(signed_amount),
        content=_text(item, "description", where),
        account_number=_optional_str(item.get("accountNumber")),
        bank=_optional_str(item.get("bankAbbreviation")) or _optional_str(item.get("bankName")),
        occurred_at=_local_time(item.get("transactionDateTime"), where + "transactionDateTime"),
        reference=_optional_str(item.get("reference")),
        raw=item,
        direction="in" if signed_amount > 0 else "out",
        bank_bin=bin_for(_optional_str(item.get("bankAbbreviation"))) or bin_for(_optional_str(item.get("bankName"))),
        **_counter(item),
    )
