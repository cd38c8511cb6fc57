"""A commune's provider secrets (its SMS brand name account, its Zalo Official Account), encrypted with Fernet
(AES-128-CBC + HMAC-SHA256, from ``cryptography``) under ``NOTIFY_SECRET_KEY`` from the environment. They are
written once (``flask notify set-secret``: a hidden prompt) and never shown again: only the worker decrypts them,
to send. Without ``NOTIFY_SECRET_KEY`` (development, tests) the key is derived from ``SECRET_KEY``; production
refuses to store a secret without it."""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from sqlalchemy import select

from app.clock import utcnow
from app.errors import ValidationError
from app.extensions import db
from app.notify.models import PROVIDERS, NotifySecret

# What each provider needs (eSMS.vn's brand-name API; Zalo ZNS through an Official Account).
FIELDS = {
    "sms": ("api_key", "secret_key", "brandname"),
    "zalo": ("app_id", "app_secret", "access_token", "refresh_token"),
}


def _fernet() -> Fernet:
    key = current_app.config.get("NOTIFY_SECRET_KEY")
    if not key:
        if current_app.config.get("PRODUCTION"):
            raise RuntimeError("NOTIFY_SECRET_KEY is required in production to store provider secrets")
        digest = hashlib.sha256(b"notify-secrets:" + str(current_app.config["SECRET_KEY"]).encode()).digest()
        key = base64.urlsafe_b64encode(digest)
    return Fernet(key)


def store(provider: str, values: dict[str, str]) -> NotifySecret:
    """Encrypt and keep the commune's ``provider`` credentials (replacing any before). Flushes only."""
    if provider not in PROVIDERS:
        raise ValidationError("Unknown provider.", field="provider")
    missing = [name for name in FIELDS[provider] if name != "refresh_token" and not (values.get(name) or "").strip()]
    if missing:
        raise ValidationError(f"Missing: {', '.join(missing)}", field="provider")
    clean = {name: (values.get(name) or "").strip() for name in FIELDS[provider]}
    token = _fernet().encrypt(json.dumps(clean).encode()).decode()
    row = db.session.scalar(select(NotifySecret).where(NotifySecret.provider == provider))
    if row is None:
        row = NotifySecret(provider=provider, ciphertext=token)
        db.session.add(row)
    else:
        row.ciphertext, row.set_at = token, utcnow()
    db.session.flush()
    return row


def load(provider: str) -> dict[str, str] | None:
    """The current commune's decrypted credentials, or None (then the platform's from the environment apply)."""
    row = db.session.scalar(select(NotifySecret).where(NotifySecret.provider == provider))
    if row is None:
        return None
    try:
        return json.loads(_fernet().decrypt(row.ciphertext.encode()))
    except InvalidToken:
        current_app.logger.error("notify secret %s of commune %s cannot be decrypted (key changed?)", provider,
                                 row.tenant_id)
        return None


def is_set(provider: str) -> bool:
    return db.session.scalar(select(NotifySecret.id).where(NotifySecret.provider == provider)) is not None
