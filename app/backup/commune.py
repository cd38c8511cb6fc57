"""A commune's archive: everything it owns (its records, its files, its audit trail), to hand over when it leaves
the platform or is reorganised, and to import back: into an empty database, or as that commune into a database that
does not have it. Format: docs/operations.md ("A commune's archive").

Driven by the metadata: the commune's row, every row of every table with a ``tenant_id`` equal to its id, and the
rows of tables without one (accounts, guest orders, other communes) that those rows point to ("shared" rows). On
import, ids are kept when the target has none of them, else shifted past the target's (per table, the same shift for
the references to them); shared rows are matched by their natural key (an account's email, an order's code, a
commune's slug) and reused when the target has them; the ids inside storage keys follow (app/backup/keys.py). Rows
the database derives itself (counts kept by triggers) are compared, not inserted: tables no foreign key points to
are imported last, after what they are derived from. The audit trail is imported as it was: its entries speak of the
ids of their time (the import is recorded with the shifts it applied), and its chain verifies unchanged.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from sqlalchemy import JSON, Date, DateTime, Integer, Table, Time, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from app import storage
from app.backup import files, keys
from app.backup.snapshot import engine_for, revision, row_json, rows_of
from app.clock import utcnow

FORMAT, VERSION = "gialam-commune", 1
TENANTS = "tenants"


class ArchiveError(RuntimeError):
    """Refused or failed, with a message for the operator."""


def _int_pk(table: Table) -> str | None:
    columns = list(table.primary_key.columns)
    if len(columns) == 1 and isinstance(columns[0].type, Integer):
        return columns[0].name
    return None


def natural_key(table: Table) -> str | None:
    """The column that names a shared row outside this database (a single-column unique key other than the id)."""
    for column in table.columns:
        if column.unique and not column.primary_key:
            return column.name
    for constraint in table.constraints:
        names = [c.name for c in getattr(constraint, "columns", [])]
        if type(constraint).__name__ == "UniqueConstraint" and len(names) == 1:
            return names[0]
    return None


def owned(table: Table) -> bool:
    return table.name == TENANTS or "tenant_id" in table.c


def import_order(metadata) -> list[Table]:
    """Parents first; tables nothing points to last (what triggers derive comes after what it is derived from)."""
    ordered = list(metadata.sorted_tables)
    pointed_to = {fk.column.table.name for t in ordered for fk in t.foreign_keys}
    return [t for t in ordered if t.name in pointed_to] + [t for t in ordered if t.name not in pointed_to]


def _references(table: Table):
    """(column, referenced table) of each single-column foreign key."""
    for fk in table.foreign_keys:
        yield fk.parent.name, fk.column.table


# ------------------------------------------------------------------------------------------------------ export

@dataclass
class Selection:
    tenant: dict
    rows: dict[str, list[dict]] = field(default_factory=dict)  # table -> rows as JSON values
    shared: set[str] = field(default_factory=set)  # tables whose rows are only referenced


def select_commune(conn, metadata, slug: str | None = None, tenant_id: int | None = None) -> Selection:
    tenants = metadata.tables[TENANTS]
    condition = tenants.c.slug == slug if slug is not None else tenants.c.id == tenant_id
    found = conn.execute(select(tenants).where(condition)).first()
    if found is None:
        raise ArchiveError(f"No commune {slug or tenant_id!r} in this database.")
    tenant = row_json(tenants, found)
    chosen = Selection(tenant)
    for table in metadata.sorted_tables:
        if table.name == TENANTS:
            chosen.rows[TENANTS] = [tenant]
        elif "tenant_id" in table.c:
            chosen.rows[table.name] = [row_json(table, row) for row in rows_of(conn, table, table.c.tenant_id ==
                                                                                 tenant["id"])]
    # Rows of tables without a commune that the commune's rows point to, and what those point to, until none is new.
    wanted: dict[str, set] = defaultdict(set)
    pending = list(chosen.rows)
    while pending:
        name = pending.pop()
        table = metadata.tables[name]
        for column, target in _references(table):
            if owned(target) and target.name != TENANTS:
                continue
            for row in chosen.rows.get(name, ()):
                value = row.get(column)
                if value is not None and not (target.name == TENANTS and value == tenant["id"]):
                    wanted[target.name].add(value)
        for target_name, ids in list(wanted.items()):
            target = metadata.tables[target_name]
            key = _int_pk(target)
            have = {row[key] for row in chosen.rows.get(target_name, ())} if key else set()
            missing = sorted(ids - have)
            if not missing or key is None:
                continue
            found_rows = []
            for start in range(0, len(missing), 500):
                found_rows += [row_json(target, r) for r in conn.execute(
                    select(target).where(target.c[key].in_(missing[start:start + 500])))]
            chosen.rows.setdefault(target_name, []).extend(found_rows)
            chosen.rows[target_name].sort(key=lambda r: r[key])
            if target_name != TENANTS or any(r[key] != tenant["id"] for r in found_rows):
                chosen.shared.add(target_name)
            pending.append(target_name)
    return chosen


def _jsonl(rows: list[dict]) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n" for row in rows).encode("utf-8")


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(utcnow().timestamp()), 0o600
    archive.addfile(info, io.BytesIO(data))


def commune_files(tenant_id: int) -> list[str]:
    found = []
    for prefix in keys.prefixes(tenant_id):
        found += [key for key in storage.keys(prefix) if keys.commune_of(key) == tenant_id]
    return sorted(set(found))


def export(url: str, slug: str, target: Path, metadata) -> dict:
    """Write the commune's archive (a .tar.gz) to ``target`` (which must not exist)."""
    if target.exists():
        raise ArchiveError(f"{target} already exists: an export never overwrites anything.")
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            chosen = select_commune(conn, metadata, slug=slug)
            schema = revision(conn)
    finally:
        engine.dispose()
    tenant = chosen.tenant
    manifest = {"format": FORMAT, "version": VERSION, "exported_at": utcnow().isoformat(timespec="seconds"),
                "schema_revision": schema,
                "commune": {k: tenant[k] for k in ("id", "slug", "name", "kind", "code", "status")},
                "tables": {}, "files": []}
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with tarfile.open(partial, "w:gz") as archive:
        for table in metadata.sorted_tables:
            rows = chosen.rows.get(table.name)
            if not rows:
                continue
            data = _jsonl(rows)
            _add(archive, f"tables/{table.name}.jsonl", data)
            manifest["tables"][table.name] = {"rows": len(rows), "sha256": hashlib.sha256(data).hexdigest(),
                                              "shared": table.name in chosen.shared}
        for key in commune_files(tenant["id"]):
            data = storage.load(key)
            _add(archive, f"files/{key}", data)
            manifest["files"].append(files.described(key, data))
        _add(archive, "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"))
    partial.rename(target)
    return manifest


