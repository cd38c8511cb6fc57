"""The vendor's sign-in invitation: a signed, expiring, one-time link to choose a password.

The token (itsdangerous) holds the user id and a digest of the current password hash: setting the password changes
the hash, so a link works once, with no table to keep. See docs/decisions.md ("Smart market", "Vendors").
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.auth import services as account_services
from app.auth.models import User
from app.errors import ValidationError
from app.extensions import db

SALT = "market-vendor-invitation"  # as when invitations were the market's: the links already sent stay valid
MAX_AGE_DAYS = 7


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _password_fingerprint(user: User) -> str:
    """Changes when the password does: a used invitation no longer matches."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def token_for(user: User) -> str:
    return _serializer().dumps({"u": user.id, "p": _password_fingerprint(user)})


def user_for(token: str) -> User:
    """The vendor user a valid, unused, unexpired invitation is for; otherwise ValidationError."""
    try:
        data = _serializer().loads(token or "", max_age=MAX_AGE_DAYS * 86400)
    except SignatureExpired:
        raise ValidationError(_l("This invitation has expired. Ask the commune for a new one.")) from None
    except BadSignature:
        raise ValidationError(_l("This invitation link is not valid.")) from None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) and isinstance(data.get("u"), int) else None
    if user is None or not user.active or not any(m.role == "vendor" for m in user.memberships):
        raise ValidationError(_l("This invitation link is not valid."))
    if data.get("p") != _password_fingerprint(user):
        raise ValidationError(_l("This invitation has already been used. Sign in with your password."))
    return user


def accept(token: str, password: str, confirm: str) -> User:
    """The vendor chooses their password (a vendor's way back in after losing a phone): every earlier session and
    "remember me" cookie is signed out; flushed, the view commits (and signs them in through sessions.start)."""
    user = user_for(token)
    account_services.set_password(user, password, confirm)
    db.session.flush()
    return user


@dataclass(frozen=True)
class Handover:
    """Ways to hand an invitation link over (#19): a QR to scan face to face, an SMS and a Zalo chat to the
    vendor's phone, the text to copy or share."""

    link: str
    qr: str  # a data: URI of the link's QR (SVG), drawn in the page: the link is never served from a URL of its own
    sms: str | None
    zalo: str | None
    text: str


def handover(link: str, phone: str | None, business_name: str) -> Handover:
    import base64
    import re
    from urllib.parse import quote

    import segno

    from flask_babel import gettext as _

    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="svg", scale=6, border=4, xmldecl=False)
    qr = "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    text = _("%(name)s: set your password for the commune's market and shop here: %(link)s", name=business_name,
             link=link)
    digits = re.sub(r"\D", "", phone or "")
    sms = f"sms:{digits}?&body={quote(text)}" if len(digits) >= 9 else None
    zalo = f"https://zalo.me/{digits}" if len(digits) >= 9 else None
    return Handover(link, qr, sms, zalo, text)
