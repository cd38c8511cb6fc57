"""Public payment pages: the hosted instructions page, QR images, and the status the page polls.

A payer has no account: the unguessable ``public_id`` in the URL is the capability (like Stripe's hosted URLs), so
intents are looked up across communes with ``all_tenants()``. Expiry is applied on read.

The image path is kept cheap on purpose: one indexed query (unique ``public_id``) selecting only the payload (plus
the reference code for the PDF's file name) on a bare pooled connection, then the in-process image cache
(``qr.qr_image``). It creates no ORM session, never touches the Flask session or ``current_user``, and skips
rate limiting like every read outside the API (app/extensions.py). bench/bench_qr_endpoint.py measures it against a bare Flask endpoint.

Caching. The image is a pure function of the payload, but ``/pay/<id>/qr.png`` names an intent, and an intent's
payload changes when its amount is updated. So the URL is made content-addressed with ``?v=<version>`` (the
ETag of that payload and kind; the hosted page always links it): a request whose ``v`` is the current version is
served ``public, max-age=31536000, immutable``. Without ``v`` (or with an outdated one) the same bytes are served
``public, no-cache`` with the ETag, so a browser revalidates and gets a 304 (one query, no rendering) instead of
showing a QR for an old amount for a year.
"""

from __future__ import annotations

import math
import re
import threading
import time

from cachetools import LRUCache
from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from sqlalchemy import bindparam, select
from werkzeug.datastructures import HeaderSet
from werkzeug.http import parse_set_header

from app.cache import cached_for_visitors, keep_until
from app.errors import NotFound
from app.extensions import db
from app.payments import qr
from app.payments.descriptions import describe
from app.payments.banks import get_bank
from app.clock import as_utc, utcnow
from app.formatting import format_datetime
from app.payments.intents import expire_if_due, get_intent, lock_intent
from app.payments.models import BankTransfer, PaymentIntent
from app.payments.statuses import TERMINAL_STATUSES
from tenants.models import Tenant
from tenants.scoping import RLS_ALL_TENANTS_SETTING, all_tenants

bp = Blueprint("payments", __name__, template_folder="templates")
bp.add_app_template_global(describe, "describe_payment")  # what an intent is for, in the reader's language

IMAGE_CACHE_CONTROL = "public, max-age=31536000, immutable"
IMAGE_REVALIDATE = "public, no-cache"
# Stripe-style ids are "pi_" + 24 letters and digits; anything else cannot exist, so it costs no query.
_PUBLIC_ID = re.compile(r"[A-Za-z0-9_]{1,40}")


class ImageResponse(Response):
    """A response of the image route that never says ``Vary: Cookie``.

    Flask-Login's app-wide after_request looks into the session on every response, and Flask (3.1.3+) then adds
    ``Vary: Cookie``, which makes shared caches (CDNs, proxies) refuse or fragment the entry. What this route
    answers depends on the URL alone, so the cookie is dropped from Vary for its responses only.
    """

    @property
    def vary(self) -> HeaderSet:
        def on_update(header_set: HeaderSet) -> None:
            kept = [value for value in header_set if value.lower() != "cookie"]
            if kept:
                self.headers["Vary"] = ", ".join(kept)
            else:
                self.headers.pop("Vary", None)

        return HeaderSet(list(parse_set_header(self.headers.get("Vary"))), on_update)


def _valid_id(public_id: str) -> bool:
    return _PUBLIC_ID.fullmatch(public_id) is not None


def _plain_404() -> Response:
    return ImageResponse("Not found\n", status=404, mimetype="text/plain")


def _unix(value) -> int:
    """A deadline in whole seconds, rounded up: the page must never call a payment expired before the server does
    (the clock it compares against, `now`, is rounded down for the same reason)."""
    return math.ceil(as_utc(value).timestamp())


# ------------------------------------------------------------------------------------------------- QR images

# Built once: constructing the expression per request costs more than running the (compiled, cached) query.
# Only a QR that can still be paid is served (issue 16): not one of a canceled or expired intent, nor of a commune
# that no longer works (merged or inactive). Its deadline is kept with a confirmed version (_VersionCache).
_PAYABLE = (PaymentIntent.public_id == bindparam("public_id"), PaymentIntent.status != "canceled",
            PaymentIntent.expires_at > bindparam("now"),
            select(Tenant.id).where(Tenant.id == PaymentIntent.tenant_id, Tenant.status == "active").exists())