# ------------------------------------------------------------------------------------------------------ import

def _decode(column, value):
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(kind, Date):
        return date.fromisoformat(value)
    if isinstance(kind, Time):
        return time.fromisoformat(value)
    if isinstance(kind, JSON):
        return value
    return value


@dataclass
class Imported:
    manifest: dict
    tenant_id: int
    shifts: dict[str, int]  # table -> what was added to its ids (0: kept)
    matched: dict[str, int]  # shared table -> rows reused from the target
    problems: list[str] = field(default_factory=list)


def read_archive(path: Path, folder: Path) -> dict:
    """Unpack ``path`` into ``folder`` and check every part against the manifest."""
    try:
        with tarfile.open(path, "r:gz") as archive:
            archive.extractall(folder, filter="data")
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, tarfile.TarError) as err:
        raise ArchiveError(f"{path} is not a readable commune archive: {err}") from None
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise ArchiveError(f"{path} is not a commune archive this version can read.")
    problems = []
    for name, described in manifest["tables"].items():
        part = folder / "tables" / f"{name}.jsonl"
        if not part.is_file() or hashlib.sha256(part.read_bytes()).hexdigest() != described["sha256"]:
            problems.append(f"tables/{name}.jsonl does not match its digest")
    problems += files.check(folder / "files", manifest["files"])
    if problems:
        raise ArchiveError("The archive is damaged: " + "; ".join(problems))
    return manifest


