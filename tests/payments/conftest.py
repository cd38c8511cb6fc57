"""Shared payment fixtures: a live HTTP server over the session app, and API keys for payment accounts."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from app.extensions import db
from tenants.scoping import tenant_context


@dataclass(frozen=True)
class ApiCredentials:
    tenant_id: int
    account_id: int
    key_id: int
    secret: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}


@pytest.fixture
def make_api_key(app, make):
    """``make_api_key("bat-trang")`` -> ApiCredentials for a new payment account (and tenant, made on first use)."""
    tenants = {}

    def factory(slug: str = "bat-trang", label: str = "Phí một cửa", *, account_number: str = "113000583"):
        from app.payments.accounts import create_account, create_api_key

        if slug not in tenants:
            tenants[slug] = make.tenant(slug)
        tenant = tenants[slug]
        with app.app_context(), tenant_context(tenant):
            account = create_account(label, "970415", account_number, "UBND XA BAT TRANG")
            key, secret = create_api_key(account)
            credentials = ApiCredentials(tenant.id, account.id, key.id, secret)
            db.session.remove()
        return credentials

    return factory
