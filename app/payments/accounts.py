"""Payment accounts (who is paid, into which bank account) and their API secret keys."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timezone

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.errors import NotFound, ValidationError
from app.extensions import db
from app.clock import as_utc
from app.payments import vietqr
from app.payments.banks import get_bank
from app.payments.models import ApiKey, PaymentAccount
from app.text import normalize
from tenants.models import Tenant
from tenants.scoping import all_tenants


def create_account(label: str, bank_bin: str, account_number: str, holder_name: str, *,
                   owner_kind: str = "commune") -> PaymentAccount:
    """A payee account of the active tenant: the commune's own, or (``owner_kind="vendor"``) someone else's whose
    money it receives, such as a vendor's (tenants/vendors links it to its vendor). The bank details are checked the
    way the QR encoder needs them. Flushed; the caller commits (a vendor and its account are saved together)."""
    label, holder_name = normalize(label), normalize(holder_name)
    account_number = normalize(account_number).replace(" ", "")
    if not label:
        raise ValidationError(_l("Enter a name for this account."), field="label")
    if not holder_name:
        raise ValidationError(_l("Enter the account holder's name."), field="holder_name")
    if get_bank(bank_bin) is None:
        raise ValidationError(_l("Unknown bank."), field="bank_bin")
    try:
        vietqr.encode(bank_bin, account_number)
    except vietqr.VietQRError as err:
        raise ValidationError(_l("The account number is not valid: %(reason)s", reason=err.reason),
                              field="account_number") from None
    if owner_kind not in ("commune", "vendor"):
        raise ValidationError(_l("Unknown owner kind."), field="owner_kind")
    with all_tenants():  # one bank and number is one account in the whole district, whichever commune has it
        taken = db.session.scalar(select(PaymentAccount.id).where(PaymentAccount.bank_bin == bank_bin,
                                                                  PaymentAccount.account_number == account_number))
    if taken is not None:
        raise ValidationError(_l("This bank account is already registered."), field="account_number")
    account = PaymentAccount(label=label, bank_bin=bank_bin, account_number=account_number,
                             holder_name=holder_name, owner_kind=owner_kind, active=True)
    db.session.add(account)
    db.session.flush()
    return account


def list_accounts() -> list[PaymentAccount]:
    return list(db.session.scalars(select(PaymentAccount).order_by(PaymentAccount.id)))


def get_account(account_id: int) -> PaymentAccount:
    account = db.session.scalar(select(PaymentAccount).where(PaymentAccount.id == account_id))
    if account is None:
        raise NotFound(_l("No such payment account."))
    return account


def find_account(account_id: int | None = None) -> PaymentAccount | None:
    """The active tenant's (first active) commune account, or its active account ``account_id``."""
    query = select(PaymentAccount).where(PaymentAccount.active.is_(True)).order_by(PaymentAccount.id)
    if account_id is None:
        query = query.where(PaymentAccount.owner_kind == "commune")
    else:
        query = query.where(PaymentAccount.id == account_id)
    return db.session.scalars(query).first()


NOTIFICATION_SECRET_FIELDS = {
    "sepay-api-key": "sepay_api_key",
    "sepay-webhook-secret": "sepay_webhook_secret",
    "casso": "casso_checksum_key",
    "payos": "payos_checksum_key",
}


def set_notification_secret(account: PaymentAccount, provider: str, value: str | None) -> None:
    """A merchant who links their own SePay/Casso/payOS account brings its secret; None goes back to the platform's.

    A SePay API key is only compared with what SePay sends, so only its digest is stored (``sepay_key_digest``).
    The HMAC secrets (SePay's webhook secret, Casso's and payOS's checksum keys) must sign and are kept as given."""
    field = NOTIFICATION_SECRET_FIELDS.get(provider)
    if field is None:
        raise ValidationError(_l("Unknown notification provider."), field="provider")
    value = (value or "").strip() or None
    if value is not None and not (8 <= len(value) <= 255):
        raise ValidationError(_l("A notification secret has 8 to 255 characters."), field="value")
    if field == "sepay_api_key" and value is not None:
        value = sepay_key_digest(value)
    setattr(account, field, value)
    db.session.flush()


SEPAY_KEY_DIGEST_PREFIX = "sha256:"


def sepay_key_digest(key: str) -> str:
    """What is stored of a per-account SePay API key: ``sha256:<hex>`` (the receiver compares digests)."""
    return SEPAY_KEY_DIGEST_PREFIX + hashlib.sha256(key.encode("utf-8")).hexdigest()


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_api_key(account: PaymentAccount) -> tuple[ApiKey, str]:
    """A new secret key; the caller commits, then shows it once. Only its hash is stored."""
    mode = "live" if current_app.config.get("PRODUCTION") else "test"
    secret = f"sk_{mode}_{secrets.token_urlsafe(32).replace('-', 'x').replace('_', 'y')}"
    key = ApiKey(tenant_id=account.tenant_id, account_id=account.id, key_hash=hash_key(secret),
                 display_prefix=secret[:12])
    db.session.add(key)
    db.session.flush()
    return key, secret


def list_api_keys() -> list[ApiKey]:
    """The active tenant's API keys, newest first, with their account (revoked ones included: the record stays)."""
    return list(db.session.scalars(select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.id.desc())))


def revoke_api_key(key_id: int) -> ApiKey:
    """Revoke one of the active tenant's keys: it stops authenticating at once. Revoking twice changes nothing."""
    key = db.session.scalar(select(ApiKey).where(ApiKey.id == key_id))
    if key is None:
        raise NotFound(_l("No such API key."))
    if key.revoked_at is None:
        key.revoked_at = datetime.now(timezone.utc)
    db.session.flush()
    return key


def authenticate_api_key(secret: str | None) -> ApiKey | None:
    """The live key with this secret, found across tenants (the key tells which tenant the request acts for)."""
    if not secret or not secret.startswith("sk_") or len(secret) > 200:
        return None
    with all_tenants():
        # The key, its account (joined) and its commune's status in one query (issue #17).
        found = db.session.execute(select(ApiKey, Tenant.status).join(Tenant, Tenant.id == ApiKey.tenant_id)
                                   .where(ApiKey.key_hash == hash_key(secret))).first()
        if found is None:
            return None
        key, tenant_status = found
        if key.revoked_at is not None or not key.account.active:
            return None
        if tenant_status != "active":  # an inactive commune's keys stop working
            return None
        now = datetime.now(timezone.utc)
        last = key.last_used_at
        if last is None or (now - as_utc(last)).total_seconds() > 60:
            key.last_used_at = now  # written at most once a minute: no write on every request
            db.session.flush()  # committed with the request's unit of work
        return key
