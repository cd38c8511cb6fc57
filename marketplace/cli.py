"""``flask marketplace expire``: unpaid sub-orders past their hold give their stock back (run it every minute)."""

import click
from flask import Flask
from flask.cli import AppGroup

marketplace_cli = AppGroup("marketplace", help="The shared marketplace.")


def register(app: Flask) -> None:
    app.cli.add_command(marketplace_cli)


@marketplace_cli.command("expire")
def expire() -> None:
    """Cancel payments past their expiry; the marketplace's held stock goes back on sale."""
    from app import transactions
    from marketplace import services

    click.echo(f"{transactions.run(services.expire_holds)} payment(s) expired.")
