"""The payment fixtures (signed bank notifications need the configured secrets) are shared with the market."""

from tests.payments.conftest import bank_secrets  # noqa: F401
