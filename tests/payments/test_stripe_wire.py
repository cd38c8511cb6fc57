"""Stripe wire format, checked against the real stripe SDK: its form encoder and its webhook verifier."""

import json
import re
import time
from urllib.parse import parse_qsl, urlencode

import pytest
import stripe
from stripe._encode import _api_encode

from app.payments.stripe_wire import (
    SignatureError,
    WireError,
    new_id,
    parse_form,
    sign_payload,
    verify_signature,
)

SECRET = "whsec_test_5WbX5kEWLlfzsGNjH64I8lOOqUB6e8FH"
EVENT = json.dumps(
    {
        "id": "evt_1",
        "object": "event",
        "type": "payment_intent.succeeded",
        "created": 1_760_000_000,
        "data": {"object": {"id": "pi_1", "object": "payment_intent", "amount": 150000, "currency": "vnd"}},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
    },
    ensure_ascii=False,
)


def sdk_form_pairs(params: dict) -> list[tuple[str, str]]:
    """Encode exactly as stripe's _APIRequestor does, then decode as a form parser (Werkzeug) would."""
    body = urlencode(list(_api_encode(params))).replace("%5B", "[").replace("%5D", "]")
    return parse_qsl(body, keep_blank_values=True, strict_parsing=True)


# --- signatures -----------------------------------------------------------------------------------------------


def test_signed_event_is_accepted_by_stripe_sdk():
    header = sign_payload(EVENT, SECRET, int(time.time()))
    event = stripe.Webhook.construct_event(EVENT, header, SECRET)
    assert event.id == "evt_1" and event.type == "payment_intent.succeeded"
    assert event.data.object.amount == 150000


def test_signed_bytes_payload_is_accepted_by_stripe_sdk():
    payload = EVENT.replace("vnd", "vnđ").encode("utf-8")
    header = sign_payload(payload, SECRET, int(time.time()))
    assert stripe.Webhook.construct_event(payload, header, SECRET).id == "evt_1"


def test_stripe_sdk_rejects_wrong_secret():
    header = sign_payload(EVENT, "whsec_other", int(time.time()))
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(EVENT, header, SECRET)


def test_stripe_sdk_rejects_stale_timestamp():
    header = sign_payload(EVENT, SECRET, int(time.time()) - 301)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(EVENT, header, SECRET)


def test_header_matches_stripe_sdk_test_helper():
    expected = stripe.WebhookSignature.generate_signature_header(EVENT, SECRET, timestamp=1_760_000_000)
    assert sign_payload(EVENT, SECRET, 1_760_000_000) == expected


def test_verify_signature_accepts_own_and_sdk_headers():
    now = 1_760_000_000
    verify_signature(EVENT, sign_payload(EVENT, SECRET, now), SECRET, now=now + 300)
    verify_signature(EVENT.encode(), stripe.WebhookSignature.generate_signature_header(EVENT, SECRET, now), SECRET,
                     now=now)


def test_verify_signature_accepts_any_of_several_v1_during_secret_rotation():
    now = 1_760_000_000
    other = sign_payload(EVENT, "whsec_old", now).split(",")[1]
    verify_signature(EVENT, f"{sign_payload(EVENT, SECRET, now)},{other}", SECRET, now=now)
    verify_signature(EVENT, f"t={now},{other},{sign_payload(EVENT, SECRET, now).split(',')[1]}", SECRET, now=now)


@pytest.mark.parametrize(
    "header_for",
    [
        lambda now: sign_payload(EVENT, "whsec_other", now),
        lambda now: sign_payload(EVENT + " ", SECRET, now),
        lambda now: sign_payload(EVENT, SECRET, now - 301),
        lambda now: "",
        lambda now: None,
        lambda now: f"t={now}",
        lambda now: "v1=abc",
        lambda now: "t=soon,v1=abc",
    ],
    ids=["wrong-secret", "tampered", "stale", "empty", "missing", "no-v1", "no-t", "bad-t"],
)
def test_verify_signature_rejects(header_for):
    now = 1_760_000_000
    with pytest.raises(SignatureError):
        verify_signature(EVENT, header_for(now), SECRET, now=now)


def test_verify_signature_tolerance_zero_disables_age_check_like_stripe():
    verify_signature(EVENT, sign_payload(EVENT, SECRET, 1), SECRET, tolerance=0, now=1_760_000_000)


# --- form bodies ----------------------------------------------------------------------------------------------


def test_stripe_sdk_encoding_parses_back_with_strings_as_leaves():
    params = {"metadata": {"order": "A1"}, "payment_method_types": ["vietqr"], "amount": 150000}
    pairs = sdk_form_pairs(params)
    assert pairs == [("metadata[order]", "A1"), ("payment_method_types[0]", "vietqr"), ("amount", "150000")]
    assert parse_form(pairs) == {"metadata": {"order": "A1"}, "payment_method_types": ["vietqr"], "amount": "150000"}


