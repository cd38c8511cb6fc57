"""/v1/payment_intents: create, retrieve, update, list, cancel (Stripe's PaymentIntents, VietQR only)."""

from __future__ import annotations

from flask import g, request
from sqlalchemy import select

from app.extensions import db
from app.payments.api import bp
from app.payments.api.base import (
    ApiError,
    bool_param,
    current_account,
    get_owned,
    int_param,
    list_body,
    list_param,
    metadata_param,
    paginate,
    read_params,
    require,
    str_param,
)
from app.payments.api.idempotency import idempotency_key, idempotent
from app.payments.intents import (
    MAX_AMOUNT,
    cancel_intent,
    create_intent,
    expire_due,
    expire_if_due,
    serialize,
    update_intent,
)
from app.payments.models import Event, PaymentIntent

NOUN = "payment_intent"
URL = "/v1/payment_intents"
CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")

CREATE_PARAMS = frozenset({"amount", "currency", "payment_method_types", "description", "metadata", "confirm",
                           "automatic_payment_methods"})
UPDATE_PARAMS = frozenset({"amount", "currency", "payment_method_types", "description", "metadata"})
LIST_PARAMS = frozenset({"limit", "starting_after", "ending_before"})


def _amount(params: dict) -> int | None:
    return int_param(params, "amount", minimum=1, maximum=MAX_AMOUNT, too_small="amount_too_small",
                     too_large="amount_too_large")


def _check_currency(params: dict) -> None:
    currency = str_param(params, "currency")
    if currency is not None and currency.lower() != "vnd":
        raise ApiError(f"Invalid currency: {currency.lower()}. VietQR payments are in Vietnamese đồng: use "
                       "currency=vnd (a zero-decimal currency: amount=150000 is 150,000 ₫).",
                       param="currency", code="parameter_invalid")


def _check_payment_method_types(params: dict) -> None:
    types = list_param(params, "payment_method_types")
    if types is None:
        return
    wrong = [item for item in types if item != "vietqr"]
    if not types or wrong:
        shown = wrong[0] if wrong else ""
        raise ApiError(f"The payment method type \"{shown}\" is not available: only \"vietqr\" is supported.",
                       param="payment_method_types", code="payment_intent_invalid_parameter")


def _intent(public_id: str, *, for_update: bool = False) -> PaymentIntent:
    return get_owned(PaymentIntent, public_id, NOUN, for_update=for_update, param="intent")


def _recover_created(record) -> dict | None:
    """The intent that a request with this key created (its payment_intent.created event carries the key)."""
    intent_id = db.session.scalar(
        select(Event.intent_id).where(
            Event.account_id == record.account_id, Event.type == "payment_intent.created",
            Event.idempotency_key == record.key, Event.created_at >= record.created_at,
        ).order_by(Event.id.desc()).limit(1)
    )
    intent = db.session.get(PaymentIntent, intent_id) if intent_id is not None else None
    return serialize(intent) if intent is not None else None


def _recover_named(record) -> dict:
    """Update and cancel name their intent in the path: the answer is that intent."""
    return serialize(_intent(request.view_args["public_id"]))


@bp.post("/payment_intents")
@idempotent(recover=_recover_created)
def create_payment_intent():
    params = read_params(CREATE_PARAMS)
    require(params, "amount")
    amount = _amount(params)
    require(params, "currency")
    _check_currency(params)
    _check_payment_method_types(params)
    description = str_param(params, "description", max_length=500)
    metadata = {key: value for key, value in (metadata_param(params) or {}).items() if value != ""}
    bool_param(params, "confirm")  # a VietQR intent waits for the bank transfer whatever confirm says
    if "automatic_payment_methods" in params and not isinstance(params["automatic_payment_methods"], dict):
        raise ApiError("Invalid object: automatic_payment_methods must be a hash.", param="automatic_payment_methods")
    intent = create_intent(current_account(), amount, description=description or None, metadata=metadata,
                           request_id=g.request_id, idempotency_key=idempotency_key())
    return serialize(intent)


@bp.get("/payment_intents")
def list_payment_intents():
    params = read_params(LIST_PARAMS)
    expire_due(account_id=current_account().id)
    intents, has_more = paginate(PaymentIntent, params, noun=NOUN, url=URL)
    return list_body([serialize(intent) for intent in intents], has_more, URL)


@bp.get("/payment_intents/<public_id>")
def retrieve_payment_intent(public_id: str):
    read_params(frozenset({"client_secret"}))
    return serialize(expire_if_due(_intent(public_id)))


@bp.post("/payment_intents/<public_id>")
@idempotent(recover=_recover_named)
def update_payment_intent(public_id: str):
    params = read_params(UPDATE_PARAMS)
    amount = _amount(params)
    _check_currency(params)
    _check_payment_method_types(params)
    description = str_param(params, "description", max_length=500)
    intent = _intent(public_id, for_update=True)
    metadata = metadata_param(params, existing=intent.metadata_)
    update_intent(intent, amount=amount, description=description, metadata=metadata)
    return serialize(intent)


@bp.post("/payment_intents/<public_id>/cancel")
@idempotent(recover=_recover_named)
def cancel_payment_intent(public_id: str):
    params = read_params(frozenset({"cancellation_reason"}))
    reason = str_param(params, "cancellation_reason")
    if reason is not None and reason not in CANCELLATION_REASONS:
        raise ApiError(f"Invalid cancellation_reason: must be one of {', '.join(CANCELLATION_REASONS)}.",
                       param="cancellation_reason", code="parameter_invalid")
    intent = _intent(public_id, for_update=True)
    cancel_intent(intent, reason or None, request_id=g.request_id, idempotency_key=idempotency_key())
    return serialize(intent)