def _rows(folder: Path, name: str) -> list[dict]:
    part = folder / "tables" / f"{name}.jsonl"
    if not part.is_file():
        return []
    return [json.loads(line) for line in part.read_text(encoding="utf-8").splitlines() if line]


class _Ids:
    """Old id -> new id, per table."""

    def __init__(self):
        self.maps: dict[str, dict[int, int | None]] = defaultdict(dict)

    def new(self, table: str, old: int):
        mapped = self.maps[table]
        if old not in mapped:
            raise ArchiveError(f"the archive points to {table} #{old}, which it does not hold")
        return mapped[old]


def import_archive(path: Path, url: str, metadata) -> Imported:
    with tempfile.TemporaryDirectory(prefix="gialam-commune-") as scratch:
        folder = Path(scratch)
        manifest = read_archive(path, folder)
        engine = engine_for(url)
        try:
            return _import(folder, manifest, engine, metadata)
        finally:
            engine.dispose()


def _shift(conn, table: Table, key: str, olds: list[int]) -> int:
    """0 when the target has none of these ids, else enough to place them all after its own."""
    if not olds:
        return 0
    low, high = min(olds), max(olds)
    taken = conn.execute(select(func.count()).select_from(table).where(table.c[key].between(low, high))).scalar()
    if not taken:
        return 0
    top = conn.execute(select(func.max(table.c[key]))).scalar() or 0
    return top + 1 - low


def _import(folder: Path, manifest: dict, engine, metadata) -> Imported:
    ids, shifts, matched, inserted = _Ids(), {}, defaultdict(int), {}
    commune = manifest["commune"]
    storage_rename = None
    with engine.begin() as conn:
        schema = revision(conn)
        if schema != manifest["schema_revision"]:
            raise ArchiveError(f"The archive is of schema {manifest['schema_revision']}, this database is at {schema}: "
                               "import with the version of the application that matches the archive.")
        tenants = metadata.tables[TENANTS]
        if conn.execute(select(tenants.c.id).where(tenants.c.slug == commune["slug"])).first() is not None:
            raise ArchiveError(f"This database already has the commune {commune['slug']!r}.")
        for table in import_order(metadata):
            rows = _rows(folder, table.name)
            if not rows:
                continue
            key = _int_pk(table)
            shared = manifest["tables"][table.name].get("shared") and not (
                table.name == TENANTS and len(rows) == 1 and rows[0]["id"] == commune["id"])
            if table.name == TENANTS:
                own = [r for r in rows if r["id"] == commune["id"]]
                others = [r for r in rows if r["id"] != commune["id"]]
                for row in others:  # another commune (a successor): the target's own, by slug, or none
                    found = conn.execute(select(tenants.c.id).where(tenants.c.slug == row["slug"])).scalar()
                    ids.maps[TENANTS][row["id"]] = found
                    matched[TENANTS] += found is not None
                rows = own
            elif shared:
                natural = natural_key(table)
                fresh = []
                for row in rows:
                    found = None
                    if natural is not None:
                        found = conn.execute(select(table.c[key]).where(table.c[natural] == row[natural])).scalar()
                    if found is not None:
                        ids.maps[table.name][row[key]] = found
                        matched[table.name] += 1
                    else:
                        fresh.append(row)
                rows = fresh
            if key is not None:
                shifts[table.name] = _shift(conn, table, key, [r[key] for r in rows])
                for row in rows:
                    ids.maps[table.name][row[key]] = row[key] + shifts[table.name]
            ready = [_translated(table, row, ids, key) for row in rows]
            if "tenant_id" in table.c and ready:
                new_tenant = ids.new(TENANTS, commune["id"])
                present = conn.execute(select(func.count()).select_from(table)
                                       .where(table.c.tenant_id == new_tenant)).scalar()
                if present:  # derived by the database from rows imported before: compare, do not insert
                    have = sorted(json.dumps(row_json(table, r), sort_keys=True) for r in
                                  rows_of(conn, table, table.c.tenant_id == new_tenant))
                    want = sorted(json.dumps(row_json(table, tuple(r[c.name] for c in table.columns)),
                                             sort_keys=True) for r in ready)
                    if have != want:
                        raise ArchiveError(f"{table.name}: the rows this database derived differ from the archive's")
                    continue
            try:
                for start in range(0, len(ready), 1000):
                    conn.execute(insert(table), ready[start:start + 1000])
            except IntegrityError as err:
                raise ArchiveError(f"{table.name}: a row conflicts with this database's ({err.orig})") from None
            inserted[table.name] = ready
        if conn.dialect.name == "postgresql":
            for name in inserted:
                key = _int_pk(metadata.tables[name])
                if key:
                    conn.execute(text(f"SELECT setval(pg_get_serial_sequence(:t, :c), "
                                      f"(SELECT coalesce(max({key}), 1) FROM {name}))"), {"t": name, "c": key})
        tenant_id = ids.new(TENANTS, commune["id"])
        storage_rename = _renamer(ids)
        problems = _compare(conn, metadata, tenant_id, inserted)
        for item in manifest["files"]:
            new_key = storage_rename(item["key"])
            if storage.exists(new_key) and files.sha256(storage.load(new_key)) != item["sha256"]:
                raise ArchiveError(f"The storage already holds another file under {new_key}.")
        if problems:
            raise ArchiveError("The import does not match the archive: " + "; ".join(problems))
    files.copy_in(folder / "files", manifest["files"], rename=storage_rename)
    problems = files.check_stored(manifest["files"], rename=storage_rename)
    return Imported(manifest, tenant_id, {k: v for k, v in shifts.items() if v}, dict(matched), problems)


