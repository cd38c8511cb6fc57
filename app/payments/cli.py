"""flask payments ...: accounts and keys, expiry, the webhook worker, and simulated transfers for demos."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app import transactions
from app.errors import DomainError
from app.payments.accounts import NOTIFICATION_SECRET_FIELDS
from tenants.queries import get_by_slug
from tenants.scoping import tenant_context

payments_cli = AppGroup("payments", help="VietQR payments: accounts, keys, expiry, webhook worker, simulations.")


def register(app: Flask) -> None:
    app.cli.add_command(payments_cli)


def _tenant(slug: str):
    tenant = get_by_slug(slug)
    if tenant is None:
        raise click.ClickException(f"No commune with slug {slug!r}.")
    return tenant


@payments_cli.command("create-account")
@click.option("--tenant", "slug", required=True, help="Commune slug")
@click.option("--bin", "bank_bin", required=True, help="6-digit bank BIN (NAPAS acquirer id)")
@click.option("--account", "account_number", required=True)
@click.option("--holder", "holder_name", required=True)
@click.option("--label", default="Tài khoản thu phí")
def create_account_cmd(slug, bank_bin, account_number, holder_name, label):
    """Create a payment account for a commune (a vendor's is made by its commune or on its Bank page)."""
    from app.payments.accounts import create_account

    with tenant_context(_tenant(slug)):
        try:
            account = transactions.run(lambda: create_account(label, bank_bin, account_number, holder_name))
        except DomainError as err:
            raise click.ClickException(str(err.message)) from None
    click.echo(f"Payment account {account.id} created.", err=True)


@payments_cli.command("create-key")
@click.option("--tenant", "slug", required=True, help="Commune slug")
@click.option("--account", "account_id", type=int, default=None,
              help="The payment account with this id (a vendor's, say) instead of the commune's")
def create_key_cmd(slug, account_id):
    """Print a new secret API key (and nothing else) on stdout."""
    from app.payments.accounts import create_api_key, find_account

    with tenant_context(_tenant(slug)):
        account = find_account(account_id)
        if account is None:
            raise click.ClickException("No active payment account; create one with `flask payments create-account`.")
        _key, secret = transactions.run(lambda: create_api_key(account))
    click.echo(secret)


@payments_cli.command("set-notification-secret")
@click.option("--tenant", "slug", required=True, help="Commune slug")
@click.option("--account", "account_id", type=int, default=None,
              help="The payment account with this id (a vendor's, say) instead of the commune's")
@click.option("--provider", type=click.Choice(sorted(NOTIFICATION_SECRET_FIELDS)), required=True)
@click.option("--clear", is_flag=True, help="Forget the account's own secret (the platform's applies again)")
def set_notification_secret_cmd(slug, account_id, provider, clear):
    """Give a payment account its own bank-notification secret (read from a hidden prompt or standard input)."""
    from app.payments.accounts import find_account, set_notification_secret

    value = None if clear else click.prompt("Secret", hide_input=True)
    with tenant_context(_tenant(slug)):
        account = find_account(account_id)
        if account is None:
            raise click.ClickException("No active payment account; create one with `flask payments create-account`.")
        try:
            transactions.run(lambda: set_notification_secret(account, provider, value))
        except DomainError as err:
            raise click.ClickException(str(err.message)) from None
    click.echo(f"{provider}: {'cleared' if clear else 'set'} for payment account {account.id}.")


@payments_cli.command("expire")
def expire_cmd():
    """Cancel every payment intent past its expiry (a held marketplace stock goes back on sale), and forget
    idempotency keys older than 24 hours. Run it every minute in production, or run the worker, which does both."""
    from app.payments import jobs

    expired, pruned = jobs.expire()
    click.echo(f"{expired} payment intents expired.")
    click.echo(f"{pruned} idempotency keys older than 24 hours pruned.")


@payments_cli.command("check")
def check_cmd():
    """List every violation of the money invariants (app/payments/checks.py); exit 1 on any. Run it nightly."""
    from app.payments.checks import violations

    found = violations()
    for line in found:
        click.echo(line)
    if found:
        click.echo(f"{len(found)} violation(s) of the money invariants.", err=True)
        raise SystemExit(1)
    click.echo("Money invariants: no violation.")


@payments_cli.command("worker")
@click.option("--once", is_flag=True, help="Run one round and exit (tests, cron).")
@click.option("--interval", type=click.FloatRange(min=0.05), default=2.0, show_default=True,
              help="Seconds to wait between rounds.")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True,
              help="Webhook deliveries per round.")
