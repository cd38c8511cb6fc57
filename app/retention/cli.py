"""``flask retention list|run`` and ``flask personal-data find|erase`` (docs/operations.md)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

retention_cli = AppGroup("retention", help="Retention periods: what is kept how long, and applying them.")
personal_cli = AppGroup("personal-data", help="A person's data: find it, erase what may be erased.")


def register(app: Flask) -> None:
    app.cli.add_command(retention_cli)
    app.cli.add_command(personal_cli)


def _record(action: str, counts: dict, details: dict) -> None:
    """One entry per commune (the district's for rows of no commune): the rule and how many rows, no values."""
    from app import audit

    for commune, rows in sorted(counts.items(), key=lambda item: (item[0] is not None, item[0] or 0)):
        audit.record(action, tenant_id=commune, details={**details, "rows": rows})


@retention_cli.command("list")
def list_rules() -> None:
    """Every declared rule: what, how long, what happens."""
    from app.retention import rules

    for rule in rules():
        what = "deleted" if rule.deletes else "anonymised (" + ", ".join(sorted(rule.anonymise)) + ")"
        click.echo(f"{rule.name:34} {rule.days:>6} days  {rule.table:20} {what}")


@retention_cli.command("run")
@click.option("--apply", "do", is_flag=True, help="Do it (without this flag, only say what is due).")
@click.option("--rule", "only", default=None, help="Only this rule (its name, see `flask retention list`).")
def run(do: bool, only: str | None) -> None:
    """Apply the retention periods: a dry run unless --apply."""
    from app import transactions
    from app.clock import utcnow
    from app.extensions import db
    from app.retention import apply, rules
    from tenants.scoping import all_tenants

    chosen = [r for r in rules() if only in (None, r.name)]
    if not chosen:
        raise click.ClickException(f"No retention rule {only!r} (see `flask retention list`).")
    now = utcnow()
    total = 0
    with all_tenants():
        for rule in chosen:
            if not do:
                found = apply.due(rule, now)
                db.session.rollback()
                total += found.total
                click.echo(f"{rule.name:34} {found.total:>9,} rows due (after {rule.days} days)")
                continue
            counts = apply.apply(rule, now)
            if counts:
                transactions.run(lambda rule=rule, counts=counts: _record(
                    "retention", counts, {"rule": rule.name, "days": rule.days,
                                          "action": "delete" if rule.deletes else "anonymise"}))
            total += sum(counts.values())
            click.echo(f"{rule.name:34} {sum(counts.values()):>9,} rows {'deleted' if rule.deletes else 'anonymised'}")
    if not do:
        click.echo(f"Dry run: {total:,} rows are due. Run again with --apply to apply the periods.")
    else:
        click.echo(f"Applied: {total:,} rows.")


def _subject(phone, email, id_number, name) -> tuple[str, str]:
    given = [(kind, value) for kind, value in (("phone", phone), ("email", email), ("id_number", id_number),
                                               ("name", name)) if value]
    if len(given) != 1:
        raise click.UsageError("Give exactly one of --phone, --email, --id-number, --name.")
    return given[0]


def _person_options(command):
    for option in (click.option("--name", default=None, help="A full name, exactly (case aside)."),
                   click.option("--id-number", default=None, help="A citizen ID (CCCD) number."),
                   click.option("--email", default=None),
                   click.option("--phone", default=None)):
        command = option(command)
    return command


@personal_cli.command("find")
@_person_options
def find(phone, email, id_number, name) -> None:
    """List every record holding this person's phone, e-mail, ID number or name (a request to see one's data)."""
    from app import transactions
    from app.extensions import db
    from app.retention import personal
    from tenants.scoping import all_tenants

    kind, value = _subject(phone, email, id_number, name)
    with all_tenants():
        found = personal.find(kind, value)
        db.session.rollback()
        counts: dict = {}
        for item in found:
            counts[item.tenant_id] = counts.get(item.tenant_id, 0) + 1
        transactions.run(lambda: _record("personal_data_search", counts or {None: 0}, {"by": kind}))
    for item in found:
        commune = f"commune {item.tenant_id}" if item.tenant_id else "no commune"
        click.echo(f"{item.table:22} #{item.record_id:<8} {commune:14} {', '.join(item.columns)}")
    click.echo(f"{len(found)} records hold this {kind.replace('_', ' ')}.")


@personal_cli.command("erase")
@_person_options
@click.option("--apply", "do", is_flag=True, help="Erase (without this flag, only say what would be).")
def erase(phone, email, id_number, name, do: bool) -> None:
    """Erase this person's data where a retention rule allows it before its time (a request to erase one's data);
    records the law requires to keep are left, and listed."""
    from app import transactions
    from app.extensions import db
    from app.retention import personal
    from tenants.scoping import all_tenants

    kind, value = _subject(phone, email, id_number, name)
    with all_tenants():
        found = personal.find(kind, value)
        outcome = personal.erasable(kind, value, do)
        db.session.rollback()
        if do:
            for rule, counts in outcome:
                transactions.run(lambda rule=rule, counts=counts: _record(
                    "personal_data_erase", counts, {"rule": rule.name, "by": kind}))
    erased = sum(sum(counts.values()) for _rule, counts in outcome)
    for rule, counts in outcome:
        click.echo(f"{rule.name:34} {sum(counts.values()):>6} rows {'erased' if do else 'erasable'}")
    click.echo(f"{len(found)} records hold this {kind.replace('_', ' ')}; {erased} "
               f"{'were erased' if do else 'can be erased (run again with --apply)'}; the others are kept: the law "
               "requires them, or the service is still under way (docs/operations.md).")