def _renamer(ids: _Ids):
    def new_id(table: str, old: int) -> int:
        mapped = ids.maps.get(table, {}).get(old)
        return old if mapped is None else mapped

    return lambda key: keys.rewrite(key, new_id)


def _referenced_table(column) -> str | None:
    """The table whose id this column holds, through composite keys too (``payment_intents.tenant_id`` is part of a
    key to ``payment_accounts.tenant_id``, which is ``tenants.id``)."""
    for fk in column.foreign_keys:
        referenced = fk.column
        if _int_pk(referenced.table) == referenced.name:
            return referenced.table.name
    for fk in column.foreign_keys:
        found = _referenced_table(fk.column)
        if found is not None:
            return found
    return None


def _translated(table: Table, row: dict, ids: _Ids, key: str | None) -> dict:
    """The row for this database: its id and its references renumbered, storage keys in it rewritten."""
    rename = _renamer(ids)
    values = {}
    for column in table.columns:
        value = row.get(column.name)
        if value is not None and column.name == key:
            value = ids.new(table.name, value)
        elif value is not None and column.foreign_keys:
            target = _referenced_table(column)
            if target is not None:
                mapped = ids.maps[target]
                if value not in mapped:
                    raise ArchiveError(f"{table.name} points to {target} #{value}, which the archive does not hold")
                value = mapped[value]
        elif isinstance(value, str) and "/" in value:
            value = rename(value)
        values[column.name] = _decode(column, value)
    return values


def _compare(conn, metadata, tenant_id: int, inserted: dict[str, list[dict]]) -> list[str]:
    """The commune's rows as this database now holds them, against what was inserted."""
    problems = []
    chosen = select_commune(conn, metadata, tenant_id=tenant_id)
    for name, rows in inserted.items():
        table = metadata.tables[name]
        want = sorted(json.dumps(row_json(table, tuple(r[c.name] for c in table.columns)), sort_keys=True)
                      for r in rows)
        have_rows = chosen.rows.get(name, [])
        if not owned(table) or (name == TENANTS):
            key = _int_pk(table)
            ids = {r[key] for r in rows}
            have_rows = [r for r in have_rows if r[key] in ids]
        have = sorted(json.dumps(r, sort_keys=True) for r in have_rows)
        if have != want:
            problems.append(f"{name}: {len(have)} rows read back, {len(want)} imported, or their values differ")
    return problems
