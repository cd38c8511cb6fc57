"""Fixtures of the sign-in and accounts tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def english(client):
    """Messages are asserted in English (Vietnamese is the default language)."""
    client.get("/lang/en")
