"""flask payments ...: accounts and keys, expiry, the webhook worker, and simulated transfers for demos."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.errors import DomainError
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
@click.option("--vendor", "vendor_id", type=int, default=None)
def create_account_cmd(slug, bank_bin, account_number, holder_name, label, vendor_id):
    """Create a payment account for a commune (or one of its vendors)."""
    from app.payments.accounts import create_account

    with tenant_context(_tenant(slug)):
        try:
            account = create_account(label, bank_bin, account_number, holder_name,
                                     owner_kind="vendor" if vendor_id else "commune", vendor_id=vendor_id)
        except DomainError as err:
            raise click.ClickException(str(err.message)) from None
    click.echo(f"Payment account {account.id} created.", err=True)


@payments_cli.command("create-key")
@click.option("--tenant", "slug", required=True, help="Commune slug")
@click.option("--vendor", "vendor_id", type=int, default=None, help="The vendor's account instead of the commune's")
def create_key_cmd(slug, vendor_id):
    """Print a new secret API key (and nothing else) on stdout."""
    from app.payments.accounts import create_api_key, find_account

    with tenant_context(_tenant(slug)):
        account = find_account(vendor_id)
        if account is None:
            raise click.ClickException("No active payment account; create one with `flask payments create-account`.")
        _key, secret = create_api_key(account)
    click.echo(secret)


@payments_cli.command("expire")
def expire_cmd():
    """Cancel every payment intent past its expiry."""
    from app.payments.intents import expire_due

    click.echo(f"{expire_due()} payment intents expired.")


def _refuse_in_production():
    if current_app.config.get("PRODUCTION"):
        raise click.ClickException("Simulations are refused in production.")
