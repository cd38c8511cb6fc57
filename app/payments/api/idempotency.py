"""Idempotency-Key on POST requests, with Stripe's semantics.

- A key is scoped to the API key's payment account (unique tenant_id, account_id, key) and lives 24 hours.
- The record is inserted and committed in its own transaction *before* the endpoint runs; that insert is the lock.
  A second request that hits the unique constraint reads the existing record:
    completed, same parameters       -> the stored status and body, with ``Idempotent-Replayed: true``
    different parameters             -> 400 idempotency_error (whether or not the first is still running)
    not completed yet                -> 409 idempotency_error, code idempotency_key_in_use
- Every response below 500 is stored, validation errors included, so a retry sees the same answer. A 5xx deletes
  the record so that a retry runs again, unless the endpoint had already committed its work: then the 5xx is
  stored and replayed like any answer (as Stripe does), and the work is never done twice.
- ``committed_at`` is written by a ``before_commit`` hook in the very transaction that commits the endpoint's work.
  A record still in progress without it after ``IDEMPOTENCY_LEASE`` belongs to a request that died (a killed worker,
  a lost connection) before changing anything: the next request with the key takes it over and runs. The hook's
  UPDATE is also a fence: a request whose record was taken over finds no row to mark, and its commit is refused.
- The fingerprint is SHA-256 of method, path and the sorted (name, value) pairs of the request.

- A record marked committed but without a response after the lease belongs to a request that died between its
  commit and the storing of its answer. An endpoint that can rebuild the answer from what was committed passes
  ``recover`` (the payment-intent endpoints do: the intent as it is now); the rebuilt answer is stored and
  replayed. Elsewhere (webhook endpoints) such a key answers 409 until it is pruned (24 h).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from functools import wraps

from flask import Response, current_app, g, has_request_context, request
from sqlalchemy import delete, event, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import transactions
from app.extensions import db
from app.payments.api.base import ApiError, current_account, error_response, request_pairs
from app.clock import as_utc, utcnow
from app.payments.models import IdempotencyRecord
from tenants.scoping import all_tenants

IDEMPOTENCY_TTL = timedelta(hours=24)
IDEMPOTENCY_LEASE = timedelta(seconds=60)  # longer than any API request runs (they take milliseconds)
MAX_KEY_LENGTH = 255
_CLAIM_ATTEMPTS = 3


def idempotency_key() -> str | None:
    """The request's Idempotency-Key (POST only; Stripe ignores it elsewhere)."""
    if request.method != "POST":
        return None
    key = request.headers.get("Idempotency-Key")
    return key or None


def fingerprint(method: str, path: str, pairs: list[tuple[str, str]]) -> str:
    canonical = json.dumps([method.upper(), path, sorted(pairs)], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _find(account_id: int, key: str) -> IdempotencyRecord | None:
    return db.session.scalar(
        select(IdempotencyRecord)
        .where(IdempotencyRecord.account_id == account_id, IdempotencyRecord.key == key)
        .execution_options(populate_existing=True)
    )


def _replay(record: IdempotencyRecord) -> Response:
    response = current_app.response_class(record.response_body or "", status=record.response_status,
                                          mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _claim(account, key: str, request_fingerprint: str, recover=None) -> int | Response:
    """Insert the record (committed), or answer from the existing one. Returns the new record's id."""
    tenant_id, account_id = account.tenant_id, account.id  # plain values: a rollback expires the objects
    for _attempt in range(_CLAIM_ATTEMPTS):
        now = utcnow()
        db.session.commit()  # end whatever read the authentication left open: the insert gets its own transaction
        record = IdempotencyRecord(tenant_id=tenant_id, account_id=account_id, key=key,
                                   request_fingerprint=request_fingerprint, created_at=now)
        db.session.add(record)
        try:
            db.session.commit()
            return record.id
        except IntegrityError:
            db.session.rollback()
        existing = _find(account_id, key)
        if existing is None:  # the holder failed with a 5xx and let the key go: claim it again
            continue
        if as_utc(existing.created_at) <= now - IDEMPOTENCY_TTL:  # an expired key is a new key
            db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == existing.id))
            db.session.commit()
            continue
        if existing.request_fingerprint != request_fingerprint:
            raise ApiError(
                "Keys for idempotent requests can only be used with the same parameters they were first used "
                f"with. Try using a key other than '{key}' if you meant to execute a different request.",
                type_="idempotency_error", code="idempotency_key_reused",
            )
        if existing.completed_at is None or existing.response_status is None:
            if as_utc(existing.created_at) <= now - IDEMPOTENCY_LEASE:
                if existing.committed_at is None:
                    _take_over(existing.id)  # its request died before doing anything: run this one
                    continue
                if recover is not None:  # it died after its commit: answer from what it committed
                    recovered = _recover(existing, recover)
                    if recovered is not None:
                        return recovered
            break
        return _replay(existing)
    raise _in_use(key)


