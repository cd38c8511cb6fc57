"""SePay, money in: its notification verified (API key or our HMAC headers) and parsed into a ``BankTransaction``.

The schemes are described in ``notifications`` (docs/payments.md, "Money in").
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from app.payments.bank.notifications import (  # the shape and checks every source shares
    BankTransaction, KEY_DIGEST_PREFIX, NotificationError, _amount, _check_window, _counter, _header, _hex_hmac,
    _load_object, _local_time, _optional_str, _require, _same, _txn_id,
)
from app.payments.banks import bin_for


def sign_sepay(body: bytes, secret: str, timestamp: int) -> dict[str, str]:
    """Headers for our SePay HMAC scheme (simulate-transfer CLI, tests)."""
    signature = _hex_hmac(secret, f"{timestamp}.".encode() + body, hashlib.sha256)
    return {"X-SePay-Timestamp": str(timestamp), "X-SePay-Signature": signature}


def verify_sepay(
    headers: Mapping[str, str], body: bytes, *, api_key: str | None, webhook_secret: str | None,
    now: float | None = None,
) -> None:
    """Accept the API-key header or the HMAC headers, whichever is configured and valid; else 401."""
    if not api_key and not webhook_secret:
        raise NotificationError("SePay webhook authentication is not configured", 401)
    problems = []
    if api_key:
        authorization = _header(headers, "Authorization")
        scheme, _, given = (authorization or "").strip().partition(" ")
        if api_key.startswith(KEY_DIGEST_PREFIX):  # a payment account's own key is stored as its digest
            given = KEY_DIGEST_PREFIX + hashlib.sha256(given.strip().encode("utf-8")).hexdigest()
        if scheme.lower() == "apikey" and hmac.compare_digest(
            given.strip().encode("utf-8"), api_key.encode("utf-8")
        ):
            return
        problems.append("invalid API key" if authorization else "missing Authorization: Apikey header")
    if webhook_secret:
        try:
            _verify_sepay_hmac(headers, body, webhook_secret, now)
            return
        except NotificationError as exc:
            problems.append(exc.message)
    raise NotificationError("SePay authentication failed: " + "; ".join(problems), 401)


def _verify_sepay_hmac(headers: Mapping[str, str], body: bytes, secret: str, now: float | None) -> None:
    timestamp = (_header(headers, "X-SePay-Timestamp") or "").strip()
    signature = _header(headers, "X-SePay-Signature")
    if not timestamp or not signature:
        raise NotificationError("missing X-SePay-Timestamp/X-SePay-Signature headers", 401)
    if not (timestamp.isascii() and timestamp.isdigit()):
        raise NotificationError("X-SePay-Timestamp must be unix seconds", 401)
    if not _same(_hex_hmac(secret, f"{timestamp}.".encode() + body, hashlib.sha256), signature):
        raise NotificationError("signature mismatch", 401)
    _check_window(int(timestamp), now)


def parse_sepay(body: bytes | str) -> BankTransaction:
    """SePay JSON -> BankTransaction; outgoing transfers come back with direction "out" for the caller to skip."""
    obj = _load_object(body)
    direction = _require(obj, "transferType")
    if direction not in ("in", "out"):
        raise NotificationError("Field transferType must be 'in' or 'out'")
    texts = [obj.get("content"), obj.get("description")]
    if not any(isinstance(text, str) for text in texts):
        raise NotificationError("Field content or description is required and must be a string")
    return BankTransaction(
        provider="sepay",
        provider_txn_id=_txn_id(obj, "id"),
        amount=_amount(obj, "transferAmount"),
        content=next((text for text in texts if isinstance(text, str) and text), ""),
        account_number=_optional_str(obj.get("accountNumber")),
        bank=_optional_str(obj.get("gateway")),
        occurred_at=_local_time(obj.get("transactionDate"), "transactionDate"),
        reference=_optional_str(obj.get("referenceCode")),
        raw=obj,
        direction=direction,
        bank_bin=bin_for(_optional_str(obj.get("gateway"))),
        **_counter(obj),
    )
