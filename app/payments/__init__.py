"""Payments: the payment intent and its QR, money in from the banks, the Stripe-compatible API (docs/payments.md).

Payments imports no domain. What it shows elsewhere it registers here: its figures on the district's dashboard
(app/district/figures.py) and its tile on a commune's desk (tenants/tiles.py).
"""


def _desk_panel():
    from flask_babel import lazy_gettext as _l

    from app.payments import stats
    from tenants import tiles

    week = stats.received_per_day(days=7)
    return [
        tiles.Figure(_l("Received today"), week[-1][1], money=True, testid="received-today"),
        tiles.Chart(_l("Money received, last 7 days"), stats.chart_rows(week), testid="desk-chart"),
    ]


def _desk_counts():
    """The inbox's count, read with the desk's other counts in one statement (tenants/tiles.py)."""
    from flask import g

    from app.payments.bank import reconciliation

    return (reconciliation.inbox_count_subquery(g.tenant.id),)


def _desk_inbox(waiting):
    from flask_babel import lazy_gettext as _l

    from tenants import tiles

    return [tiles.Figure(_l("Transfers waiting in the inbox"), waiting,
                         endpoint="reconciliation.inbox", attention=True, testid="desk-inbox")]


# Where money goes: a change of any of these is announced on the commune's desk (issue 16, item 16). The audit trail
# records each change with who and when (app/audit); the desk counts those made on the site or through the API in
# the last MONEY_NOTICE_DAYS (what a stolen session or key could do; the operator's commands are not counted).
MONEY_DESTINATIONS = ("payment_accounts", "api_keys", "webhook_endpoints")
MONEY_NOTICE_DAYS = 14


def _money_destination_changes():
    """How many changes of where money goes the commune had in the last MONEY_NOTICE_DAYS, as a scalar subquery
    (the desk reads it with its other counts in one statement)."""
    from datetime import timedelta

    from flask import g
    from sqlalchemy import func, select

    from app.audit.models import AuditEntry
    from app.clock import utcnow

    return (select(func.count()).select_from(AuditEntry).where(
        AuditEntry.tenant_id == g.tenant.id, AuditEntry.table_name.in_(MONEY_DESTINATIONS),
        AuditEntry.actor_kind.in_(("user", "api")),  # made on the site or through the API (not the operator's CLI)
        AuditEntry.at >= utcnow() - timedelta(days=MONEY_NOTICE_DAYS)).scalar_subquery(),)


def _money_destinations_panel(changes):
    from flask_babel import lazy_gettext as _l

    from tenants import tiles

    return [tiles.Figure(_l("Changes to where money goes (receiving accounts, API keys, webhooks), last 14 days"),
                         changes, attention=True, testid="money-destination-changes")]


def _district_figures(start, end):
    from app.district.figures import local_bounds
    from app.payments import stats

    return stats.district_figures(*local_bounds(start, end), by_origin=True)


def _district_monthly(start, end):
    from app.district.figures import local_bounds
    from app.payments import stats

    return stats.district_monthly(*local_bounds(start, end), by_origin=True)


def _register() -> None:
    from flask_babel import lazy_gettext as _l

    from app.district import figures
    from tenants import tiles

    from app.payments import notify  # noqa: F401  (staff hear of transfers waiting in the inbox: issue #20)

    figures.register("payments", _district_figures, figures.PAYMENTS_KEYS, monthly=_district_monthly)
    tiles.on_desk(tiles.DeskTile("payments", order=20, read=_desk_panel, counts=_desk_counts, from_counts=_desk_inbox, links=(
        tiles.Link(_l("Payments"), "reconciliation.payments", primary=True, testid="payments-link"),
        tiles.Link(_l("Reconciliation inbox"), "reconciliation.inbox"),
    )))
    tiles.on_desk(tiles.DeskTile("money_destinations", order=21, counts=_money_destination_changes,
                                 from_counts=_money_destinations_panel))


_register()


def _by_a_person(transfer) -> bool:
    """A transfer someone recorded by hand or decided about in the inbox (the bank's own notifications are not)."""
    return transfer.provider == "manual" or transfer.resolved_by_id is not None


def _declare_records() -> None:
    """What the audit trail records of payments (app/audit): the accounts money goes into, API keys, webhook URLs,
    refunds, confirmations by hand (claims), and transfers a person recorded or decided. Intents, events, webhook deliveries, idempotency records
    and the banks' notifications are written by machines and have their own logs."""
    from flask_babel import lazy_gettext as _l

    from app import audit, retention

    audit.track("payment_accounts", _l("Receiving account"),
                secret=("sepay_api_key", "sepay_webhook_secret", "casso_checksum_key", "payos_checksum_key"))
    audit.track("api_keys", _l("API key"), secret=("key_hash",), ignore=("last_used_at",))
    audit.track("webhook_endpoints", _l("Webhook endpoint"), secret=("secret",))
    audit.track("payment_refunds", _l("Refund"), ignore=("updated_at",),
                personal=("destination_account_number", "destination_account_name"))
    audit.track("payment_claims", _l("Confirmation by hand"))
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
