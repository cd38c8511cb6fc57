"""Receivers for bank-transaction notifications: SePay, Casso v2, payOS.

Each route does the same four things, in this order, and stores nothing until the first two have passed:

1. authenticate the request (``verify_*`` in notifications.py: constant-time comparisons, 5-minute windows for
   the timestamped schemes) -> 401 JSON;
2. parse it into ``BankTransaction`` objects -> 400 JSON when malformed;
3. hand every transaction to ``confirm_transfer`` (the one idempotent confirm function);
4. answer the way the provider expects: 200 ``{"success": true}``. A duplicate delivery gets the same answer, so
   the provider stops retrying, and changes nothing.

Which secret authenticates a notification (the key rule):

- The configured secret (``SEPAY_API_KEY`` / ``SEPAY_WEBHOOK_SECRET``, ``CASSO_CHECKSUM_KEY``,
  ``PAYOS_CHECKSUM_KEY``) is the platform's own and is accepted for every account: the platform already trusts
  it for all payments, and an account that brings its own service keeps working while it switches.
- A payment account's own secret (``PaymentAccount.sepay_api_key``, ``sepay_webhook_secret``,
  ``casso_checksum_key``, ``payos_checksum_key``) is accepted only for notifications whose every transaction names
  that account's number (``accountNumber``, and its bank where the source names one). It is looked up across
  communes (``all_tenants``) from the not-yet-trusted body; that only chooses which secrets to try. A notification
  accepted with an account's own secret applies to that account alone (``BankTransaction.account_ids``): the same
  number at another bank, or in another commune, is another account, and ``confirm_transfer`` applies a reference
  code only to an intent of an account the transfer may have gone into.
- A notification without an account number can only be authenticated by the configured secret.

The payOS test notification (sent when a merchant registers the webhook URL: ``orderCode`` 123, description
``VQRIO123``) is answered 200 and stored nowhere, whether or not its signature verifies with a secret we know, so
registering the URL never fails on our side; a warning is logged when the signature did not verify.

The request is one unit of work (app/transactions.py): every transaction of a notification is recorded, or none.
A deadlock runs the whole notification again (a few times, then 503); any other unexpected failure while
recording (database down, say) answers 503 so the provider retries; nothing half-done stays either way, and a
retry is harmless because confirm_transfer is idempotent. Never a 500.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from app.errors import DomainError
from app.transactions import is_retryable
from app.extensions import db, limiter
from app.payments.banks import bin_for
from app.payments.models import PaymentAccount
from app.payments.bank.notifications import BankTransaction, NotificationError
from app.payments.bank.casso import parse_casso, verify_casso
from app.payments.bank.payos import parse_payos, verify_payos
from app.payments.bank.sepay import parse_sepay, verify_sepay
from app.payments.bank.reconciliation import check_transaction, confirm_transfer
from tenants.scoping import all_tenants

bp = Blueprint("bank_notifications", __name__, url_prefix="/webhooks")  # the URL the banks were given

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024  # a notification is a few hundred bytes; Casso batches stay far below this
PAYOS_TEST_DESCRIPTIONS = ("VQRIO123", "Ma giao dich thu nghiem")


def _rate_limit() -> str:
    return current_app.config["WEBHOOK_RATE_LIMIT"]


def _refuse(status: int, message: str):
    return jsonify({"success": False, "error": {"status": status, "message": message}}), status


@bp.errorhandler(429)
def _too_many(err):
    return _refuse(429, "Too many requests")


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _raw_body() -> bytes:
    """The exact bytes received (signatures cover them), at most MAX_BODY_BYTES, chunked uploads included."""
    request.max_content_length = MAX_BODY_BYTES
    try:
        return request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise _Refused(413, "Body too large") from None


def _loose_json(body: bytes) -> dict:
    """The body as an object, or {} when it is not one (only used to choose secrets; parsing comes later).

    A body nested too deeply for the parser is refused with 400 here, before authentication: no provider sends one."""
    try:
        obj = json.loads(body)
    except RecursionError:
        raise _Refused(400, "Body is nested too deeply") from None
    except (ValueError, UnicodeDecodeError):
        return {}
    return obj if isinstance(obj, dict) else {}


def _account_numbers(items: Iterable, bank_field: str | None = None) -> list[tuple[str, str | None] | None]:
    """(account number, bank BIN or None) named by each transaction of the body, None where it names no number."""
    numbers = []
    for item in items:
        value = item.get("accountNumber") if isinstance(item, dict) else None
        if isinstance(value, (str, int)) and str(value).strip():
            bank = item.get(bank_field) if bank_field else None
            numbers.append((str(value).strip(), bin_for(bank if isinstance(bank, str) else None)))
        else:
            numbers.append(None)
    return numbers


@dataclass(frozen=True)
class _Secret:
    """A secret to try; ``account_ids`` is None for the platform's own, else the accounts it belongs to."""

    value: object
    account_ids: tuple[int, ...] | None = None


