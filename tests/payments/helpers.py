"""Helpers shared by the payment test modules: payment accounts and intents, signed bank notifications (SePay,
Casso, payOS), database reads, and a local HTTP receiver for outgoing webhooks.

The fixtures built on them (bank_secrets, commune, account, intent) are in tests/payments/conftest.py.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import func, select

from app.extensions import db
from app.payments.accounts import create_account
from app.payments import intents
from app.clock import as_utc
from app.payments.models import BankTransfer, Event, PaymentAccount, PaymentIntent
from app.payments.bank.casso import sign_casso
from app.payments.bank.payos import sign_payos
from app.payments.bank.sepay import sign_sepay
from tenants.scoping import all_tenants, tenant_context

SEPAY_KEY = "test-sepay-key"
SEPAY_SECRET = "test-sepay-secret"
CASSO_KEY = "test-casso-key"
PAYOS_KEY = "test-payos-key"
ACCOUNT_A = "0011001234567"
ACCOUNT_B = "0021009876543"
PAYER_PAGE_ACCOUNT = "113366668888"


# --- accounts, intents, database reads -------------------------------------------------------------------------

def create_intent(account, amount, **kwargs) -> PaymentIntent:
    """``intents.create_intent``, committed: the service only flushes, and here the test is the boundary."""
    intent = intents.create_intent(account, amount, **kwargs)
    db.session.commit()
    return intent


def make_account(app, tenant, number: str = ACCOUNT_A, bank_bin: str = "970436", **secrets) -> PaymentAccount:
    """A commune's payment account (detached); ``secrets`` sets the per-account overrides."""
    with app.app_context(), tenant_context(tenant):
        account = create_account("Tài khoản thu phí", bank_bin, number, "UBND XA")
        for name, value in secrets.items():
            if name == "sepay_api_key" and value:  # stored as its digest, as set_notification_secret does
                from app.payments.accounts import sepay_key_digest

                value = sepay_key_digest(value)
            setattr(account, name, value)
        db.session.commit()
        db.session.refresh(account)
        db.session.expunge(account)
        return account


def make_intent(app, account: PaymentAccount, amount: int = 150_000, *, expired: bool = False,
                description: str | None = "Lệ phí chứng thực") -> PaymentIntent:
    """A requires_action intent of ``account`` (detached); ``expired`` puts expires_at in the past."""
    with app.app_context(), tenant_context(account.tenant_id):
        intent = create_intent(account, amount, description=description, purpose="fee")
        if expired:
            intent.expires_at = datetime.now(timezone.utc) - timedelta(minutes=5)
            db.session.commit()
        db.session.refresh(intent)
        db.session.expunge(intent)
        return intent


def payer_page_intent(app, make) -> dict:
    """A 150.000 ₫ intent of a new commune's account, as the payer's pages show it (ids, QR payload, expiry)."""
    tenant = make.tenant("bat-trang", "Bát Tràng")
    with app.app_context(), tenant_context(tenant):
        account = create_account("Phí chứng thực", "970415", PAYER_PAGE_ACCOUNT, "UBND XA BAT TRANG")
        created = create_intent(account, 150_000, description="Lệ phí chứng thực")
        return {"public_id": created.public_id, "reference": created.reference_code, "payload": created.qr_payload,
                "tenant": tenant, "expires_at": int(as_utc(created.expires_at).timestamp())}


def intent_state(app, public_id: str) -> dict:
    with app.app_context(), all_tenants():
        intent = db.session.scalar(select(PaymentIntent).where(PaymentIntent.public_id == public_id))
        return {"status": intent.status, "amount_received": intent.amount_received, "flag": intent.flag,
                "cancellation_reason": intent.cancellation_reason}


def event_types(app, public_id: str) -> list[str]:
    with app.app_context(), all_tenants():
        return list(db.session.scalars(
            select(Event.type).join(PaymentIntent, PaymentIntent.id == Event.intent_id)
            .where(PaymentIntent.public_id == public_id).order_by(Event.id)
        ))


