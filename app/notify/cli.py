"""flask notify ...: the worker, a commune's provider secrets (entered once, never shown), the outbox's state."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import func, select

notify_cli = AppGroup("notify", help="Notifications: the outbox worker, provider secrets, status.")


def register(app: Flask) -> None:
    app.cli.add_command(notify_cli)


@notify_cli.command("worker")
@click.option("--once", is_flag=True, help="Run one round and exit (tests, cron).")
@click.option("--interval", type=click.FloatRange(min=0.05), default=2.0, show_default=True)
@click.option("--limit", type=click.IntRange(1, 5000), default=100, show_default=True,
              help="Messages per round.")
def worker_cmd(once, interval, limit):
    """Send due notifications (with retries) and run the periodic producers, until SIGTERM/SIGINT."""
    from app.notify.worker import run_worker

    run_worker(once=once, interval=interval, limit=limit, echo=click.echo)


@notify_cli.command("set-secret")
@click.option("--tenant", "slug", required=True, help="Commune slug")
@click.option("--provider", type=click.Choice(["sms", "zalo"]), required=True)
def set_secret_cmd(slug, provider):
    """Store a commune's own provider credentials, encrypted (each value read from a hidden prompt)."""
    from app import transactions
    from app.errors import DomainError
    from app.notify import secrets
    from tenants.queries import get_by_slug
    from tenants.scoping import tenant_context

    tenant = get_by_slug(slug)
    if tenant is None:
        raise click.ClickException(f"No commune with slug {slug!r}.")
    values = {name: click.prompt(name, hide_input=name not in ("brandname", "app_id"), default="",
                                 show_default=False) for name in secrets.FIELDS[provider]}
    with tenant_context(tenant):
        try:
            transactions.run(lambda: secrets.store(provider, values))
        except DomainError as err:
            raise click.ClickException(str(err.message)) from None
    click.echo(f"{provider}: stored, encrypted, for {tenant.slug}. It will not be shown again.")


@notify_cli.command("status")
def status_cmd():
    """Count the outbox's messages by status and channel; list the failed ones (the report of provider errors)."""
    from app.extensions import db
    from app.notify.models import NotifyMessage
    from tenants.scoping import all_tenants

    with all_tenants():
        counts = db.session.execute(select(NotifyMessage.status, NotifyMessage.channel, func.count())
                                    .group_by(NotifyMessage.status, NotifyMessage.channel)
                                    .order_by(NotifyMessage.status, NotifyMessage.channel)).all()
        failed = db.session.execute(select(NotifyMessage.id, NotifyMessage.subject, NotifyMessage.event,
                                           NotifyMessage.channel, NotifyMessage.last_error)
                                    .where(NotifyMessage.status == "failed")
                                    .order_by(NotifyMessage.id.desc()).limit(50)).all()
    for status, channel, count in counts:
        click.echo(f"{status:>9} {channel:>6}: {count}")
    for row in failed:
        click.echo(f"failed #{row.id} {row.subject} {row.event} ({row.channel}): {row.last_error}", err=True)
