"""The citizen's side of a full-process online dossier (Decree 42/2022's "toàn trình"): proof of being the applicant
(the secret of the receipt's link, or the ID number), the daily quotas of anonymous submissions, files kept across a
validation error (pending uploads), supplements sent online, the electronic result, and the dossier code as people
type it. Rules: docs/decisions.md, "Online services (#23)"."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from flask import current_app, session
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select

from app import storage
from app.errors import DomainError, ValidationError
from app.extensions import db
from app.clock import utcnow
from app.text import normalize
from tenants.onestop import proof, services, statuses, worktime
from tenants.onestop.models import Dossier, DossierDocument

MAX_FILES = 5  # files of one submission or supplement, each up to services.MAX_DOCUMENT_BYTES
PENDING_PREFIX = "onestop-pending"
PENDING_HOURS = timedelta(hours=24)  # how long a kept file waits for its form to be sent again
PROVEN_KEY = "onestop_proven"  # the dossiers this browser proved it may open, remembered in the session
PROVEN_MAX = 10


class QuotaExceeded(DomainError):
    status = 429


# --- proof of being the applicant ------------------------------------------------------------------------------

def secret(dossier: Dossier) -> str:
    """The look-up secret the receipt's link and QR carry: the applicant's key (tenants/onestop/proof.py), the one
    secret that opens the dossier's personal part, its files and its rating."""
    return proof.applicant_key(dossier)


def id_matches(dossier: Dossier, given: str | None) -> bool:
    return proof.id_matches(dossier, given)


def prove(dossier: Dossier, *, key: str | None = None, id_number: str | None = None) -> bool:
    """True when the secret or the ID number proves the visitor is the applicant; remembered for this browser."""
    if proof.is_applicant(dossier, key=key, id_number=id_number):
        remembered = [c for c in session.get(PROVEN_KEY, []) if c != dossier.code]
        session[PROVEN_KEY] = (remembered + [dossier.code])[-PROVEN_MAX:]
        return True
    return False


def proven(dossier: Dossier, key: str | None = None) -> bool:
    return dossier.code in session.get(PROVEN_KEY, []) or prove(dossier, key=key)


# --- the dossier code as typed ---------------------------------------------------------------------------------

_CODE = re.compile(r"^(\d{5})(\d{6})(\d{4,})$")


def canonical_code(typed: str) -> str:
    """``00010-241015-0042`` from what people type: with or without dashes, spaces or dots, in any case."""
    compact = re.sub(r"[\s.\-_/]", "", normalize(typed or "")).upper()[:40]
    match = _CODE.match(compact)
    return "-".join(match.groups()) if match else compact[:32]


# --- daily quotas of anonymous submissions ---------------------------------------------------------------------

def address_digest(address: str | None) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"onestop-address:{address or ''}".encode(), hashlib.sha256).hexdigest()[:32]


def _used(since: datetime, digest: str | None) -> tuple[int, int]:
    """(submissions, bytes) of online dossiers of the active commune since ``since``, from one address or all."""
    condition = [Dossier.channel == "online", Dossier.submitted_at >= since]
    if digest is not None:
        condition.append(Dossier.submitted_from == digest)
    count = db.session.scalar(select(func.count(Dossier.id)).where(*condition)) or 0
    size = db.session.scalar(
        select(func.coalesce(func.sum(DossierDocument.size), 0))
        .join(Dossier, (Dossier.tenant_id == DossierDocument.tenant_id) & (Dossier.id == DossierDocument.dossier_id))
        .where(*condition)) or 0
    return int(count), int(size)


def check_quota(address: str | None, incoming_bytes: int, now: datetime | None = None) -> str:
    """Refuse a submission past the day's limits (per address, per commune: submissions and bytes); the address's
    digest to store with the dossier otherwise."""
    config = current_app.config
    now = now or utcnow()
    since = now - timedelta(days=1)
    digest = address_digest(address)
    for scope, limit_count, limit_bytes in (
        (digest, config["ONESTOP_ONLINE_PER_ADDRESS_DAY"], config["ONESTOP_ONLINE_BYTES_PER_ADDRESS_DAY"]),
        (None, config["ONESTOP_ONLINE_PER_COMMUNE_DAY"], config["ONESTOP_ONLINE_BYTES_PER_COMMUNE_DAY"]),
    ):
        count, size = _used(since, scope)
        if count + 1 > limit_count or size + incoming_bytes > limit_bytes:
            message = (_l("This connection has sent as many dossiers as a day allows (%(count)d dossiers, %(mb)d MB). "
                          "Try again tomorrow, or bring the dossier to the one-stop office.",
                          count=limit_count, mb=limit_bytes // (1024 * 1024)) if scope is not None else
                       _l("The office has received as many online dossiers as it can today. Try again tomorrow, "
                          "or bring the dossier to the one-stop office."))
            raise QuotaExceeded(message, field="files")
    return digest


# --- files kept across a validation error ----------------------------------------------------------------------

def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="onestop-pending-upload")


