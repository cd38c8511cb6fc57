"""``flask audit verify``: check every chain of the trail (or one commune's); exit 1 on a broken chain, saying where."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from app.extensions import db

audit_cli = AppGroup("audit", help="The audit trail (docs/operations.md).")


def register(app: Flask) -> None:
    app.cli.add_command(audit_cli)


@audit_cli.command("verify")
@click.option("--commune", "slug", default=None, help="Only this commune's chain (its slug; 'district' for the "
                                                      "district's own).")
def verify(slug: str | None) -> None:
    """Recompute every entry's digest in order; print each chain's length and last digest (keep them: a later
    verify that ends before them means entries were removed)."""
    from app.audit import chain
    from app.audit.models import AuditHead
    from tenants.models import Tenant
    from tenants.queries import get_by_slug
    from tenants.scoping import all_tenants

    only = None
    if slug == "district":
        only = [None]
    elif slug:
        tenant = get_by_slug(slug)
        if tenant is None:
            raise click.ClickException(f"No commune with the slug {slug!r}.")
        only = [tenant.id]
    with all_tenants():
        counts, breaks = chain.verify(db.session, only)
        heads = dict(db.session.execute(select(AuditHead.tenant_id, AuditHead.last_digest)).all())
        slugs = dict(db.session.execute(select(Tenant.id, Tenant.slug)).all())
    db.session.rollback()  # read only
    broken = {b.chain for b in breaks}
    for chain_id, count in counts.items():
        name = "district" if chain_id is None else slugs.get(chain_id, f"commune {chain_id}")
        state = "BROKEN" if chain_id in broken else "ok"
        digest = heads.get(chain_id, "-")
        click.echo(f"  {name:28} {count:>9,} entries  {state:6}  last {digest}")
    if not counts:
        click.echo("  The trail is empty.")
    for found in breaks:
        name = "district" if found.chain is None else slugs.get(found.chain, f"commune {found.chain}")
        click.echo(f"BROKEN {name}: {found}", err=True)
    if breaks:
        raise SystemExit(1)
    click.echo(f"Every chain verifies ({sum(counts.values()):,} entries).")
