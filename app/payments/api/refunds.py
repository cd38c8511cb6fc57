"""/v1/refunds: create, list, retrieve, update, cancel (Stripe's Refunds, paid back by bank transfer).

A refund names the money it gives back: ``charge``, a transfer that paid the intent (``/v1/charges`` lists them, each
with its payer's name and account), and/or its ``payment_intent``; the payment intent alone is enough only when one
transfer paid it (docs/decisions.md, "Refund destination"). An intent or charge of another account or commune is
a 404. ``amount`` defaults to what is left to refund. The refund stays ``pending`` until the
officer's transfer back is seen or confirmed (see app/payments/refunds.py).
"""

from __future__ import annotations

from flask import g, request
from sqlalchemy import select

from app.extensions import db
from app.payments import refunds
from app.payments.api import bp
from app.payments.api.base import (
    ApiError,
    current_account,
    get_owned,
    int_param,
    list_body,
    metadata_param,
    paginate,
    read_params,
    require,
    str_param,
)
from app.payments.api.idempotency import idempotency_key, idempotent
from app.payments.intents import MAX_AMOUNT
from app.payments.models import BankTransfer, Event, PaymentIntent, Refund

NOUN = "refund"
URL = "/v1/refunds"
CREATE_PARAMS = frozenset({"payment_intent", "charge", "amount", "reason", "metadata"})
LIST_PARAMS = frozenset({"limit", "starting_after", "ending_before", "payment_intent", "charge"})


def _refund(public_id: str, *, for_update: bool = False) -> Refund:
    return get_owned(Refund, public_id, NOUN, for_update=for_update, param="refund")


def _intent(params: dict) -> PaymentIntent:
    public_id = str_param(params, "payment_intent")
    return get_owned(PaymentIntent, public_id or "", "payment_intent", param="payment_intent")


def _charge(params: dict, intent: PaymentIntent | None) -> tuple[PaymentIntent, BankTransfer | None]:
    """The intent and the transfer (``charge``) a refund names; a charge of another account is a 404."""
    charge = str_param(params, "charge", max_length=40)
    if charge is None:
        return _intent(params), None
    transfer = refunds.transfer_of_charge(charge)
    if transfer is not None and intent is None:
        intent = db.session.scalar(select(PaymentIntent).where(
            PaymentIntent.id == transfer.intent_id, PaymentIntent.account_id == current_account().id))
    if transfer is None or intent is None or transfer.intent_id != intent.id:
        raise ApiError(f"No such charge: '{charge}'", status=404, code="resource_missing", param="charge")
    return intent, transfer


def _recover_created(record) -> dict | None:
    """The refund a request with this key created (its refund.created event carries the key)."""
    data = db.session.scalar(
        select(Event.data).where(
            Event.account_id == record.account_id, Event.type == "refund.created",
            Event.idempotency_key == record.key, Event.created_at >= record.created_at,
        ).order_by(Event.id.desc()).limit(1)
    )
    if data is None:
        return None
    refund = db.session.scalar(select(Refund).where(Refund.public_id == data["object"]["id"]))
    return refunds.serialize(refund) if refund is not None else None


def _recover_named(record) -> dict:
    return refunds.serialize(_refund(request.view_args["public_id"]))


@bp.post("/refunds")
@idempotent(recover=_recover_created)
def create_refund():
    params = read_params(CREATE_PARAMS)
    if not params.get("charge"):
        require(params, "payment_intent")
    amount = int_param(params, "amount", minimum=1, maximum=MAX_AMOUNT, too_small="amount_too_small",
                       too_large="amount_too_large")
    reason = str_param(params, "reason")
    if reason is not None and reason not in refunds.API_REASONS:
        raise ApiError(f"Invalid reason: must be one of {', '.join(refunds.API_REASONS)}.", param="reason",
                       code="parameter_invalid")
    metadata = {key: value for key, value in (metadata_param(params) or {}).items() if value != ""}
    intent, transfer = _charge(params, _intent(params) if params.get("payment_intent") else None)
    refund = refunds.create_refund(intent, amount, reason=reason or None, metadata=metadata, source=transfer,
                                   request_id=g.request_id, idempotency_key=idempotency_key())
    return refunds.serialize(refund)


@bp.get("/refunds")
def list_refunds():
    params = read_params(LIST_PARAMS)
    filters = []
    if params.get("payment_intent"):
        filters.append(Refund.intent_id == _intent(params).id)
    if params.get("charge"):
        filters.append(Refund.source_transfer_id == _charge(params, None)[1].id)
    rows, has_more = paginate(Refund, params, noun=NOUN, url=URL, filters=filters)
    return list_body([refunds.serialize(refund) for refund in rows], has_more, URL)


@bp.get("/refunds/<public_id>")
def retrieve_refund(public_id: str):
    read_params(frozenset())
    return refunds.serialize(_refund(public_id))


@bp.post("/refunds/<public_id>")
@idempotent(recover=_recover_named)
def update_refund(public_id: str):
    params = read_params(frozenset({"metadata"}))
    refund = _refund(public_id, for_update=True)
    metadata = metadata_param(params, existing=refund.metadata_)
    if metadata is not None:
        refunds.update_metadata(refund, metadata)
    return refunds.serialize(refund)


@bp.post("/refunds/<public_id>/cancel")
@idempotent(recover=_recover_named)
def cancel_refund(public_id: str):
    read_params(frozenset())
    refund = refunds.cancel_refund(_refund(public_id))
    return refunds.serialize(refund)


@bp.get("/charges")
def list_charges():
    """The transfers that paid one payment intent (``payment_intent`` required), oldest first, each with its payer:
    what a refund names."""
    params = read_params(frozenset({"payment_intent", "limit"}))
    require(params, "payment_intent")
    intent = _intent(params)
    return list_body([refunds.serialize_charge(t, intent) for t in refunds.payer_transfers(intent)], False,
                     "/v1/charges")


@bp.get("/charges/<charge>")
def retrieve_charge(charge: str):
    read_params(frozenset())
    intent, transfer = _charge({"charge": charge}, None)
    return refunds.serialize_charge(transfer, intent)