def worker_cmd(once, interval, limit):
    """Deliver due webhooks (signed, with retries) and expire overdue intents, until SIGTERM/SIGINT."""
    from app.payments.jobs import run_worker

    run_worker(once=once, interval=interval, limit=limit, echo=click.echo)


def _refuse_in_production():
    if current_app.config.get("PRODUCTION"):
        raise click.ClickException("Simulations are refused in production.")


@payments_cli.command("simulate-refund-transfer")
@click.argument("reference_code")
@click.option("--url", default=None, metavar="URL",
              help="Deliver over HTTP to this server (base URL, e.g. http://127.0.0.1:5000) instead of in-process.")
def simulate_refund_transfer_cmd(reference_code, url):
    """SIMULATE the transfer back of the refund REFERENCE_CODE (HT...): a signed SePay money-out notification.

    The refund completes as it would when the bank reports the officer's transfer. Refused in production.
    """
    from app.payments.bank.simulate import SimulationError, simulate_refund_transfer

    _refuse_in_production()
    try:
        result = simulate_refund_transfer(reference_code, url)
    except SimulationError as err:
        raise click.ClickException(str(err)) from None
    click.echo("SIMULATION - no real money moved.")
    click.echo(f"  Simulated SePay money-out notification {result['transaction_id']}: {result['amount']} VND, "
               f"text {result['content']!r}")
    click.echo(f"  Delivered to {result['delivered_to']}: HTTP {result['http_status']} {result['response']}")
    click.echo(f"  Refund {result['refund']} ({result['reference_code']}): {result['refund_status']}")


@payments_cli.command("simulate-transfer")
@click.argument("reference_code")
@click.argument("amount", type=click.IntRange(min=1), required=False)
@click.option("--url", default=None, metavar="URL",
              help="Deliver over HTTP to this server (base URL, e.g. http://127.0.0.1:5000) instead of in-process.")
def simulate_transfer_cmd(reference_code, amount, url):
    """SIMULATE a bank transfer paying REFERENCE_CODE (AMOUNT defaults to what remains to be paid).

    A signed SePay notification goes through the real /webhooks/sepay route: in-process by default (no server
    needed), or to --url. Refused in production.
    """
    from app.payments.bank.simulate import SimulationError, simulate_transfer

    _refuse_in_production()
    try:
        result = simulate_transfer(reference_code, amount, url)
    except SimulationError as err:
        raise click.ClickException(str(err)) from None
    click.echo("SIMULATION - no real money moved.")
    click.echo(f"  Simulated SePay notification {result['transaction_id']}: {result['amount']} VND "
               f"into account of {result['payment_intent']}, text {result['content']!r}")
    click.echo(f"  Delivered to {result['delivered_to']}: HTTP {result['http_status']} {result['response']}")
    click.echo(f"  Payment intent {result['payment_intent']} ({result['reference_code']}): "
               f"status {result['intent_status']}, received {result['amount_received']} of "
               f"{result['intent_amount']} VND" + (f", flagged {result['flag']}" if result["flag"] else ""))
    if not result["accepted"]:
        raise click.ClickException("The webhook did not accept the simulated notification.")


@payments_cli.command("import-statement")
@click.option("--tenant", "slug", required=True, help="Commune slug")
@click.option("--account", "account_id", type=int, default=None,
              help="Payment account id (default: the commune's own account)")
@click.argument("file", type=click.File("rb"))
def import_statement_cmd(slug, account_id, file):
    """Import a bank-statement CSV (transaction_id,date,amount,content) into a commune's payment account."""
    from app.payments.accounts import find_account, get_account
    from app.payments.bank.statement import decode_statement, import_statement

    with tenant_context(_tenant(slug)):
        try:
            account = get_account(account_id) if account_id is not None else find_account()
            if account is None:
                raise click.ClickException("No active payment account; create one with `flask payments create-account`.")
            result = import_statement(decode_statement(file.read()), account)
        except DomainError as err:
            raise click.ClickException(str(err.message)) from None
    for status, count in sorted(result.counts.items()):
        click.echo(f"{status:>17}: {count}")
    for error in result.errors:
        click.echo(f"line {error.line}: {error.message}", err=True)
    click.echo(f"{result.imported} rows recorded, {len(result.errors)} rows skipped.")