_PAYLOAD = select(PaymentIntent.qr_payload, PaymentIntent.expires_at).where(*_PAYABLE)
_PAYLOAD_AND_REFERENCE = select(PaymentIntent.qr_payload, PaymentIntent.expires_at,
                                PaymentIntent.reference_code).where(*_PAYABLE)


def _read_across_tenants(statement, public_id: str):
    """The one cross-tenant read of the image path: a row by the intent's public id (the capability).

    It runs on a bare pooled connection, not the ORM session: no session to create, flush or tear down, which
    is most of what an image costs once the picture is cached. Tenancy stays explicit: on PostgreSQL the
    transaction declares the all-tenants read that ``tenants.scoping.all_tenants()`` declares for sessions, so
    row-level security still applies; the transaction ends (rolled back, nothing written) when the block does.
    """
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SELECT set_config(%(name)s, 'on', true)", {"name": RLS_ALL_TENANTS_SETTING})
        return connection.execute(statement, {"public_id": public_id, "now": utcnow()}).first()


class _VersionCache:
    """(public id, kind, v) -> (row, ETag, the communes' generation), remembered only after the database confirmed
    that ``v`` is current.

    A versioned URL names content, not state (its response is cached for a year anyway), so once confirmed it can be
    answered again with no query at all. Bounded; least recently used first out.
    """

    def __init__(self, size: int = 4096):
        self.size = size
        self._rows: LRUCache = LRUCache(maxsize=size)
        self._lock = threading.Lock()  # cachetools' caches are not thread-safe

    def get(self, key):
        with self._lock:
            return self._rows.get(key)

    def put(self, key, row) -> None:
        with self._lock:
            self._rows[key] = row

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()


_confirmed_versions = _VersionCache()


def _communes_generation():
    """The communes table's generation in the response cache's stamp (app/cache.py), or None when it cannot be read:
    a confirmed version is kept with it, so a commune closed (merged, inactive) stops its QR images at once, on the
    response cache's hits and here alike."""
    cache = current_app.extensions.get("response_cache")
    if cache is None:
        return None
    try:
        return cache.stamp.current(("tenants",))
    except Exception:  # its Redis is down (logged by app/redis_health.py): the database is asked every time
        return None


@bp.get("/pay/<public_id>/qr.<kind>")
@cached_for_visitors(bounded=True)  # the png of a confirmed version only, until the intent's deadline (below)
def qr_image(public_id: str, kind: str):
    """The QR image (png, svg or pdf) of an intent's payload, served from the image cache by payload.

    A versioned PNG (what the hosted page shows) is the same for every visitor: the response cache (app/cache.py) may
    answer it before Flask, as this route's version cache would (no query), until the intent's deadline and until a
    commit changes the communes table (a commune closed). SVG and PDF are downloads, the PDF tens of KB: rendered
    here each time, from the image cache."""
    if kind not in qr.MIMETYPES or not _valid_id(public_id):
        return _plain_404()
    asked_version = request.args.get("v")
    cache_key = (public_id, kind, asked_version)
    communes = _communes_generation() if asked_version else None
    confirmed = _confirmed_versions.get(cache_key) if communes is not None else None
    if confirmed is not None and as_utc(confirmed[0][1]) > utcnow() and confirmed[2] == communes:
        row, etag = confirmed[:2]  # a version seen before, still payable: neither the database nor the hash again
    else:
        row = _read_across_tenants(_PAYLOAD_AND_REFERENCE if kind == "pdf" else _PAYLOAD, public_id)
        if row is None:
            return _plain_404()
        etag = qr.etag_for(row[0], kind)  # cheap: answers a revalidation without rendering on a cold cache
        if asked_version == etag.strip('"') and communes is not None:
            _confirmed_versions.put(cache_key, (tuple(row), etag, communes))
    payload = row[0]
    version = etag.strip('"')
    if kind == "png" and asked_version == version:
        keep_until(row[1])  # the same answer for everyone until the intent can no longer be paid
    if request.if_none_match.contains_weak(version):
        response = ImageResponse(status=304)  # werkzeug sends no entity headers with a 304
    else:
        body, etag, mimetype = qr.qr_image(payload, kind)
        response = ImageResponse(body, mimetype=mimetype)
        if kind == "pdf":
            response.headers["Content-Disposition"] = f'inline; filename="VietQR-{row[2]}.pdf"'
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = IMAGE_CACHE_CONTROL if request.args.get("v") == version else IMAGE_REVALIDATE
    return response


def image_url(intent: PaymentIntent, kind: str, **values) -> str:
    return url_for("payments.qr_image", public_id=intent.public_id, kind=kind,
                   v=qr.image_version(intent.qr_payload, kind), **values)


