"""Payments: the payment intent and everything around it (docs/payments.md)."""


def _by_a_person(transfer) -> bool:
    """A transfer someone recorded by hand or decided about in the inbox (the bank's own notifications are not)."""
    return transfer.provider == "manual" or transfer.resolved_by_id is not None


def _declare_records() -> None:
    """What the audit trail records of payments (app/audit): the accounts money goes into, API keys, webhook URLs,
    refunds, and transfers a person recorded or decided. Intents, events, webhook deliveries, idempotency records
    and the banks' notifications are written by machines and have their own logs."""
    from flask_babel import lazy_gettext as _l

    from app import audit, retention

    audit.track("payment_accounts", _l("Receiving account"),
                secret=("sepay_api_key", "sepay_webhook_secret", "casso_checksum_key", "payos_checksum_key"))
    audit.track("api_keys", _l("API key"), secret=("key_hash",), ignore=("last_used_at",))
    audit.track("webhook_endpoints", _l("Webhook endpoint"), secret=("secret",))
    audit.track("payment_refunds", _l("Refund"), ignore=("updated_at",),
                personal=("destination_account_number", "destination_account_name"))
    audit.track("bank_transfers", _l("Bank transfer"), when=_by_a_person,
                personal=("counter_account_number", "counter_account_name"))
    retention.rule("payments.webhook_deliveries", _l("Webhook delivery attempts"), "webhook_deliveries", days=90,
                   clock="created_at", where=lambda t: t.c.status != "pending",
                   basis=_l("Enough to answer an integrator about a delivery; the event itself is kept longer."))
    retention.rule("payments.events", _l("Payment events (the API's events)"), "payment_events", days=365,
                   clock="created_at",
                   basis=_l("Integrators read events for days (Stripe keeps them 30); the payments themselves stay."))
    retention.rule("payments.transfer_payers", _l("Payers' names and accounts in bank transfers"), "bank_transfers",
                   days=10 * 365, clock="received_at",
                   anonymise={"counter_account_name": None, "counter_account_number": None, "raw": {}},
                   basis=_l("Accounting documents are kept at least ten years (Law on Accounting 2015, article "
                            "41); the amount, time and reference stay."))


_declare_records()
