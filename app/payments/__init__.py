"""Payments: the payment intent and everything around it (docs/payments.md)."""


def _by_a_person(transfer) -> bool:
    """A transfer someone recorded by hand or decided about in the inbox (the bank's own notifications are not)."""
    return transfer.provider == "manual" or transfer.resolved_by_id is not None


def _declare_records() -> None:
    """What the audit trail records of payments (app/audit): the accounts money goes into, API keys, webhook URLs,
    refunds, and transfers a person recorded or decided. Intents, events, webhook deliveries, idempotency records
    and the banks' notifications are written by machines and have their own logs."""
    from flask_babel import lazy_gettext as _l

    from app import audit

    audit.track("payment_accounts", _l("Receiving account"),
                secret=("sepay_api_key", "sepay_webhook_secret", "casso_checksum_key", "payos_checksum_key"))
    audit.track("api_keys", _l("API key"), secret=("key_hash",), ignore=("last_used_at",))
    audit.track("webhook_endpoints", _l("Webhook endpoint"), secret=("secret",))
    audit.track("payment_refunds", _l("Refund"), ignore=("updated_at",),
                personal=("destination_account_number", "destination_account_name"))
    audit.track("bank_transfers", _l("Bank transfer"), when=_by_a_person,
                personal=("counter_account_number", "counter_account_name"))


_declare_records()