def _account_secrets(numbers: list, pick: Callable[[PaymentAccount], object]) -> list[_Secret]:
    """Per-account secrets valid for every transaction of the body (same number, same bank when named), each with
    the accounts that hold it, most specific first. The accounts read are kept for ``_limited`` (``g``)."""
    if not numbers or any(n is None for n in numbers):
        return []
    wanted = frozenset(n for n, _ in numbers)
    with all_tenants():
        accounts = db.session.scalars(
            select(PaymentAccount).where(PaymentAccount.account_number.in_(wanted)).order_by(PaymentAccount.id)
        ).all()
    g.bank_accounts_read = (wanted, tuple(accounts))
    common: dict | None = None
    for number, bank_bin in set(numbers):
        holders: dict = {}
        for account in accounts:
            secret = pick(account)
            if secret and account.account_number == number and bank_bin in (None, account.bank_bin):
                holders.setdefault(secret, []).append(account.id)
        if common is None:
            common = holders
        else:
            common = {secret: ids + holders[secret] for secret, ids in common.items() if secret in holders}
    return [_Secret(secret, tuple(sorted(set(ids)))) for secret, ids in (common or {}).items()]


def _first_accepted(candidates: list[_Secret], check: Callable[[object], None],
                    unconfigured: str) -> tuple[int, ...] | None:
    """The accounts the accepted secret limits the notification to (None: the platform's own secret), when any
    candidate verifies; otherwise raise the first refusal (the most specific one)."""
    if not candidates:
        raise NotificationError(unconfigured, 401)
    first_error = None
    for candidate in candidates:
        try:
            check(candidate.value)
            return candidate.account_ids
        except NotificationError as exc:
            if exc.status != 401:
                raise
            first_error = first_error or exc
    raise first_error


def _record(transactions: list[BankTransaction]):
    stored = duplicates = 0
    try:
        for txn in transactions:  # a batch with one malformed item is refused whole, before anything is recorded
            check_transaction(txn)
        for txn in transactions:
            outcome = confirm_transfer(txn)
            duplicates += outcome.duplicate
            stored += not outcome.duplicate
    except DomainError as err:  # a value the columns cannot hold: malformed for us, retrying will not help
        return _refuse(400, str(err.message))  # an answer of 400 or more: the request's unit of work rolls back
    except Exception as exc:  # noqa: BLE001 - the provider must retry, not see a 500
        if is_retryable(exc):
            raise  # a deadlock: the request's unit of work runs the whole notification again (app/transactions.py)
        log.exception("Could not record a %s notification", transactions[0].provider if transactions else "bank")
        return _refuse(503, "Temporarily unable to record the notification; please retry")
    log.info("%s notification: %d recorded, %d duplicate", transactions[0].provider, stored, duplicates)
    return jsonify({"success": True}), 200


def _handle(receive: Callable[[bytes], list[BankTransaction] | None]):
    try:
        body = _raw_body()
        transactions = receive(body)
    except _Refused as refused:
        return _refuse(refused.status, refused.message)
    except NotificationError as exc:
        return _refuse(exc.status, exc.message)
    if transactions is None:  # acknowledged without anything to record (the payOS test notification)
        return jsonify({"success": True}), 200
    return _record(transactions)


