import pytest

from app import demo
from tests.payments.helpers import CASSO_KEY, PAYOS_KEY, SEPAY_KEY, SEPAY_SECRET


@pytest.fixture
def bank_secrets_for_lineage(app, monkeypatch):
    """The bank-notification secrets, as tests/payments/conftest.py sets them."""
    for name, value in (("SEPAY_API_KEY", SEPAY_KEY), ("SEPAY_WEBHOOK_SECRET", SEPAY_SECRET),
                        ("CASSO_CHECKSUM_KEY", CASSO_KEY), ("PAYOS_CHECKSUM_KEY", PAYOS_KEY),
                        ("PRODUCTION", False)):
        monkeypatch.setitem(app.config, name, value)


@pytest.fixture
def seeded(app, monkeypatch):
    """The demo, one month of dossiers and three market days, seeded as if the 22 units were in force today."""
    monkeypatch.setitem(app.config, "DEMO_ONESTOP_MONTHS", 1)  # set for this test only (the app is the session's)
    monkeypatch.setitem(app.config, "DEMO_MARKET_DAYS", 3)
    with app.app_context():
        demo.seed(app.config["DEMO_PASSWORD"], payment_days=2)
    return app
