"""Fixtures of the security tests."""

from __future__ import annotations

import secrets

import pytest

REDIS_URL = "redis://127.0.0.1:6379/13"  # a database number of our own; only keys with our prefix are deleted


@pytest.fixture
def redis_prefix():
    """A key prefix of this test alone in the local Redis; its keys (and only them) are deleted afterwards."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    prefix = f"test-security-{secrets.token_hex(4)}"
    yield prefix
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()
