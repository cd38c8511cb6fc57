"""Whole backups: ``create`` writes a folder with the database, the uploaded files and a manifest; ``check`` proves a
folder intact; ``restore`` puts it back into an empty database and storage and proves the result identical.

A backup folder (docs/operations.md, "Backups")::

    manifest.json        format, time, schema revision, every table's rows and digest, every file's size and
                         digest, the database copy's digest, the audit chains' heads
    database.sqlite      SQLite's online backup of the database, or
    database.pgdump      pg_dump's custom format, read from the snapshot the manifest describes
    files/<key>          each uploaded file under its storage key
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from app import storage
from app.audit.models import AuditHead
from app.backup import database, files, snapshot
from app.clock import utcnow

FORMAT, VERSION = "gialam-backup", 1
MANIFEST = "manifest.json"


class BackupError(RuntimeError):
    """Refused or failed, with a message for the operator."""


@dataclass
class Outcome:
    manifest: dict
    seconds: float
    problems: list[str] = field(default_factory=list)


def _empty_folder(path: Path) -> None:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise BackupError(f"{path} already exists and is not an empty folder: a backup never overwrites anything.")
    path.mkdir(parents=True, exist_ok=True)


def _heads(conn) -> dict[str, dict]:
    rows = conn.execute(select(AuditHead.tenant_id, AuditHead.last_seq, AuditHead.last_digest)).all()
    return {str(tenant_id or 0): {"seq": seq, "digest": digest} for tenant_id, seq, digest in rows}


def create(url: str, target: Path, metadata) -> Outcome:
    """Back up the database at ``url`` and every stored file into the folder ``target`` (new or empty)."""
    started = time.perf_counter()
    _empty_folder(target)
    kind = snapshot.dialect_of(url)
    if kind not in database.FILES:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {kind}.")
    copy = target / database.FILES[kind]
    if kind == "sqlite":
        database.copy_sqlite(database.sqlite_path(url), copy)
        engine = snapshot.engine_for(f"sqlite:///{copy}")
        try:
            with engine.connect() as conn:
                tables, revision, heads = snapshot.summaries(conn, metadata), snapshot.revision(conn), _heads(conn)
        finally:
            engine.dispose()
    else:
        engine = snapshot.engine_for(url)
        try:
            with snapshot.repeatable_read(engine) as (conn, exported):
                database.dump_postgresql(url, copy, exported)
                tables, revision, heads = snapshot.summaries(conn, metadata), snapshot.revision(conn), _heads(conn)
        finally:
            engine.dispose()
    stored = files.copy_out(storage.keys(), target / "files")
    manifest = {
        "format": FORMAT, "version": VERSION, "created_at": utcnow().isoformat(timespec="seconds"),
        "database": {"dialect": kind, "file": copy.name, "size": copy.stat().st_size,
                     "sha256": files.file_sha256(copy), "revision": revision,
                     "tool": database.tool_version("pg_dump") if kind == "postgresql" else "sqlite3 backup API"},
        "tables": tables,
        "files": stored,
        "audit_heads": heads,
    }
    (target / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return Outcome(manifest, time.perf_counter() - started)


def read_manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise BackupError(f"{folder} has no readable {MANIFEST}: {err}") from None
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise BackupError(f"{folder} is not a backup this version can read ({manifest.get('format')!r}, "
                          f"version {manifest.get('version')!r}).")
    return manifest


def check(folder: Path) -> tuple[dict, list[str]]:
    """The manifest, and what in the folder does not match it (the database copy, every file)."""
    manifest = read_manifest(folder)
    problems = []
    copy = folder / manifest["database"]["file"]
    if not copy.is_file():
        problems.append(f"the database copy {copy.name} is missing")
    elif files.file_sha256(copy) != manifest["database"]["sha256"]:
        problems.append(f"the database copy {copy.name} does not match its digest")
    problems += files.check(folder / "files", manifest["files"])
    return manifest, problems


def compare(manifest: dict, tables: dict[str, dict]) -> list[str]:
    """Differences between the manifest's tables and a database's."""
    problems = []
    for name, expected in manifest["tables"].items():
        found = tables.get(name)
        if found is None:
            problems.append(f"table {name} is missing")
        elif found["rows"] != expected["rows"]:
            problems.append(f"table {name}: {found['rows']} rows, the backup has {expected['rows']}")
        elif found["sha256"] != expected["sha256"]:
            problems.append(f"table {name}: the rows differ from the backup's")
    return problems


def restore(folder: Path, url: str, metadata) -> Outcome:
    """Restore into the empty database at ``url`` and the app's (empty) storage, then compare with the manifest.
    Refuses before touching anything when the backup is damaged or the target holds anything."""
    started = time.perf_counter()
    manifest, problems = check(folder)
    if problems:
        raise BackupError("The backup is damaged: " + "; ".join(problems))
    kind = snapshot.dialect_of(url)
    if kind != manifest["database"]["dialect"]:
        raise BackupError(f"This backup is of a {manifest['database']['dialect']} database; the target is {kind}.")
    engine = snapshot.engine_for(url)
    try:
        if kind == "sqlite" and not database.sqlite_path(url).exists():
            busy = None
        else:
            busy = snapshot.first_nonempty_table(engine)
        if busy is not None:
            raise BackupError(f"The target database is not empty (table {busy} has rows): restore only into an empty "
                              "database.")
        stored = next(iter(storage.keys()), None)
        if stored is not None:
            raise BackupError(f"The target storage is not empty (it has {stored}): restore only into empty storage.")
        copy = folder / manifest["database"]["file"]
        if kind == "sqlite":
            engine.dispose()
            database.copy_sqlite(copy, database.sqlite_path(url))
        else:
            database.restore_postgresql(url, copy)
        files.copy_in(folder / "files", manifest["files"])
        engine.dispose()
        with engine.connect() as conn:
            problems = compare(manifest, snapshot.summaries(conn, metadata))
            if snapshot.revision(conn) != manifest["database"]["revision"]:
                problems.append("the schema revision differs from the backup's")
        problems += files.check_stored(manifest["files"])
    finally:
        engine.dispose()
    return Outcome(manifest, time.perf_counter() - started, problems)


def scratch_folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="gialam-backup-"))


def remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