def transfers(app) -> list[dict]:
    """Every stored bank transfer (read across tenants, as the district does: RLS hides them otherwise)."""
    with app.app_context(), all_tenants():
        return [
            {"id": t.id, "provider": t.provider, "provider_txn_id": t.provider_txn_id, "amount": t.amount,
             "status": t.status, "tenant_id": t.tenant_id, "intent_id": t.intent_id, "note": t.note,
             "content": t.content, "account_number": t.account_number}
            for t in db.session.scalars(select(BankTransfer).order_by(BankTransfer.id))
        ]


def claims(app) -> list[dict]:
    """Every confirmation by hand (payment_claims), read across tenants."""
    from app.payments.models import PaymentClaim

    with app.app_context(), all_tenants():
        return [
            {"id": c.id, "intent_id": c.intent_id, "amount": c.amount, "status": c.status,
             "claimed_by": c.claimed_by, "note": c.note, "settled_transfer_id": c.settled_transfer_id}
            for c in db.session.scalars(select(PaymentClaim).order_by(PaymentClaim.id))
        ]


def transfer(app, transfer_id: int) -> dict:
    return next(t for t in transfers(app) if t["id"] == transfer_id)


def transfer_count(app) -> int:
    with app.app_context(), all_tenants():
        return db.session.scalar(select(func.count()).select_from(BankTransfer))


# --- signed bank notifications ---------------------------------------------------------------------------------

def mangle(code: str, style: str = "split") -> str:
    """Transfer text the way banks pass memos along: prefixes, glued or split codes, extra words."""
    if style == "split":
        return f"MBVCB.3312345678.{code[:5]} {code[5:]}.CT tu 0451000123456 NGUYEN VAN A toi 0011001234567"
    if style == "glued":
        return f"NGUYEN VAN A chuyen tien THANHTOAN{code}FT24123 Trace 884421"
    return f"CSHFGTY7N2 {code.lower()} thanh toan le phi"


def bank_reference() -> str:
    """A bank's own reference of a transfer (FT...): one per transfer, the same whichever source reports it."""
    return "FT" + uuid.uuid4().hex[:12].upper()


def sepay_payload(account_number: str | None, content: str, amount: int, *, txn_id=None,
                  transfer_type: str = "in", reference: str | None = None, gateway: str = "Vietcombank") -> dict:
    """A SePay notification; ``gateway`` names the receiving account's bank (matching checks it)."""
    return {
        "id": txn_id if txn_id is not None else int(uuid.uuid4().int % 10**9),
        "gateway": gateway,
        "transactionDate": datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
        "accountNumber": account_number,
        "code": None,
        "content": content,
        "transferType": transfer_type,
        "transferAmount": amount,
        "accumulated": 19_077_000,
        "subAccount": None,
        "referenceCode": reference or bank_reference(),
        "description": "BankAPINotify " + content,
    }


