"""Copying the database out and back: SQLite through its online backup API, PostgreSQL through pg_dump/pg_restore.

pg_dump reads the snapshot the manifest was computed from (``--snapshot``), so the copy and its row counts and
digests describe the same instant. The tools take the URL without its password (given in PGPASSWORD, not on a
command line that ``ps`` shows).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from app.backup.snapshot import normalise_url

FILES = {"sqlite": "database.sqlite", "postgresql": "database.pgdump"}


class DatabaseToolError(RuntimeError):
    """pg_dump or pg_restore failed (their message is kept), or is not installed."""


def sqlite_path(url: str) -> Path:
    database = make_url(normalise_url(url)).database
    if not database or database == ":memory:":
        raise DatabaseToolError("An in-memory SQLite database cannot be backed up or restored: give a file.")
    return Path(database)


def _libpq(url: str) -> tuple[str, dict]:
    parsed = make_url(normalise_url(url))
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    plain = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return plain, env


def _run(command: list[str], env: dict) -> None:
    if shutil.which(command[0]) is None:
        raise DatabaseToolError(f"{command[0]} is not installed (Debian: apt-get install postgresql-client).")
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise DatabaseToolError(f"{command[0]} failed: {(done.stderr or done.stdout).strip()[-2000:]}")


def tool_version(name: str) -> str | None:
    if shutil.which(name) is None:
        return None
    return subprocess.run([name, "--version"], capture_output=True, text=True).stdout.strip()


def copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy while the application keeps writing (pages changed during the copy
    make it start again)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def dump_postgresql(url: str, target: Path, snapshot: str | None) -> None:
    plain, env = _libpq(url)
    command = ["pg_dump", "--format=custom", "--compress=6", f"--file={target}", f"--dbname={plain}"]
    if snapshot:
        command.append(f"--snapshot={snapshot}")
    _run(command, env)


def restore_postgresql(url: str, source: Path) -> None:
    """Into an empty database (checked before): the schema, the data, the policies and triggers; ownership and grants
    are the target's (``--no-owner --no-acl``: the restoring role owns what it creates; grant the application role
    afterwards, ``--app-role``)."""
    plain, env = _libpq(url)
    _run(["pg_restore", "--no-owner", "--no-acl", "--exit-on-error", "--single-transaction", "--clean", "--if-exists",
          f"--dbname={plain}", str(source)], env)
