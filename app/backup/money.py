"""The money-invariants check after a restore: ``flask payments check`` (task "payments", issue #15), run against the
restored database by the restore command.

This is the one hook: when the installed payments package has no ``check`` command yet, the restore says so and
goes on (exit 0); once it has, a failing check fails the restore (exit 1). ``run_money_check`` runs the command
in-process with an application bound to the restored database.
"""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass

import click

UNAVAILABLE, PASSED, FAILED = "unavailable", "passed", "failed"


@dataclass(frozen=True)
class MoneyCheck:
    status: str
    output: str


def payments_check_command(app) -> click.Command | None:
    """``flask payments check`` as the application registered it (the core names no domain's module)."""
    group = app.cli.commands.get("payments")
    return group.commands.get("check") if isinstance(group, click.Group) else None


def run_money_check(restored_app) -> MoneyCheck:
    """``flask payments check`` on ``restored_app``'s database: its exit code and what it printed."""
    from flask.cli import ScriptInfo

    command = payments_check_command(restored_app)
    if command is None:
        return MoneyCheck(UNAVAILABLE, "flask payments check is not installed in this version: the money invariants "
                                       "were not checked.")
    out = io.StringIO()
    try:
        with redirect_stdout(out), redirect_stderr(out):
            code = command.main(args=[], prog_name="flask payments check", standalone_mode=False,
                                obj=ScriptInfo(create_app=lambda: restored_app))
    except click.ClickException as err:
        return MoneyCheck(FAILED, out.getvalue() + err.format_message())
    except SystemExit as err:
        code = err.code
    return MoneyCheck(PASSED if not code else FAILED, out.getvalue())