# ------------------------------------------------------------------------------------------ the polled status


_STATUS = select(PaymentIntent.status, PaymentIntent.amount, PaymentIntent.amount_received, PaymentIntent.expires_at,
                 PaymentIntent.flag, PaymentIntent.cancellation_reason, Tenant.status).outerjoin(
    Tenant, Tenant.id == PaymentIntent.tenant_id).where(PaymentIntent.public_id == bindparam("public_id"))


@bp.get("/pay/<public_id>/status")
def status(public_id: str):
    """What the hosted page polls every ~2 s: one small indexed query (and, at the deadline, the expiry)."""
    if not _valid_id(public_id):
        return _json_404()
    with all_tenants():
        row = db.session.execute(_STATUS, {"public_id": public_id}).first()
        if row is None:
            return _json_404()
        status_, amount, amount_received, expires_at, flag, reason, commune_status = row
        if status_ not in TERMINAL_STATUSES and as_utc(expires_at) <= utcnow():
            intent = expire_if_due(lock_intent(public_id=public_id))  # locked once more only if still due
            status_, amount_received, flag = intent.status, intent.amount_received, intent.flag
            reason = intent.cancellation_reason
        paid = None
        if status_ == "succeeded":  # the receipt's time and the bank's reference: read once, when paid
            intent_id, succeeded_at = db.session.execute(
                select(PaymentIntent.id, PaymentIntent.succeeded_at).where(PaymentIntent.public_id == public_id)).one()
            paid = receipt(intent_id, succeeded_at)
    body = dict(
        status=status_, amount=amount, amount_received=amount_received, expires_at=_unix(expires_at), flag=flag,
        cancellation_reason=reason,
        # a merged or inactive commune accepts no payment: the page shows "closed", as the server drew it
        closed=commune_status not in (None, "active") and status_ != "succeeded",
        now=int(time.time()),  # lets the page correct a phone clock that is off
    )
    if paid is not None:
        body["receipt"] = paid
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


def _json_404():
    response = jsonify(error={"type": "invalid_request_error", "code": "resource_missing",
                              "message": "No such payment."})
    response.status_code = 404
    response.headers["Cache-Control"] = "no-store"
    return response


# ------------------------------------------------------------------------------------------ the hosted page


@bp.get("/pay/<public_id>")
def hosted(public_id: str):
    """The payer's page: QR, bank details with copy buttons, countdown, and a status that updates by itself."""
    if not _valid_id(public_id):
        return _missing()
    with all_tenants():
        try:
            intent = get_intent(public_id)
        except NotFound:
            return _missing()
        intent = expire_if_due(intent)
        account = intent.account
        commune = db.session.get(Tenant, intent.tenant_id)
        paid = receipt(intent.id, intent.succeeded_at) if intent.status == "succeeded" else None
    closed = commune is not None and commune.status != "active" and intent.status != "succeeded"
    response = Response(render_template(
        "payments/hosted.html",
        intent=intent,
        account=account,
        closed=closed,  # a merged or inactive commune accepts no payment: the page says so, no QR
        commune=commune,
        receipt=paid,
        bank=get_bank(account.bank_bin),
        expires_at=_unix(intent.expires_at),
        expires_iso=as_utc(intent.expires_at).isoformat(timespec="seconds"),
        server_now=int(time.time()),
        state="closed" if closed else page_state(intent),
        png_url=image_url(intent, "png"),
        pdf_url=image_url(intent, "pdf"),
    ))
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"  # the URL is a capability: keep it out of search
    return response


def receipt(intent_id: int, succeeded_at) -> dict:
    """What the payer keeps after paying: when the payment was received and the bank's own reference of the
    transfer (the first one matched to the intent), beside the amount, payee and memo the page already shows."""
    transfer = db.session.execute(
        select(BankTransfer.bank_reference, BankTransfer.provider_txn_id).where(BankTransfer.intent_id == intent_id)
        .order_by(BankTransfer.id).limit(1)).first()
    return {"paid_at": format_datetime(succeeded_at) if succeeded_at else "",
            "bank_reference": (transfer[0] or transfer[1]) if transfer else ""}


def page_state(intent: PaymentIntent) -> str:
    """The page's one visible state: waiting, paid, expired (abandoned) or canceled (by the payee)."""
    if intent.status == "succeeded":
        return "paid"
    if intent.status == "canceled":
        return "expired" if intent.cancellation_reason == "abandoned" else "canceled"
    return "waiting"


def _missing():
    response = Response(render_template("payments/hosted_missing.html"), status=404)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response

