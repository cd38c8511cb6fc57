"""Command-line entry points (flask seed-demo, flask tenants ..., flask rls ...)."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from app.errors import DomainError
from app.extensions import db

tenants_cli = AppGroup("tenants", help="Manage communes (tenants).")
rls_cli = AppGroup("rls", help="PostgreSQL row-level security helpers.")


def register(app: Flask) -> None:
    app.cli.add_command(seed_demo)
    app.cli.add_command(seed_scale)
    app.cli.add_command(tenants_cli)
    app.cli.add_command(rls_cli)
    for module in _domain_cli_modules():
        module.register(app)


def _domain_cli_modules():
    from app.audit import cli as audit_cli
    from app.backup import cli as backup_cli
    from app.notify import cli as notify_cli
    from app.payments import cli as payments_cli
    from app.retention import cli as retention_cli

    return [payments_cli, audit_cli, backup_cli, retention_cli, notify_cli]


@click.command("seed-demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has communes.")
def seed_demo(if_empty: bool) -> None:
    """Create the 22 Gia Lâm communes and demo accounts (idempotent; refused in production)."""
    from app import demo

    if current_app.config.get("PRODUCTION"):
        raise click.ClickException("seed-demo is refused in production.")
    if if_empty and not demo.is_empty():
        click.echo("Database already has communes; demo seed skipped.")
        _echo_webhook_keys()
        return
    password = current_app.config["DEMO_PASSWORD"]

    def progress(i, n, tenant, detail: str = ""):
        click.echo(f"  [{i:2}/{n}] {tenant.display_name}{detail}")

    counts = demo.seed(password, progress=progress, payment_days=current_app.config["DEMO_PAYMENT_DAYS"])
    click.echo(f"Demo ready: {counts['tenants']} communes, {counts['users']} accounts and "
               f"{counts['payments']} fee payments created.")
    click.echo(f"One-stop office: {counts.get('dossiers', 0)} demo dossiers created.")
    if counts.get("products"):
        click.echo(f"Marketplace: {counts['producers']} producers and {counts['products']} products created.")
    click.echo(f"Sign in as district@{demo.DEMO_DOMAIN}, admin.<slug>@{demo.DEMO_DOMAIN} or "
               f"officer.<slug>@{demo.DEMO_DOMAIN}; password: {password} (DEMO_PASSWORD).")
    _echo_webhook_keys()


@click.command("seed-scale")
@with_appcontext
@click.option("--communes", type=click.IntRange(1, 99_999), default=3321, show_default=True,
              help="Communes (tenants) to create.")
@click.option("--products", type=click.IntRange(0), default=200_000, show_default=True)
@click.option("--dossiers", type=click.IntRange(0), default=2_000_000, show_default=True)
@click.option("--vendors", type=click.IntRange(0), default=20_000, show_default=True)
@click.option("--sales", type=click.IntRange(0), default=1_000_000, show_default=True,
              help="Market sales at the vendors' stalls (a market in every commune).")
@click.option("--orders", type=click.IntRange(0), default=100_000, show_default=True,
              help="Marketplace orders (one sub-order per vendor).")
@click.option("--months", type=click.IntRange(1, 60), default=12, show_default=True,
              help="Months of dossiers, sales and orders, up to today.")
@click.option("--seed", "seed_value", type=int, default=766, show_default=True, help="Random seed.")
def seed_scale(communes: int, products: int, dossiers: int, vendors: int, sales: int, orders: int, months: int,
               seed_value: int) -> None:
    """Bulk-load a synthetic national data set (PostgreSQL, as the database owner; refused in production)."""
    import time

    from app import scale

    if current_app.config.get("PRODUCTION"):
        raise click.ClickException("seed-scale is refused in production.")

    def bar(label: str, length: int):
        return click.progressbar(length=max(length, 1), label=f"{label:16}", show_pos=True, show_eta=True)

    sizes = scale.Sizes(communes=communes, products=products, dossiers=dossiers, vendors=vendors, sales=sales,
                        orders=orders, months=months, seed=seed_value)
    started = time.perf_counter()
    try:  # bulk loading commits per domain (app/scale.py); a refusal leaves the unfinished one to the teardown
        report = scale.seed(sizes, prefix=current_app.config["PAYMENT_REFERENCE_PREFIX"], bar=bar)
    except scale.ScaleError as exc:
        raise click.ClickException(str(exc)) from None
    elapsed = time.perf_counter() - started
    from app.cache import bump_generation

    bump_generation()  # COPY bypasses the session hook: a running server's cached pages are stale now
    for name, count in report.counts.items():
        click.echo(f"  {name:26} {count:>12,}")
    click.echo("  " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in report.seconds.items()))
    click.echo(f"Scale data loaded in {elapsed:.1f} s ({elapsed / 60:.1f} min).")


def _echo_webhook_keys() -> None:
    """The bank-notification keys of this install (random per install in development: instance/), so a demo can
    sign its own notifications; they are never constants in the code."""
    config = current_app.config
    keys = [(name, config.get(name)) for name in ("SEPAY_API_KEY", "SEPAY_WEBHOOK_SECRET", "CASSO_CHECKSUM_KEY",
                                                  "PAYOS_CHECKSUM_KEY")]
    keys = [(name, value) for name, value in keys if value]
    if not keys:
        return
    click.echo("Bank-notification keys of this install (`flask payments simulate-transfer` signs with them):")
    for name, value in keys:
        click.echo(f"  {name}={value}")


@tenants_cli.command("list")
def tenants_list() -> None:
    from tenants.queries import list_all

    for t in list_all():
        click.echo(f"{t.id:4}  {t.code}  {t.status:8}  {t.slug:24}  {t.display_name}")


@tenants_cli.command("create")
@click.argument("name")
@click.option("--kind", type=click.Choice(["xã", "thị trấn", "phường"]), default="xã")
@click.option("--code", required=True, help="5-digit statistics code")
@click.option("--slug", default=None)
def tenants_create(name: str, kind: str, code: str, slug: str | None) -> None:
    from app import transactions
    from tenants.services import create_tenant

    try:
        tenant = transactions.run(lambda: create_tenant(name, kind, code, slug))
    except DomainError as err:
        raise click.ClickException(str(err.message)) from None
    click.echo(f"Created {tenant.display_name} at /c/{tenant.slug}/")


@tenants_cli.command("reorganise")
@click.argument("plan_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Print what would move and what needs a decision; change nothing.")
def tenants_reorganise(plan_file: str, dry_run: bool) -> None:
    """Apply an administrative reorganisation PLAN_FILE (JSON: README, "Reorganisations") in one transaction."""
    from app import transactions
    from app.cache import bump_generation
    from tenants.lineage import apply_plan, load_plan

    try:
        plan = load_plan(plan_file)
        report = transactions.run(lambda: apply_plan(plan, dry_run=dry_run))
    except DomainError as err:
        raise click.ClickException(str(err.message)) from None
    if not dry_run and not report.already_applied:
        bump_generation()  # the moves are set-based UPDATEs: every cached page may name a moved record
    for line in report.lines():
        click.echo(line)
    if dry_run and report.decisions:
        raise SystemExit(1)


@tenants_cli.command("set-tax-code")
@click.argument("slug")
@click.argument("tax_code")
def tenants_set_tax_code(slug: str, tax_code: str) -> None:
    """The commune's tax code, printed on its fee receipts."""
    from app import transactions
    from tenants.services import set_tax_code

    try:
        tenant = transactions.run(lambda: set_tax_code(slug, tax_code))
    except DomainError as err:
        raise click.ClickException(str(err.message)) from None
    click.echo(f"{tenant.display_name}: tax code {tenant.tax_code}")


@tenants_cli.command("deactivate")
@click.argument("slug")
def tenants_deactivate(slug: str) -> None:
    from app import transactions
    from tenants.services import set_status

    try:
        tenant = transactions.run(lambda: set_status(slug, "inactive"))
    except DomainError as err:
        raise click.ClickException(str(err.message)) from None
    click.echo(f"Deactivated {tenant.display_name}")


@rls_cli.command("grant")
@click.argument("role")
@click.option("--password", default=None, help="Set a login password for the role (created when missing).")
def rls_grant(role: str, password: str | None) -> None:
    """Create (if missing) a non-superuser application ROLE that cannot bypass RLS, and grant it data access."""
    from tenants.rls import grant_app_role

    if db.engine.dialect.name != "postgresql":
        raise click.ClickException("Row-level security needs PostgreSQL.")
    try:
        with db.engine.begin() as conn:
            grant_app_role(conn, role, password)
    except ValueError as err:  # not a plain identifier: refused before any SQL runs
        raise click.ClickException(str(err)) from None
    click.echo(f"Role {role} may read and write data; it cannot bypass row-level security.")
