import pytest

from tests.payments.helpers import CASSO_KEY, PAYOS_KEY, SEPAY_KEY, SEPAY_SECRET


@pytest.fixture
def bank_secrets_for_lineage(app, monkeypatch):
    """The bank-notification secrets, as tests/payments/conftest.py sets them."""
    for name, value in (("SEPAY_API_KEY", SEPAY_KEY), ("SEPAY_WEBHOOK_SECRET", SEPAY_SECRET),
                        ("CASSO_CHECKSUM_KEY", CASSO_KEY), ("PAYOS_CHECKSUM_KEY", PAYOS_KEY),
                        ("PRODUCTION", False)):
        monkeypatch.setitem(app.config, name, value)
