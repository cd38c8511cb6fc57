"""Shared payment fixtures: API keys for payment accounts; the bank secrets, a commune, its account and a payment.

``bank_secrets`` is not autouse: a module whose tests sign bank notifications with the helpers of
tests/payments/helpers.py asks for it with ``pytestmark = pytest.mark.usefixtures("bank_secrets")``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from app.extensions import db
from tenants.scoping import tenant_context
from tests.payments.helpers import CASSO_KEY, PAYOS_KEY, SEPAY_KEY, SEPAY_SECRET, make_account, make_intent


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
    numbers = iter(range(113000583, 113100000))

    def factory(slug: str = "bat-trang", label: str = "Phí một cửa", *, account_number: str | None = None):
        """Each account gets its own number unless told (one bank and number is one account)."""
        from app.payments.accounts import create_account, create_api_key

        account_number = account_number or str(next(numbers))
        if slug not in tenants:
            tenants[slug] = make.tenant(slug)
        tenant = tenants[slug]
        with app.app_context(), tenant_context(tenant):
            account = create_account(label, "970415", account_number, "UBND XA BAT TRANG")
            key, secret = create_api_key(account)
            db.session.commit()  # the services flush; here the fixture is the boundary
            credentials = ApiCredentials(tenant.id, account.id, key.id, secret)
            db.session.remove()
        return credentials

    return factory


@pytest.fixture
def bank_secrets(app, monkeypatch):
    """The configured (global) secrets, whatever APP_ENV the suite runs under."""
    for name, value in (("SEPAY_API_KEY", SEPAY_KEY), ("SEPAY_WEBHOOK_SECRET", SEPAY_SECRET),
                        ("CASSO_CHECKSUM_KEY", CASSO_KEY), ("PAYOS_CHECKSUM_KEY", PAYOS_KEY),
                        ("PRODUCTION", False)):
        monkeypatch.setitem(app.config, name, value)


@pytest.fixture
def commune(make):
    return make.tenant("xa-bat-trang", "Bát Tràng")


@pytest.fixture
def account(app, commune):
    return make_account(app, commune)


@pytest.fixture
def intent(app, account):
    return make_intent(app, account, 150_000)
