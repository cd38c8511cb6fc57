"""Fixtures of the security tests."""

from __future__ import annotations

import secrets

import pytest

from tests.conftest import TEST_REDIS_URL

REDIS_URL = TEST_REDIS_URL


@pytest.fixture
def redis_prefix():
    """A key prefix of this test alone in the local Redis; its keys (and only them) are deleted afterwards."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"Redis is not running at {REDIS_URL}")
    prefix = f"test-security-{secrets.token_hex(4)}"
    yield prefix
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()
