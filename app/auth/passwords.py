"""Argon2id password hashing (argon2-cffi); parameters come from configuration so tests can use cheap ones."""

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

MIN_PASSWORD_LENGTH = 8


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