def _recover(record: IdempotencyRecord, recover) -> Response | None:
    """The answer to a request whose work was committed but whose response was never stored, rebuilt by the
    endpoint's ``recover(record)`` from what it committed (the object as it is now), stored, and replayed."""
    body = recover(record)
    if body is None:
        return None
    response = current_app.response_class(json.dumps(body), status=200, mimetype="application/json")
    _settle(record.id, response)
    current_app.logger.warning("idempotency key %r answered from its committed work (its response was lost)",
                               record.key)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _in_use(key: str) -> ApiError:
    return ApiError(
        "There is currently another in-progress request using this Idempotent Key (that probably means you "
        f"submitted twice, and the other request is still going through): {key}. Please try again later.",
        status=409, type_="idempotency_error", code="idempotency_key_in_use",
    )


def _take_over(record_id: int) -> None:
    """Delete an abandoned record, unless its request has committed in the meantime (then the caller reads again)."""
    db.session.execute(delete(IdempotencyRecord).where(
        IdempotencyRecord.id == record_id, IdempotencyRecord.committed_at.is_(None),
        IdempotencyRecord.completed_at.is_(None)))
    db.session.commit()


class LeaseLost(RuntimeError):
    """The idempotency record of this request was taken over: its work must not be committed."""


@event.listens_for(Session, "before_commit")
def _mark_committed(session: Session) -> None:
    """In the endpoint's own transaction: the work of the request holding this record is being committed."""
    if not has_request_context():
        return
    record_id = g.get("idempotency_record_id")
    if record_id is None:
        return
    marked = session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == record_id, IdempotencyRecord.completed_at.is_(None))
        .values(committed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if marked.rowcount != 1:
        raise LeaseLost(f"idempotency record {record_id} was taken over; this request's work is not committed")


def _settle(record_id: int, response: Response) -> None:
    db.session.rollback()  # the endpoint committed its work or failed; nothing else is pending
    committed = db.session.scalar(select(IdempotencyRecord.committed_at).where(IdempotencyRecord.id == record_id))
    if response.status_code >= 500 and committed is None:
        db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))
    else:
        db.session.execute(
            update(IdempotencyRecord).where(IdempotencyRecord.id == record_id).values(
                response_status=response.status_code,
                response_body=response.get_data(as_text=True),
                completed_at=utcnow(),
            )
        )
    db.session.commit()


def idempotent(view=None, *, recover=None):
    """Decorate a POST endpoint of the API (after authentication: the key is scoped to the API account).

    ``recover(record)``, if given, rebuilds the response body of a request that committed its work and then died
    before its response was stored (None when it cannot); without it such a key answers 409 until it expires."""
    if view is None:
        return lambda fn: idempotent(fn, recover=recover)

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = idempotency_key()
        if key is None:
            return view(*args, **kwargs)
        if len(key) > MAX_KEY_LENGTH or "\x00" in key:
            raise ApiError(f"Invalid Idempotency-Key: keys can be at most {MAX_KEY_LENGTH} characters long, "
                           "without NUL characters.", param="Idempotency-Key", code="idempotency_key_invalid")
        request_fingerprint = fingerprint(request.method, request.path, request_pairs())
        claimed = _claim(current_account(), key, request_fingerprint, recover)
        if isinstance(claimed, Response):
            return claimed
        g.idempotency_record_id = claimed
        try:  # the work is its own unit of work, committed (or run again after a deadlock) before its answer is stored
            response = transactions.run(lambda: current_app.make_response(view(*args, **kwargs)))
        except LeaseLost:  # a retry took the key over while this request ran too long: it answers, not this one
            response = error_response(_in_use(key))
        except Exception as exc:  # noqa: BLE001 - stored (4xx) or released (5xx) below, then answered
            response = error_response(exc)
        finally:
            g.pop("idempotency_record_id", None)
        try:
            _settle(claimed, response)
        except Exception:
            current_app.logger.exception("could not store the response of idempotency key %r (request %s)",
                                         key, g.get("request_id"))
            db.session.rollback()
        return response

    return wrapper


def prune_idempotency_records(now: datetime | None = None) -> int:
    """Delete keys older than 24 hours, in every commune (for ``flask payments expire`` or a periodic job)."""
    cutoff = (now or utcnow()) - IDEMPOTENCY_TTL
    with all_tenants():
        result = db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff))
        db.session.commit()
    return result.rowcount or 0