def sepay_request(payload, *, auth: str = "apikey", key: str = SEPAY_KEY, timestamp: int | None = None):
    """(body, headers) of a SePay delivery; ``auth``: apikey, hmac or none."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    if auth == "apikey":
        headers["Authorization"] = f"Apikey {key}"
    elif auth == "hmac":
        headers.update(sign_sepay(body, key, int(time.time()) if timestamp is None else timestamp))
    return body, headers


def post_sepay(client, payload, **auth):
    body, headers = sepay_request(payload, **auth)
    return client.post("/webhooks/sepay", data=body, headers=headers)


def casso_body(account_number: str | None, content: str, amount: int, *, txn_id=None,
               reference: str | None = None) -> dict:
    return {"error": 0, "data": {
        "id": txn_id if txn_id is not None else int(uuid.uuid4().int % 10**7),
        "reference": reference or bank_reference(),
        "description": content,
        "amount": amount,
        "runningBalance": 25_000_000,
        "transactionDateTime": datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
        "accountNumber": account_number,
        "bankName": "Vietcombank",
        "bankAbbreviation": "VCB",
        "virtualAccountNumber": "",
        "virtualAccountName": "",
        "counterAccountName": "NGUYEN VAN A",
        "counterAccountNumber": "0451000123456",
        "counterAccountBankId": "970436",
        "counterAccountBankName": "Vietcombank",
    }}


def post_casso(client, body_obj, *, key: str = CASSO_KEY, t_ms: int | None = None, raw: bytes | None = None,
               header: str | None = None):
    t_ms = int(time.time() * 1000) if t_ms is None else t_ms
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["X-Casso-Signature"] = header
    elif key:
        headers["X-Casso-Signature"] = sign_casso(body_obj, key, t_ms)
    data = raw if raw is not None else json.dumps(body_obj, ensure_ascii=False).encode()
    return client.post("/webhooks/casso", data=data, headers=headers)


def payos_body(account_number: str | None, content: str, amount: int, *, reference=None, key: str | None = PAYOS_KEY,
               order_code: int = 0, code: str = "00") -> dict:
    data = {
        "orderCode": order_code or int(uuid.uuid4().int % 10**6),
        "amount": amount,
        "description": content,
        "accountNumber": account_number,
        "reference": reference or bank_reference(),
        "transactionDateTime": datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
        "currency": "VND",
        "paymentLinkId": uuid.uuid4().hex,
        "code": "00",
        "desc": "success",
        "counterAccountBankId": "",
        "counterAccountBankName": "",
        "counterAccountName": None,
        "counterAccountNumber": None,
        "virtualAccountName": "",
        "virtualAccountNumber": "",
    }
    body = {"code": code, "desc": "success", "success": code == "00", "data": data}
    if key:
        body["signature"] = sign_payos(data, key)
    return body


def post_payos(client, body_obj, raw: bytes | None = None):
    data = raw if raw is not None else json.dumps(body_obj, ensure_ascii=False).encode()
    return client.post("/webhooks/payos", data=data, headers={"Content-Type": "application/json"})


# --- outgoing webhooks: a local receiver -----------------------------------------------------------------------

class Receiver:
    """A local HTTP endpoint on 127.0.0.1 that records every POST and answers ``status`` (or ``respond()``)."""

    def __init__(self):
        self.received: list[dict] = []
        self.status = 200
        self.delay = 0.0
        self.headers_out: dict[str, str] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if receiver.delay:
                    time.sleep(receiver.delay)
                answer = b'{"received": true}' if receiver.status < 300 else b"receiver is down"
                self.send_response(receiver.status)
                for name, value in receiver.headers_out.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def events(self) -> list[dict]:
        return [json.loads(item["body"]) for item in self.received]


# A real PostgreSQL error with the deadlock's SQLSTATE (40P01), raised by the server inside the transaction: the
# transaction is aborted as a deadlock's would be, and the driver reports it as it reports a deadlock.
_DEADLOCK = "DO $$ BEGIN RAISE EXCEPTION 'deadlock detected (injected by the test)' USING ERRCODE = '40P01'; END $$"


@contextmanager
def deadlock_once(event_type: str):
    """The first time a payment intent emits ``event_type`` (in the middle of a unit of work, after its writes were
    flushed), PostgreSQL aborts the transaction with a deadlock. Yields the list of emissions seen."""
    from sqlalchemy import text

    from app.payments.reactions import payment_event

    seen: list[str] = []

    def handler(_purpose, *, intent, event_type: str):
        if event_type != wanted:
            return
        seen.append(intent.public_id)
        if len(seen) == 1:
            db.session.execute(text(_DEADLOCK))

    wanted = event_type
    payment_event.connect(handler, weak=False)
    try:
        yield seen
    finally:
        payment_event.disconnect(handler)
