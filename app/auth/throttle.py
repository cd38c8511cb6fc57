"""Limits on guessing passwords that hold across workers and do not lock the rightful user out (docs/security.md).

Counters live in the limiter's storage (Redis in production, required by ``check_production``; so every worker
and process counts the same attempts). Only failures are counted:

- per client address: ``LOGIN_RATE_LIMIT`` failures (any email) and the address is refused until the window ends;
- per email and address: the same limit, so one client cannot keep guessing one account;
- per email: ``LOGIN_EMAIL_RATE_LIMIT`` failures from all addresses together and the email is under attack: from
  then on a client that has itself failed recently is refused for that email, but a client that has not failed
  (the rightful user, on their own phone) is still let in with the right password. A distributed attacker thus gets
  about one try per address and window, and the victim is never locked out.
- the password-change form: ``PASSWORD_CHANGE_RATE_LIMIT`` wrong current passwords per account.

A refused attempt is answered 429 without checking the password, so it costs the attacker a try and teaches nothing.

When the shared storage is down (Redis stopped, unreachable or silent: limits raises StorageError after one short
timeout, then at once until Redis answers again, app/redis_health.py), the counting goes on in this worker's
memory, as Flask-Limiter's own in-memory fallback does for the other limits: a guesser is still slowed, per worker,
nobody gets a 500, and a sign-in never waits for Redis more than once.
"""

from __future__ import annotations

import hashlib

from collections.abc import Callable
from typing import TypeVar

from flask import current_app
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage
from limits.strategies import RateLimiter

from app.extensions import limiter


def _items(setting: str) -> list[RateLimitItem]:
    return parse_many(current_app.config[setting])


def _digest(value: str) -> str:
    """Emails are not written in clear into the limit storage."""
    return hashlib.sha256(value.strip().lower().encode("utf-8", "replace")).hexdigest()[:32]


T = TypeVar("T")
_in_memory: list[RateLimiter] = []  # this worker's counters while the shared storage is down


def _counted(call: Callable[[RateLimiter], T]) -> T:
    """``call`` on the limiter's strategy over the shared storage, or over this worker's memory when it is down."""
    try:
        return call(limiter.limiter)
    except StorageError:
        if not _in_memory:
            current_app.logger.warning("Rate limit storage unreachable: sign-in failures are counted in this "
                                       "worker's memory while it is down")
            _in_memory.append(type(limiter.limiter)(MemoryStorage()))
        return call(_in_memory[0])


def _exhausted(setting: str, *identifiers: str) -> bool:
    items = _items(setting)
    return _counted(lambda strategy: any(not strategy.test(item, *identifiers) for item in items))


def _has_failed(setting: str, *identifiers: str) -> bool:
    items = _items(setting)
    return _counted(lambda strategy: any(strategy.get_window_stats(item, *identifiers).remaining < item.amount
                                         for item in items))


def _hit(setting: str, *identifiers: str) -> None:
    items = _items(setting)
    _counted(lambda strategy: [strategy.hit(item, *identifiers) for item in items])


def login_refused(email: str, address: str) -> bool:
    """Whether a sign-in attempt from ``address`` for ``email`` must wait (answered 429, password unchecked)."""
    email = _digest(email or "")
    if _exhausted("LOGIN_RATE_LIMIT", "login-address", address):
        return True
    if _exhausted("LOGIN_RATE_LIMIT", "login-pair", email, address):
        return True
    under_attack = _exhausted("LOGIN_EMAIL_RATE_LIMIT", "login-email", email)
    return under_attack and _has_failed("LOGIN_RATE_LIMIT", "login-address", address)


def login_failed(email: str, address: str) -> None:
    email = _digest(email or "")
    _hit("LOGIN_RATE_LIMIT", "login-address", address)
    _hit("LOGIN_RATE_LIMIT", "login-pair", email, address)
    _hit("LOGIN_EMAIL_RATE_LIMIT", "login-email", email)


def password_change_refused(user_id: int) -> bool:
    return _exhausted("PASSWORD_CHANGE_RATE_LIMIT", "password-change", str(user_id))


def password_change_failed(user_id: int) -> None:
    _hit("PASSWORD_CHANGE_RATE_LIMIT", "password-change", str(user_id))