def test_stripe_sdk_encoding_of_nested_lists_booleans_and_blank_metadata():
    params = {
        "amount": 250000,
        "currency": "vnd",
        "capture_method": "automatic",
        "confirm": True,
        "expand": ["latest_charge", "customer"],
        "metadata": {"order": "Bát Tràng #12", "unset_me": "", "2024": "numeric key"},
        "line_items": [{"price": "price_1", "quantity": 2}, {"price": "price_2", "quantity": 1}],
        "shipping": {"address": {"line1": "Số 1 Kiêu Kỵ", "city": "Hà Nội"}, "name": "Nguyễn Văn A"},
        "description": None,  # the SDK drops None
    }
    assert parse_form(sdk_form_pairs(params)) == {
        "amount": "250000",
        "currency": "vnd",
        "capture_method": "automatic",
        "confirm": "true",
        "expand": ["latest_charge", "customer"],
        "metadata": {"order": "Bát Tràng #12", "unset_me": "", "2024": "numeric key"},
        "line_items": [{"price": "price_1", "quantity": "2"}, {"price": "price_2", "quantity": "1"}],
        "shipping": {"address": {"line1": "Số 1 Kiêu Kỵ", "city": "Hà Nội"}, "name": "Nguyễn Văn A"},
    }


def test_empty_bracket_appends():
    pairs = [("expand[]", "latest_charge"), ("expand[]", "customer"), ("payment_method_types[]", "vietqr")]
    assert parse_form(pairs) == {"expand": ["latest_charge", "customer"], "payment_method_types": ["vietqr"]}


def test_indexes_out_of_order_and_sparse_are_sorted_numerically():
    pairs = [("a[10]", "ten"), ("a[2]", "two"), ("a[0]", "zero"), ("b[1][x]", "1"), ("b[0][x]", "0")]
    assert parse_form(pairs) == {"a": ["zero", "two", "ten"], "b": [{"x": "0"}, {"x": "1"}]}


def test_nested_hashes():
    pairs = [("a[b][c]", "1"), ("a[b][d]", "2"), ("a[e]", "3")]
    assert parse_form(pairs) == {"a": {"b": {"c": "1", "d": "2"}, "e": "3"}}


def test_empty_values_are_kept():
    assert parse_form([("metadata[order]", ""), ("description", "")]) == {"metadata": {"order": ""}, "description": ""}
    assert parse_form([("metadata", "")]) == {"metadata": ""}  # Stripe: unset every key


def test_metadata_keys_that_look_like_indexes_stay_a_hash():
    assert parse_form([("metadata[0]", "a"), ("metadata[1]", "b")]) == {"metadata": {"0": "a", "1": "b"}}
    assert parse_form([("tags[0]", "a")], keep_dicts=()) == {"tags": ["a"]}


@pytest.mark.parametrize(
    ("pairs", "param"),
    [
        ([("metadata", "x"), ("metadata[order]", "A1")], "metadata[order]"),
        ([("metadata[order]", "A1"), ("metadata", "x")], "metadata"),
        ([("a[0]", "x"), ("a[b]", "y")], "a[b]"),
        ([("a[b]", "y"), ("a[0]", "x")], "a[0]"),
        ([("a[0]", "x"), ("a[0]", "y")], "a[0]"),
        ([("a[]", "x"), ("a[0]", "y")], "a[0]"),
        ([("amount", "1"), ("amount", "2")], "amount"),
        ([("a[b]", "1"), ("a[b][c]", "2")], "a[b][c]"),
        ([("metadata[]", "x")], "metadata[]"),
        ([("a[b", "x")], "a[b"),
        ([("a]b", "x")], "a]b"),
        ([("[x]", "x")], "[x]"),
        ([("a[b]c", "x")], "a[b]c"),
    ],
)
def test_conflicting_or_malformed_names_raise_wire_error_naming_the_param(pairs, param):
    with pytest.raises(WireError) as info:
        parse_form(pairs)
    assert info.value.param == param
    assert info.value.message


# --- ids ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["pi", "evt", "we", "whsec", "sk_test", "sk_live", "pi_"])
def test_new_id_looks_like_stripe(prefix):
    value = new_id(prefix)
    head = prefix.rstrip("_") + "_"
    assert value.startswith(head) and re.fullmatch(r"[A-Za-z0-9]{24}", value[len(head):])


def test_new_ids_are_unique_and_length_is_adjustable():
    assert len({new_id("pi") for _ in range(5000)}) == 5000
    assert len(new_id("whsec", 32)) == len("whsec_") + 32