def keep_pending(tenant_id: int, filename: str, data: bytes) -> dict:
    """Store a checked file until the form is sent again: its token (signed, so that a form cannot name another
    file), name and size. Files of forms never sent again are removed a day later (``sweep_pending``)."""
    name, content_type, extension = services.check_document(filename, data)
    key = f"{PENDING_PREFIX}/{tenant_id}/{utcnow():%Y%m%d%H}-{secrets.token_hex(12)}.{extension}"
    storage.save(key, data)
    return {"token": _signer().dumps({"k": key, "n": name, "t": tenant_id}), "name": name, "size": len(data),
            "key": key, "data": data}


def read_pending(tenant_id: int, token: str) -> dict | None:
    try:
        value = _signer().loads(token or "")
    except BadSignature:
        return None
    if not isinstance(value, dict) or value.get("t") != tenant_id or not str(value.get("k", "")).startswith(
            f"{PENDING_PREFIX}/{tenant_id}/"):
        return None
    try:
        data = storage.load(value["k"])
    except FileNotFoundError:
        return None
    return {"token": token, "name": value["n"], "size": len(data), "data": data, "key": value["k"]}


_last_sweep: dict[int, datetime] = {}  # per commune, in this process: the walk of the keys is not free


def sweep_pending(tenant_id: int, now: datetime | None = None, limit: int = 100) -> int:
    """Remove the commune's pending files older than a day (their key starts with the hour they were kept); run by
    online submissions at most once an hour per commune and process, so the files of abandoned forms do not pile
    up. At most ``limit`` per call."""
    now = now or utcnow()
    last = _last_sweep.get(tenant_id)
    if last is not None and timedelta(0) <= now - last < timedelta(hours=1):
        return 0
    _last_sweep[tenant_id] = now
    cutoff = f"{now - PENDING_HOURS:%Y%m%d%H}"
    prefix = f"{PENDING_PREFIX}/{tenant_id}/"
    stale = [key for key in storage.keys(prefix) if key[len(prefix):len(prefix) + 10] < cutoff][:limit]
    drop_pending(stale)
    return len(stale)


def drop_pending(keys) -> None:
    for key in keys:
        try:
            storage.delete(key)
        except FileNotFoundError:
            pass


# --- supplements and the result -------------------------------------------------------------------------------

def add_supplement(dossier: Dossier, files: list[tuple[str, bytes]], now: datetime | None = None) -> list:
    """The citizen's additional documents, after a request (Mẫu 02): only while the dossier waits for them; logged
    on the control sheet as a supplement. The clock stays stopped until the officer resumes processing."""
    now = now or utcnow()
    if dossier.status != statuses.AWAITING_DOCUMENTS.value:
        raise ValidationError(_l("The office has not asked for documents, or no longer waits for them."),
                              field="files")
    if not files:
        raise ValidationError(_l("Choose at least one file."), field="files")
    if len(files) > MAX_FILES:
        raise ValidationError(_l("At most %(n)d files at once.", n=MAX_FILES), field="files")
    documents = [services.add_document(dossier, name, data, kind="supplement", now=now) for name, data in files]
    services.log_supplement(dossier, len(documents), now)
    return documents


def result_available(dossier: Dossier) -> bool:
    """The electronic result may be downloaded once recorded, unless the dossier ended otherwise."""
    return dossier.result_file_key is not None and dossier.status in statuses.COMPLETED


def expected_due(dossier: Dossier, now: datetime | None = None) -> datetime | None:
    """The appointment: the due time, or for a dossier still waiting for reception, the due time it would have if
    received now (the clock starts at reception)."""
    if dossier.due_at is not None:
        return dossier.due_at
    if dossier.status != statuses.REGISTERED.value:
        return None
    from tenants.onestop import queries

    procedure = dossier.procedure
    return worktime.due_time(queries.schedule(), now or utcnow(), time_unit=procedure.time_unit,
                             time_amount=procedure.time_amount, same_day=procedure.same_day)