# --- SePay -----------------------------------------------------------------------------------------------------

def _limited(transactions: list[BankTransaction], account_ids: tuple[int, ...] | None) -> list[BankTransaction]:
    """Accepted with an account's own secret: the transactions apply to that account alone. Each carries the
    accounts read to choose the secrets, so ``confirm_transfer`` does not read them again (issue #17)."""
    read = g.pop("bank_accounts_read", None)
    if account_ids is None and read is None:
        return transactions
    return [replace(txn, account_ids=account_ids, accounts_read=read) for txn in transactions]


def _sepay(body: bytes) -> list[BankTransaction]:
    config = current_app.config
    numbers = _account_numbers([_loose_json(body)], "gateway")
    candidates = _account_secrets(numbers, lambda a: (a.sepay_api_key, a.sepay_webhook_secret)
                                  if (a.sepay_api_key or a.sepay_webhook_secret) else None)
    if config.get("SEPAY_API_KEY") or config.get("SEPAY_WEBHOOK_SECRET"):
        candidates.append(_Secret((config.get("SEPAY_API_KEY"), config.get("SEPAY_WEBHOOK_SECRET"))))
    account_ids = _first_accepted(
        candidates,
        lambda pair: verify_sepay(request.headers, body, api_key=pair[0], webhook_secret=pair[1]),
        "SePay webhook authentication is not configured",
    )
    return _limited([parse_sepay(body)], account_ids)


@bp.post("/sepay")
@limiter.limit(_rate_limit)
def sepay():
    """SePay: ``Authorization: Apikey <key>`` or the HMAC headers; answers 200 ``{"success": true}``."""
    return _handle(_sepay)


# --- Casso v2 --------------------------------------------------------------------------------------------------

def _casso(body: bytes) -> list[BankTransaction]:
    obj = _loose_json(body)
    data = obj.get("data")
    numbers = _account_numbers(data if isinstance(data, list) else [data], "bankAbbreviation")
    candidates = _account_secrets(numbers, lambda a: a.casso_checksum_key)
    if current_app.config.get("CASSO_CHECKSUM_KEY"):
        candidates.append(_Secret(current_app.config["CASSO_CHECKSUM_KEY"]))
    account_ids = _first_accepted(
        candidates,
        lambda key: verify_casso(request.headers, body, checksum_key=key),
        "Casso webhook checksum key is not configured",
    )
    return _limited(parse_casso(body), account_ids)


@bp.post("/casso")
@limiter.limit(_rate_limit)
def casso():
    """Casso v2: ``X-Casso-Signature``; answers 200 ``{"success": true}`` (Casso wants a 2xx JSON answer)."""
    return _handle(_casso)


# --- payOS -----------------------------------------------------------------------------------------------------

def _is_payos_test(obj: dict) -> bool:
    data = obj.get("data")
    return (isinstance(data, dict) and data.get("description") in PAYOS_TEST_DESCRIPTIONS
            and str(data.get("orderCode")) == "123")


def _payos(body: bytes) -> list[BankTransaction] | None:
    obj = _loose_json(body)
    data = obj.get("data")
    candidates = _account_secrets(_account_numbers([data]), lambda a: a.payos_checksum_key)
    if current_app.config.get("PAYOS_CHECKSUM_KEY"):
        candidates.append(_Secret(current_app.config["PAYOS_CHECKSUM_KEY"]))
    try:
        account_ids = _first_accepted(
            candidates,
            lambda key: verify_payos(body, checksum_key=key),
            "payOS checksum key is not configured",
        )
    except NotificationError as exc:
        if _is_payos_test(obj):
            log.warning("payOS test notification acknowledged, but its signature did not verify: %s", exc.message)
            return None
        raise
    if _is_payos_test(obj):
        log.info("payOS test notification acknowledged (signature verified)")
        return None
    return _limited([parse_payos(body)], account_ids)


@bp.post("/payos")
@limiter.limit(_rate_limit)
def payos():
    """payOS: ``signature`` inside the body; answers 200 ``{"success": true}``."""
    return _handle(_payos)
