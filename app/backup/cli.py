"""``flask backup create|check|restore`` and ``flask commune export|import`` (docs/operations.md)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.extensions import db

backup_cli = AppGroup("backup", help="Back up and restore the database and the uploaded files.")
commune_cli = AppGroup("commune", help="A commune's data as an archive: export and import.")

DATABASE_URL_HELP = ("The database (default: the application's). Backups and restores need a role that sees every "
                     "row: the owner with BYPASSRLS, or a superuser (docs/operations.md).")


def register(app: Flask) -> None:
    app.cli.add_command(backup_cli)
    app.cli.add_command(commune_cli)


def _url(option: str | None) -> str:
    return option or current_app.config["SQLALCHEMY_DATABASE_URI"]


def _tables_line(manifest: dict) -> str:
    rows = sum(t["rows"] for t in manifest["tables"].values())
    size = sum(f["size"] for f in manifest["files"])
    return (f"{len(manifest['tables'])} tables, {rows:,} rows; {len(manifest['files']):,} files, {size:,} bytes; "
            f"schema {manifest['database']['revision']}")


@backup_cli.command("create")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--database-url", default=None, help=DATABASE_URL_HELP)
def create(path: Path, database_url: str | None) -> None:
    """Write a consistent backup of the database and the uploaded files into the new folder PATH."""
    from app.backup import backups
    from app.backup.database import DatabaseToolError

    try:
        outcome = backups.create(_url(database_url), path, db.metadata)
    except (backups.BackupError, DatabaseToolError) as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"Backup written to {path} in {outcome.seconds:.1f} s: {_tables_line(outcome.manifest)}.")


@backup_cli.command("check")
@click.argument("path", type=click.Path(path_type=Path, exists=True, file_okay=False))
def check(path: Path) -> None:
    """Check that the backup in PATH is whole: the database copy and every file match the manifest."""
    from app.backup import backups

    try:
        manifest, problems = backups.check(path)
    except backups.BackupError as err:
        raise click.ClickException(str(err)) from None
    for problem in problems:
        click.echo(f"DAMAGED: {problem}", err=True)
    if problems:
        raise SystemExit(1)
    click.echo(f"The backup of {manifest['created_at']} is whole: {_tables_line(manifest)}.")


def _app_for(url: str):
    """The application bound to ``url`` (the database a command restored or imported into)."""
    from app import create_app

    if url == current_app.config["SQLALCHEMY_DATABASE_URI"]:
        return current_app._get_current_object()
    return create_app({**current_app.config, "SQLALCHEMY_DATABASE_URI": url})


def _record(url: str, action: str, tenant_id, details: dict) -> None:
    """An entry in the trail of the database at ``url`` (the command is its actor)."""
    from app import audit, transactions

    bound = _app_for(url)
    with bound.app_context():
        transactions.run(lambda: audit.record(action, tenant_id=tenant_id, details=details))
        if bound is not current_app._get_current_object():
            db.session.remove()
            db.engine.dispose()


@backup_cli.command("restore")
@click.argument("path", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--database-url", default=None, help=DATABASE_URL_HELP)
@click.option("--app-role", default=None, help="PostgreSQL: grant this application role its access afterwards "
                                               "(as `flask rls grant` does).")
def restore(path: Path, database_url: str | None, app_role: str | None) -> None:
    """Restore the backup in PATH into an empty database and empty storage, prove every table and file identical to
    the manifest, verify the audit trail, and run the money-invariants check."""
    from app import audit, transactions
    from app.audit import chain
    from app.backup import backups, money
    from app.backup.database import DatabaseToolError
    from tenants.scoping import all_tenants

    url = _url(database_url)
    try:
        outcome = backups.restore(path, url, db.metadata)
    except (backups.BackupError, DatabaseToolError) as err:
        raise click.ClickException(str(err)) from None
    for problem in outcome.problems:
        click.echo(f"MISMATCH: {problem}", err=True)
    if outcome.problems:
        raise SystemExit(1)
    click.echo(f"Restored in {outcome.seconds:.1f} s; identical to the backup: {_tables_line(outcome.manifest)}.")
    if app_role:
        from sqlalchemy import create_engine

        from app.backup.snapshot import normalise_url
        from tenants.rls import grant_app_role

        engine = create_engine(normalise_url(url))
        with engine.begin() as conn:
            grant_app_role(conn, app_role)
        engine.dispose()
        click.echo(f"Role {app_role} may read and write data again (the trail: add and read only).")
    restored = _app_for(url)
    with restored.app_context():
        with all_tenants():
            counts, breaks = chain.verify(db.session)
        db.session.rollback()
        for found in breaks:
            click.echo(f"BROKEN audit trail: {found}", err=True)
        if breaks:
            raise SystemExit(1)
        click.echo(f"Audit trail verified: {sum(counts.values()):,} entries in {len(counts)} chains.")
        details = {"backup": str(path), "created_at": outcome.manifest["created_at"],
                   "database_sha256": outcome.manifest["database"]["sha256"]}
        transactions.run(lambda: audit.record("backup_restore", tenant_id=None, details=details))
        checked = money.run_money_check(restored)
        if restored is not current_app._get_current_object():
            db.session.remove()
            db.engine.dispose()
    if checked.output.strip():
        click.echo(checked.output.rstrip())
    if checked.status == money.UNAVAILABLE:
        click.echo("WARNING: the money invariants were not checked (flask payments check is not installed).")
    elif checked.status == money.FAILED:
        click.echo("The money-invariants check FAILED on the restored database.", err=True)
        raise SystemExit(1)
    else:
        click.echo("Money invariants: flask payments check passed.")


@commune_cli.command("export")
@click.argument("slug")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--database-url", default=None, help=DATABASE_URL_HELP)
def export_commune(slug: str, path: Path, database_url: str | None) -> None:
    """Write everything the commune SLUG owns (records, files, audit trail) to the archive PATH (.tar.gz)."""
    from app.backup import commune

    url = _url(database_url)
    try:
        manifest = commune.export(url, slug, path, db.metadata)
    except commune.ArchiveError as err:
        raise click.ClickException(str(err)) from None
    rows = sum(t["rows"] for t in manifest["tables"].values())
    _record(url, "commune_export", manifest["commune"]["id"],
            {"archive": str(path), "tables": len(manifest["tables"]), "rows": rows, "files": len(manifest["files"])})
    click.echo(f"{slug}: {len(manifest['tables'])} tables, {rows:,} rows and {len(manifest['files']):,} files "
               f"written to {path}.")


@commune_cli.command("import")
@click.argument("path", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--database-url", default=None, help=DATABASE_URL_HELP)
def import_commune(path: Path, database_url: str | None) -> None:
    """Import the commune archive PATH into this database (migrated, without that commune) and its storage."""
    from sqlalchemy.orm import Session

    from app.audit import chain
    from app.backup import commune
    from app.backup.snapshot import engine_for
    from tenants.scoping import all_tenants

    url = _url(database_url)
    try:
        imported = commune.import_archive(path, url, db.metadata)
    except commune.ArchiveError as err:
        raise click.ClickException(str(err)) from None
    for problem in imported.problems:
        click.echo(f"MISMATCH: {problem}", err=True)
    if imported.problems:
        raise SystemExit(1)
    engine = engine_for(url)
    try:
        with Session(engine) as session, all_tenants():
            counts, breaks = chain.verify(session, [imported.tenant_id])
    finally:
        engine.dispose()
    for found in breaks:
        click.echo(f"BROKEN audit trail: {found}", err=True)
    if breaks:
        raise SystemExit(1)
    _record(url, "commune_import", imported.tenant_id,
            {"archive": str(path), "exported_at": imported.manifest["exported_at"], "id_shifts": imported.shifts,
             "matched": imported.matched})
    commune_ = imported.manifest["commune"]
    shifted = ", ".join(f"{table} +{shift}" for table, shift in sorted(imported.shifts.items())) or "none"
    matched = ", ".join(f"{table} {n}" for table, n in sorted(imported.matched.items())) or "none"
    click.echo(f"{commune_['slug']} imported as commune {imported.tenant_id}; ids shifted: {shifted}; existing rows "
               f"reused: {matched}; audit trail verified ({counts.get(imported.tenant_id, 0):,} entries).")
