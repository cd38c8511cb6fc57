"""What a database holds, table by table, from the SQLAlchemy metadata: row counts and digests of the rows.

The digest of a table is the SHA-256 of its rows in primary-key order, each as canonical JSON: two databases of the
same kind holding the same rows give the same digests, so a restore is checked row for row, not only counted. Every
table of the schema is covered, whichever domain (or branch) added it. Reads run through a connection of their own
that sees every commune (``app.all_tenants`` on PostgreSQL: a backup is the whole district's).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Table, create_engine, event, inspect, select, text
from sqlalchemy.engine import Connection, Engine, make_url

from app.audit.trail import jsonable

ALEMBIC_TABLE = "alembic_version"


def normalise_url(url: str) -> str:
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def dialect_of(url: str) -> str:
    return make_url(normalise_url(url)).get_backend_name()


def engine_for(url: str) -> Engine:
    """An engine of its own (outside the app's session and hooks) that reads and writes across every commune."""
    engine = create_engine(normalise_url(url), pool_pre_ping=True)
    if engine.dialect.name == "postgresql":
        @event.listens_for(engine, "connect")
        def _every_commune(dbapi_connection, record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT set_config('app.all_tenants', 'on', false)")
            cursor.close()
            dbapi_connection.commit()
    return engine


def tables(metadata) -> list[Table]:
    """Every table of the schema, parents before children."""
    return list(metadata.sorted_tables)


def _order(table: Table) -> list:
    columns = list(table.primary_key.columns) or list(table.columns)
    return columns


def rows_of(conn: Connection, table: Table, where=None) -> Iterator[tuple]:
    query = select(table).order_by(*_order(table))
    if where is not None:
        query = query.where(where)
    yield from conn.execute(query.execution_options(yield_per=5000))  # on the statement: the connection is shared


def row_json(table: Table, row) -> dict:
    return {column.name: jsonable(value) for column, value in zip(table.columns, row, strict=True)}


def summarise(conn: Connection, table: Table, where=None) -> dict:
    digest, count = hashlib.sha256(), 0
    for row in rows_of(conn, table, where):
        count += 1
        digest.update(json.dumps(row_json(table, row), sort_keys=True, ensure_ascii=False,
                                 separators=(",", ":")).encode("utf-8"))
        digest.update(b"\n")
    return {"rows": count, "sha256": digest.hexdigest()}


def summaries(conn: Connection, metadata) -> dict[str, dict]:
    """{table: {"rows": n, "sha256": hex}} for every table of the schema."""
    return {table.name: summarise(conn, table) for table in tables(metadata)}


def revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table(ALEMBIC_TABLE):
        return None
    return conn.execute(text(f"SELECT version_num FROM {ALEMBIC_TABLE}")).scalar()


def first_nonempty_table(engine: Engine) -> str | None:
    """The first table of the database (any table, not only the schema's) holding a row; None when it is empty."""
    with engine.connect() as conn:
        for name in sorted(inspect(conn).get_table_names()):
            if name == ALEMBIC_TABLE:
                continue
            quoted = conn.dialect.identifier_preparer.quote(name)
            if conn.execute(text(f"SELECT 1 FROM {quoted} LIMIT 1")).first() is not None:
                return name
    return None


@contextmanager
def repeatable_read(engine: Engine) -> Iterator[tuple[Connection, str | None]]:
    """A connection reading one consistent snapshot; on PostgreSQL its exported id, for pg_dump --snapshot."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar()
                yield conn, snapshot
        else:
            with conn.begin():
                yield conn, None
