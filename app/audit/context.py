"""Who acts, and from which address: read from the request (the signed-in user, the client address as ProxyFix gives
it), the API key of a /v1 call, or the CLI command; ``acting_as`` names a job or command explicitly."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from flask import g, has_request_context, request

KINDS = ("user", "api", "public", "cli", "system")


@dataclass(frozen=True)
class Actor:
    kind: str  # one of KINDS
    user_id: int | None
    label: str  # the user's email (or sign-in phone), the API key's prefix, the endpoint of an anonymous request, the command
    address: str | None  # the client's IP address (requests only)

    @classmethod
    def of_user(cls, user, address: str | None = None) -> Actor:
        return cls("user", user.id, user.sign_in_name, address)


SYSTEM = Actor("system", None, "system", None)
_explicit: ContextVar[Actor | None] = ContextVar("audit_actor", default=None)


@contextmanager
def acting_as(label: str, kind: str = "system") -> Iterator[None]:
    """Credit what the block changes to ``label`` (a job: "payments worker"; a command: "backup restore")."""
    token = _explicit.set(Actor(kind, None, label[:254], None))
    try:
        yield
    finally:
        _explicit.reset(token)


def _signed_in_user():
    """The request's user when someone is signed in. Loads the user if the view did not (a signed-in citizen on a
    public page still acts as themselves); never during a flush (callers run outside it)."""
    from flask_login import current_user

    from app.extensions import db

    user = g.get("_login_user")
    if user is None:
        with db.session.no_autoflush:
            user = current_user._get_current_object()
    return user if getattr(user, "is_authenticated", False) else None


def current_actor() -> Actor:
    explicit = _explicit.get()
    if explicit is not None:
        return explicit
    if has_request_context():
        address = (request.remote_addr or "")[:45] or None
        user = _signed_in_user()
        if user is not None:
            return Actor.of_user(user, address)
        key = g.get("api_key")
        if key is not None:
            return Actor("api", None, f"API key {key.display_prefix}…"[:254], address)
        return Actor("public", None, (request.endpoint or request.path)[:254], address)
    import click

    command = click.get_current_context(silent=True)
    if command is not None:
        return Actor("cli", None, command.command_path[:254], None)
    return SYSTEM
