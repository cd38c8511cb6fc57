"""Who may rate a dossier: its applicant, and only them (issue 16, item 2). Dossier codes are sequential, so a code
proves nothing. The proof is either

- the applicant's key: a secret the receipt slip's QR carries (``?k=`` on the dossier's public address), an HMAC of
  the commune, the dossier and its code under the app's ``SECRET_KEY`` (nothing stored, nothing to leak from the
  database), or
- the applicant's ID number, typed.

An officer's counter QR holds a signed token of the officer instead of their id: a URL can no longer name any
officer, and the credit still goes to the officer only if they worked on the dossier (services.rate)."""

from __future__ import annotations

import base64
import hashlib
import hmac

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

KEY_BYTES = 16  # 128 bits, 22 characters in the URL


def _secret() -> bytes:
    return str(current_app.config["SECRET_KEY"]).encode()


def applicant_key(dossier) -> str:
    message = f"onestop-applicant:{dossier.tenant_id}:{dossier.id}:{dossier.code}".encode()
    digest = hmac.new(_secret(), message, hashlib.sha256).digest()[:KEY_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def key_matches(dossier, given: str | None) -> bool:
    given = (given or "").strip()
    return bool(given) and len(given) < 64 and hmac.compare_digest(given.encode(), applicant_key(dossier).encode())


def id_matches(dossier, given: str | None) -> bool:
    given = (given or "").replace(" ", "").strip()
    return bool(given) and hmac.compare_digest(given.encode(), dossier.applicant_id_number.encode())


def is_applicant(dossier, key: str | None = None, id_number: str | None = None) -> bool:
    return key_matches(dossier, key) or id_matches(dossier, id_number)


def _counter_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="onestop-counter-qr")


def counter_token(tenant_id: int, officer_id: int) -> str:
    """What an officer's counter QR carries: the commune and the officer, signed."""
    return _counter_serializer().dumps([tenant_id, officer_id])


def counter_officer(token: str, tenant_id: int) -> int | None:
    """The officer a counter token names, if it is genuine and of this commune; else None."""
    try:
        value = _counter_serializer().loads(token)
    except BadSignature:
        return None
    if (not isinstance(value, list) or len(value) != 2 or value[0] != tenant_id
            or not isinstance(value[1], int)):
        return None
    return value[1]
