"""Incoming bank-transaction notifications: the one shape every source is parsed into (``BankTransaction``), the
checks they share, and the reference codes that a transfer's text carries. Each source has its module beside this
one (``sepay``, ``casso``, ``payos``; a bank statement: ``statement``).

The receivers call a source's ``verify_*`` on the raw request first, then its ``parse_*``; both raise
``NotificationError`` whose ``status`` is the HTTP answer (401: authentication/signature, 400: malformed). Everything downstream works on
``BankTransaction`` and never on provider JSON.

Authentication schemes (all comparisons constant-time, all fail closed when no secret is configured):

- SePay, API key: ``Authorization: Apikey <key>``. A payment account's own key is stored as ``sha256:<hex>``
  and compared as a digest.
- SePay, HMAC (our own definition; SePay's exact header names are not in our notes): ``X-SePay-Timestamp:
  <unix seconds>`` and ``X-SePay-Signature: <hex HMAC-SHA256(secret, "<timestamp>." + raw body bytes)>``,
  accepted within 5 minutes either side of now. ``sign_sepay`` produces these headers.
- Casso v2: ``X-Casso-Signature: t=<unix ms>,v1=<hex HMAC-SHA512(key, "<t>." + canonical JSON)>`` where the
  canonical JSON is the whole body with keys sorted recursively, no spaces, non-ASCII kept (as JavaScript's
  ``JSON.stringify`` writes it; bodies with non-integral floats could differ, Casso sends none). 5-minute window.
- payOS: ``signature`` in the body = hex HMAC-SHA256(key, ``k=v`` pairs of ``data`` sorted by key, joined with
  ``&``, no URL-encoding). Values follow payOS's own SDKs: ``None``, ``"null"`` and ``"undefined"`` become ``""``;
  booleans ``true``/``false`` (JSON spelling, not Python's ``True``); lists and objects compact JSON with sorted
  object keys; everything else ``str()``. payOS signs no timestamp, so its notifications can be replayed: the
  unique provider transaction id is what makes a replay harmless.

Provider times are Vietnam local time without offset; ``occurred_at`` is converted to UTC.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from app.payments.banks import bin_for

from app.formatting import VN_TZ

SIGNATURE_WINDOW_SECONDS = 300
KEY_DIGEST_PREFIX = "sha256:"  # a stored SePay API key that is a digest (accounts.sepay_key_digest)
# Dates outside these bounds are malformed input (year 1 overflowed the UTC conversion): refused with 400.
EARLIEST_DATE = datetime(2000, 1, 1, tzinfo=timezone.utc)
LATEST_YEAR = 2100
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no I, L, O, 0, 1: nothing to misread on a memo
REFERENCE_LENGTH = 8


@dataclass(frozen=True)
class BankTransaction:
    """One bank transfer as reported by a provider.

    Recorded once per (provider, receiving account, provider_txn_id), and once per (receiving account,
    ``reference``) whatever the provider: ``reference`` is the bank's own id of the transfer (SePay
    ``referenceCode``, Casso and payOS ``reference``, a statement's reference column).
    ``bank_bin`` is the receiving bank when the source names it; ``counter_*`` the other side's account (the payer
    of money in), where a refund goes; ``account_ids`` limits the transfer to those payment accounts (the account a
    statement was imported for, the account whose own secret authenticated the notification).
    ``raw`` is the provider's transaction object as received (kept for the reconciliation inbox and audits).
    ``accounts_read`` is what a receiver already read, in this unit of work, of the payment accounts of every commune
    with these account numbers (to choose their secrets): ``confirm_transfer`` picks the receiving accounts among them
    instead of reading them again (issue #17).
    """

    provider: str
    provider_txn_id: str
    amount: int
    content: str
    account_number: str | None
    bank: str | None
    occurred_at: datetime | None
    reference: str | None
    raw: dict = field(repr=False, compare=False)
    direction: str = "in"
    bank_bin: str | None = None
    counter_bank_bin: str | None = None
    counter_account_number: str | None = None
    counter_account_name: str | None = None
    account_ids: tuple[int, ...] | None = None
    accounts_read: tuple[frozenset[str], tuple] | None = field(default=None, repr=False, compare=False)


class NotificationError(ValueError):
    """A notification we refuse; ``status`` is what to answer (401 auth/signature, 400 malformed)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive lookup that works for plain dicts as well as Werkzeug headers."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _load_object(body: bytes | str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(body, Mapping):
        return dict(body)
    try:
        obj = json.loads(body)
    except RecursionError:
        raise NotificationError("Body is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise NotificationError(f"Body is not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise NotificationError("Body must be a JSON object")
    return obj


def _require(obj: Mapping[str, Any], name: str, where: str = "") -> Any:
    value = obj.get(name)
    if value is None or value == "":
        raise NotificationError(f"Missing required field {where}{name}")
    return value


def _txn_id(obj: Mapping[str, Any], name: str, where: str = "") -> str:
    value = _require(obj, name, where)
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip():
        raise NotificationError(f"Field {where}{name} must be a non-empty string or integer")
    return str(value).strip()


def _amount(obj: Mapping[str, Any], name: str, where: str = "", *, signed: bool = False) -> int:
    """Integer đồng only: a float or numeric string here means a format we do not understand."""
    value = _require(obj, name, where)
    if isinstance(value, bool) or not isinstance(value, int) or value == 0 or (value < 0 and not signed):
        raise NotificationError(f"Field {where}{name} must be a {'non-zero' if signed else 'positive'} integer")
    return value


def _text(obj: Mapping[str, Any], name: str, where: str = "") -> str:
    """Transfer text is required but may be empty (a transfer without memo still goes to reconciliation)."""
    value = obj.get(name)
    if not isinstance(value, str):
        raise NotificationError(f"Field {where}{name} is required and must be a string")
    return value


def _optional_str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _counter(obj: Mapping[str, Any]) -> dict[str, str | None]:
    """The other side's account, as Casso and payOS name it (counterAccount*); SePay sends it when it has it."""
    number = _optional_str(obj.get("counterAccountNumber"))
    return {
        "counter_bank_bin": bin_for(_optional_str(obj.get("counterAccountBankId"))),
        "counter_account_number": number.strip()[:40] if number and number.strip().isalnum() else None,
        "counter_account_name": (_optional_str(obj.get("counterAccountName")) or "")[:120] or None,
    }


def _local_time(value: Any, name: str) -> datetime | None:
    """'YYYY-MM-DD HH:MM:SS' in Vietnam time (ISO 8601 with an offset also accepted) -> aware UTC."""
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(str(value).strip())
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=VN_TZ)
        parsed = parsed.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise NotificationError(f"Field {name} is not a date-time: {str(value)[:40]!r}") from None
    if not EARLIEST_DATE <= parsed <= EARLIEST_DATE.replace(year=LATEST_YEAR):
        raise NotificationError(f"Field {name} is not a plausible date: {str(value)[:40]!r}")
    return parsed


def _check_window(stamp: int, now: float | None, units_per_second: int = 1) -> None:
    """Integer arithmetic, so an absurd header value cannot overflow a float."""
    current = int((time.time() if now is None else now) * units_per_second)
    if abs(current - stamp) > SIGNATURE_WINDOW_SECONDS * units_per_second:
        raise NotificationError("Signature timestamp outside the 5-minute window (replay or clock skew)", 401)


def _hex_hmac(key: str, message: bytes, digest: Any) -> str:
    return hmac.new(key.encode("utf-8"), message, digest).hexdigest()


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode("utf-8"), given.strip().lower().encode("utf-8"))


def new_reference_code(prefix: str = "GL") -> str:
    """Prefix + 8 unambiguous characters (31**8 ≈ 8.5e11 codes), short enough for every memo limit."""
    return prefix + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def find_reference_codes(text: str, prefix: str) -> list[str]:
    """Candidate reference codes in bank-mangled transfer text, best first, unique.

    Order: codes standing alone (no letter or digit either side), then codes glued to other text
    ("THANHTOANGL7K3M9QXAXYZ" yields GL7K3M9QXA), then codes split by spaces or punctuation ("GL7K3 M9QXA").
    Candidates are only candidates: the caller keeps the first one that names a real payment intent.
    """
    upper = (text or "").upper()
    body = f"{re.escape(prefix.upper())}[{REFERENCE_ALPHABET}]{{{REFERENCE_LENGTH}}}"
    standalone = re.findall(rf"(?<![A-Z0-9])({body})(?![A-Z0-9])", upper)
    glued = re.findall(rf"(?=({body}))", upper)
    split = re.findall(rf"(?=({body}))", re.sub(r"[^A-Z0-9]", "", upper))
    return list(dict.fromkeys(standalone + glued + split))
