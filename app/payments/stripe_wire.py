"""Stripe wire format: bracket-notation form bodies, Stripe-Signature headers and Stripe-style ids.

Our API mirrors Stripe's closely enough that Stripe's own SDKs work against it, so requests arrive the way the
SDKs encode them (``metadata[order]=A1``, ``payment_method_types[0]=vietqr``, ``expand[]=x``) and outgoing
events are signed so ``stripe.Webhook.construct_event`` accepts them.

``parse_form`` only rebuilds the structure: every leaf stays a string (``amount=150000`` gives ``"150000"``,
``metadata[k]=`` gives ``""``, which Stripe uses to unset a key). Coercing and validating values is the caller's job,
because only the endpoint knows that ``amount`` is an integer and ``capture`` a boolean.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
import time
from collections.abc import Collection, Iterable
from typing import Any

DEFAULT_TOLERANCE = 300
ID_ALPHABET = string.ascii_letters + string.digits

_KEY = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


class WireError(ValueError):
    """A request body we cannot read; ``param`` names the offending parameter for Stripe's error envelope."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


class SignatureError(ValueError):
    """A Stripe-Signature header that does not verify (missing, malformed, wrong secret or too old)."""


class _Indexed(dict):
    """A list under construction: index -> value, turned into a list sorted by index at the end."""


def parse_form(pairs: Iterable[tuple[str, str]], *, keep_dicts: Collection[str] = ("metadata",)) -> dict[str, Any]:
    """Rebuild nested params from ``(key, value)`` pairs such as ``request.form.items(multi=True)``.

    ``a[b][c]=1`` nests dicts; ``a[0]=x`` and ``a[]=x`` build lists (indexes sorted numerically, gaps closed,
    each ``[]`` appends a new element). Top-level names in ``keep_dicts`` always hold dicts, because metadata
    keys may be numeric (``metadata[2024]=x``). Conflicts raise ``WireError``: a name used both as a scalar and a
    container, a list also addressed by name, a duplicated index, or a duplicated scalar.
    """
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY.fullmatch(key)
        if match is None:
            raise WireError(f"Invalid parameter name: {key!r}", param=key)
        path = [match.group(1), *_SEGMENT.findall(match.group(2))]
        container: dict[Any, Any] = root
        for depth, segment in enumerate(path):
            slot = _slot(container, segment, key)
            if depth == len(path) - 1:
                if slot in container:
                    raise WireError(_conflict(key, container[slot]), param=key)
                container[slot] = value
                break
            child_kind = _kind_for(path[depth + 1], depth == 0 and path[0] in keep_dicts)
            child = container.get(slot)
            if child is None:
                child = container[slot] = child_kind()
            elif type(child) is not child_kind:
                raise WireError(_conflict(key, child), param=key)
            container = child
    return _finish(root)


def _kind_for(next_segment: str, force_dict: bool) -> type[dict]:
    if force_dict or not _is_index(next_segment):
        return dict
    return _Indexed


def _is_index(segment: str) -> bool:
    return segment == "" or (segment.isascii() and segment.isdigit())


def _slot(container: dict[Any, Any], segment: str, key: str) -> Any:
    if not isinstance(container, _Indexed):
        if segment == "":
            raise WireError(f"Empty key in {key!r}: this parameter is not a list", param=key)
        return segment
    if segment == "":
        return max(container, default=-1) + 1
    return int(segment)


def _conflict(key: str, existing: Any) -> str:
    if isinstance(existing, str):
        return f"Received {key!r} but that parameter was already given a plain value"
    shape = "a list" if isinstance(existing, _Indexed) else "a hash"
    return f"Received {key!r} but that parameter was already used as {shape}"


def _finish(node: Any) -> Any:
    if isinstance(node, _Indexed):
        return [_finish(node[index]) for index in sorted(node)]
    if isinstance(node, dict):
        return {name: _finish(child) for name, child in node.items()}
    return node


def _as_text(payload: str | bytes) -> str:
    return payload.decode("utf-8") if isinstance(payload, (bytes, bytearray)) else payload


def _signature(payload: str, secret: str, timestamp: int) -> str:
    signed = f"{timestamp}.{payload}".encode("utf-8")
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def sign_payload(payload: str | bytes, secret: str, timestamp: int) -> str:
    """``Stripe-Signature`` header value for an outgoing event body: ``t=<ts>,v1=<hex>``."""
    return f"t={timestamp},v1={_signature(_as_text(payload), secret, timestamp)}"


def parse_signature_header(header: str) -> tuple[list[str], list[str]]:
    """``t=<timestamp>,v1=<hex>[,v1=<hex>...]`` (Stripe's shape, Casso's too) -> (timestamps, v1 signatures), as
    given; the callers check that there is exactly one timestamp, of digits."""
    parts = [item.strip().partition("=") for item in header.split(",")]
    return [value for name, _, value in parts if name == "t"], [value for name, _, value in parts if name == "v1"]


def verify_signature(
    payload: str | bytes, header: str | None, secret: str, tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """Stripe's receiver rules: any matching v1 passes; older than ``tolerance`` seconds fails (future does not)."""
    if not header:
        raise SignatureError("Missing Stripe-Signature header")
    stamps, signatures = parse_signature_header(header)
    if len(stamps) != 1 or not (stamps[0].isascii() and stamps[0].isdigit()):
        raise SignatureError("Unable to extract timestamp from Stripe-Signature header")
    if not signatures:
        raise SignatureError("No v1 signature in Stripe-Signature header")
    timestamp = int(stamps[0])
    expected = _signature(_as_text(payload), secret, timestamp).encode("ascii")
    if not any(hmac.compare_digest(expected, given.encode("utf-8")) for given in signatures):
        raise SignatureError("No signature matches the expected signature for the payload")
    current = int(time.time() if now is None else now)
    if tolerance and timestamp < current - tolerance:
        raise SignatureError(f"Timestamp outside the tolerance zone ({timestamp})")


def new_id(prefix: str, length: int = 24) -> str:
    """Stripe-style identifier or secret: ``new_id("pi")`` -> ``pi_`` + 24 random letters and digits.

    Also for secrets (``whsec``, ``sk_test``, ``sk_live``): 24 characters carry about 143 bits of randomness.
    """
    head = prefix if prefix.endswith("_") else prefix + "_"
    return head + "".join(secrets.choice(ID_ALPHABET) for _ in range(length))
