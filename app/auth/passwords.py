"""Argon2id password hashing (argon2-cffi); parameters come from configuration so tests can use cheap ones."""

import gzip
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

MIN_PASSWORD_LENGTH = 8
COMMON_PASSWORDS = Path(__file__).parent / "data"  # the bundled lists (data/README.md)


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS / "common-passwords.txt.gz", "rt", encoding="utf-8") as lines:
        words = {line.strip() for line in lines}
    words |= {line.strip() for line in (COMMON_PASSWORDS / "vietnamese.txt").read_text(encoding="utf-8").splitlines()}
    return frozenset(w for w in words if w)


def is_common(password: str) -> bool:
    """Whether ``password`` is one of the commonly used ones ("12345678", "matkhau123"): refused wherever a password
    is set (issue 16, item 16)."""
    return (password or "").strip().lower() in _common()


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def hasher() -> PasswordHasher:
    cfg = current_app.config
    return _hasher(cfg.get("ARGON2_TIME_COST", 3), cfg.get("ARGON2_MEMORY_COST", 65536), cfg.get("ARGON2_PARALLELISM", 4))


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher().check_needs_rehash(password_hash)


# A real hash to verify against when the email is unknown, so timing does not reveal which emails exist.
@lru_cache(maxsize=1)
def dummy_hash() -> str:
    return hash_password("not-a-real-password")
