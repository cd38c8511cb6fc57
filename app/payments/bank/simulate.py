"""Simulated bank transfers for demos and tests: a correctly signed SePay notification, delivered through the real
``/webhooks/sepay`` route, so a simulation exercises exactly what a real bank notification does.

``simulate_transfer(reference_code, amount=None, url=None)`` builds the notification for the payment intent with
that reference code and delivers it:

- in-process (default) through ``app.test_client()`` in a fresh application context: no server needed, same
  configured database;
- over HTTP when ``url`` is given (the server's base URL such as ``http://127.0.0.1:5000``, or the full
  ``.../webhooks/sepay`` URL), with ``urllib.request``. The intent is looked up, and its status read back, in
  the configured database, so the server must use the same one.

Authentication is the one a real SePay delivery would carry: ``Authorization: Apikey <SEPAY_API_KEY>`` when that
is configured, else the HMAC headers with ``SEPAY_WEBHOOK_SECRET``; when neither is configured, the payment
account's own SePay secrets. Refused in production (``PRODUCTION``).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from app import transactions
from app.extensions import db
from app.payments.banks import get_bank
from app.payments.models import PaymentIntent
from app.formatting import VN_TZ
from app.payments.bank.sepay import sign_sepay
from tenants.scoping import all_tenants

WEBHOOK_PATH = "/webhooks/sepay"
HTTP_TIMEOUT_SECONDS = 15


class SimulationError(RuntimeError):
    """A simulation that cannot run; the message says why (shown as is by the CLI)."""


def _find_intent(reference_code: str) -> PaymentIntent:
    code = (reference_code or "").strip().upper()
    if not code:
        raise SimulationError("Give the reference code of a payment intent.")
    with all_tenants():
        intent = db.session.scalar(select(PaymentIntent).where(PaymentIntent.reference_code == code))
    if intent is None:
        raise SimulationError(f"No payment intent has the reference code {code!r}.")
    return intent


def _auth_headers(body: bytes, account) -> dict[str, str]:
    config = current_app.config
    api_key, secret = config.get("SEPAY_API_KEY"), config.get("SEPAY_WEBHOOK_SECRET")
    if not api_key and not secret:
        # An account's own API key is stored as a digest and cannot sign; its webhook secret can.
        api_key, secret = None, account.sepay_webhook_secret
    if api_key:
        return {"Authorization": f"Apikey {api_key}"}
    if secret:
        return sign_sepay(body, secret, int(time.time()))
    raise SimulationError("Set SEPAY_API_KEY or SEPAY_WEBHOOK_SECRET (or give the account its own SePay webhook "
                          "secret): the simulated notification must be signed.")


def build_sepay_notification(intent: PaymentIntent, amount: int) -> tuple[dict, bytes, dict[str, str]]:
    """(payload, body bytes, headers) of a SePay notification of ``amount`` đồng for ``intent``."""
    account = intent.account
    bank = get_bank(account.bank_bin)
    now = datetime.now(VN_TZ)
    sim_id = "SIM" + uuid.uuid4().hex[:20].upper()
    content = f"SIMULATION {intent.reference_code} chuyen khoan"
    payload = {
        "id": sim_id,
        "gateway": bank.short_name if bank else account.bank_bin,
        "transactionDate": now.strftime("%Y-%m-%d %H:%M:%S"),
        "accountNumber": account.account_number,
        "code": None,
        "content": content,
        "transferType": "in",
        "transferAmount": amount,
        "accumulated": 0,
        "subAccount": None,
        "referenceCode": f"SIM.{sim_id[3:15]}",
        "description": f"BankAPINotify {content}",
    }
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json", **_auth_headers(body, account)}
    return payload, body, headers


def _deliver_in_process(body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    app = current_app._get_current_object()
    with app.app_context():  # a fresh context: its own database session, like a separate request
        response = app.test_client().post(WEBHOOK_PATH, data=body, headers=headers)
        return response.status_code, response.get_json(silent=True) or {}


def _webhook_url(url: str) -> str:
    url = url.strip()
    if not url.startswith(("http://", "https://")):
        raise SimulationError(f"--url must be an http:// or https:// URL, not {url!r}.")
    return url if url.rstrip("/").endswith(WEBHOOK_PATH) else url.rstrip("/") + WEBHOOK_PATH


def _deliver_over_http(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310 - http(s) only
            status, text = response.status, response.read()
    except urllib.error.HTTPError as err:
        status, text = err.code, err.read()
    except (urllib.error.URLError, OSError) as err:
        raise SimulationError(f"Could not reach {url}: {getattr(err, 'reason', err)}") from None
    try:
        answer = json.loads(text or b"{}")
    except ValueError:
        answer = {"raw": text.decode("utf-8", "replace")[:200]}
    return status, answer if isinstance(answer, dict) else {"raw": answer}


def simulate_transfer(reference_code: str, amount: int | None = None, url: str | None = None) -> dict:
    """Simulate the bank transfer that pays the intent with ``reference_code``; returns what happened.

    ``amount`` defaults to what remains to be paid. Raises ``SimulationError`` (unknown code, production,
    nothing left to pay and no amount given, unreachable URL).
    """
    if current_app.config.get("PRODUCTION"):
        raise SimulationError("Simulations are refused in production.")
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0):
        raise SimulationError("The amount must be a whole number of đồng greater than zero.")

    def notification():
        intent = _find_intent(reference_code)
        due = amount
        if due is None:
            due = intent.amount - intent.amount_received
            if due <= 0:
                raise SimulationError(
                    f"{intent.public_id} has nothing left to pay ({intent.status}); give an amount to simulate an "
                    "extra transfer."
                )
        return (*build_sepay_notification(intent, due), intent.public_id, due)

    # Each read is a unit of work of its own, ended before the delivery: the delivery commits in another session,
    # and a transaction left open here would keep seeing the database as it was before (SQLite WAL snapshots,
    # repeatable reads).
    payload, body, headers, public_id, amount = transactions.run(notification)
    target = _webhook_url(url) if url else None
    status, answer = _deliver_over_http(target, body, headers) if target else _deliver_in_process(body, headers)
    return transactions.run(lambda: _transfer_result(public_id, target, status, answer, payload, amount))


def _transfer_result(public_id: str, target: str | None, status: int, answer: dict, payload: dict,
                     amount: int) -> dict:
    with all_tenants():
        intent = db.session.scalar(
            select(PaymentIntent).where(PaymentIntent.public_id == public_id)
            .execution_options(populate_existing=True)
        )
    return {
        "simulation": True,
        "delivered_to": target or "in-process",
        "http_status": status,
        "response": answer,
        "accepted": 200 <= status < 300 and answer.get("success") is True,
        "transaction_id": payload["id"],
        "reference_code": intent.reference_code,
        "payment_intent": public_id,
        "amount": amount,
        "content": payload["content"],
        "intent_status": intent.status,
        "amount_received": intent.amount_received,
        "intent_amount": intent.amount,
        "flag": intent.flag,
    }


def simulate_refund_transfer(reference_code: str, url: str | None = None) -> dict:
    """Simulate the officer's transfer back for the refund with ``reference_code`` (HT…): a signed SePay notification
    of money *out* of the account that received the payment, with the refund's reference as the memo, for its
    amount. Delivered like ``simulate_transfer``; the refund completes as with a real bank's report."""
    from app.payments.models import Refund

    if current_app.config.get("PRODUCTION"):
        raise SimulationError("Simulations are refused in production.")
    code = (reference_code or "").strip().upper()
    content = f"SIMULATION {code} hoan tien"

    def notification():
        with all_tenants():
            refund = db.session.scalar(select(Refund).where(Refund.reference_code == code))
            if refund is None:
                raise SimulationError(f"No refund has the reference code {code!r}.")
            intent = db.session.get(PaymentIntent, refund.intent_id)
            payload, _body, _headers = build_sepay_notification(intent, refund.amount)
            payload.update(transferType="out", content=content, description=f"BankAPINotify {content}")
            body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            headers = {"Content-Type": "application/json", **_auth_headers(body, intent.account)}
            return payload, body, headers, refund.public_id

    payload, body, headers, public_id = transactions.run(notification)  # see simulate_transfer: reads ended first
    target = _webhook_url(url) if url else None
    status, answer = _deliver_over_http(target, body, headers) if target else _deliver_in_process(body, headers)
    return transactions.run(lambda: _refund_result(public_id, code, content, target, status, answer, payload))


def _refund_result(public_id: str, code: str, content: str, target: str | None, status: int, answer: dict,
                   payload: dict) -> dict:
    from app.payments.models import Refund

    with all_tenants():
        refund = db.session.scalar(select(Refund).where(Refund.public_id == public_id)
                                   .execution_options(populate_existing=True))
    return {"simulation": True, "delivered_to": target or "in-process", "http_status": status, "response": answer,
            "transaction_id": payload["id"], "refund": public_id, "reference_code": code,
            "amount": refund.amount, "content": content, "refund_status": refund.status}
