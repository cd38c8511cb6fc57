"""payOS, money in: its notification verified (``signature`` in the body, HMAC-SHA256 of the sorted ``data``) and
parsed into a ``BankTransaction``.

The schemes are described in ``notifications`` (docs/payments.md, "Money in").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from app.payments.bank.notifications import (  # the shape and checks every source shares
    BankTransaction, NotificationError, _amount, _counter, _hex_hmac, _load_object, _local_time, _optional_str,
    _same, _text, _txn_id,
)


def _payos_value(value: Any) -> str:
    if value is None or value in ("null", "undefined"):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def sign_payos(data: Mapping[str, Any], key: str) -> str:
    """payOS ``signature`` for a ``data`` object (simulate-transfer CLI, tests)."""
    message = "&".join(f"{name}={_payos_value(data[name])}" for name in sorted(data))
    return _hex_hmac(key, message.encode("utf-8"), hashlib.sha256)


def verify_payos(body_obj: Mapping[str, Any] | bytes | str, *, checksum_key: str | None) -> None:
    """Check the body's ``signature`` against its ``data``; the raw bytes are not signed, only the fields."""
    if not checksum_key:
        raise NotificationError("payOS checksum key is not configured", 401)
    obj = _load_object(body_obj)
    signature, data = obj.get("signature"), obj.get("data")
    if not isinstance(signature, str) or not signature:
        raise NotificationError("Missing payOS signature", 401)
    if not isinstance(data, dict):
        raise NotificationError("Field data must be an object")
    if not _same(sign_payos(data, checksum_key), signature):
        raise NotificationError("payOS signature mismatch", 401)


def parse_payos(body: Mapping[str, Any] | bytes | str) -> BankTransaction:
    """payOS body -> BankTransaction; a non-success payload (``code`` != "00") is refused with 400.

    The transaction id is the bank ``reference`` when present, else the payOS ``orderCode``.
    """
    obj = _load_object(body)
    if obj.get("code") != "00" or obj.get("success") is False:
        raise NotificationError(f"payOS notification is not a success: code={obj.get('code')!r}")
    data = obj.get("data")
    if not isinstance(data, dict):
        raise NotificationError("Field data must be an object")
    reference = _optional_str(data.get("reference"))
    return BankTransaction(
        provider="payos",
        provider_txn_id=reference or _txn_id(data, "orderCode", "data."),
        amount=_amount(data, "amount", "data."),
        content=_text(data, "description", "data."),
        account_number=_optional_str(data.get("accountNumber")),
        bank=None,  # payOS names the payer's bank (counterAccountBankName), not ours
        occurred_at=_local_time(data.get("transactionDateTime"), "data.transactionDateTime"),
        reference=reference,
        raw=data,
        **_counter(data),
    )
