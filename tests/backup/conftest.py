"""The seeded demo to back up (seeded once per module into a database of its own, so each test does not pay for
seeding), a new empty database to restore into (a SQLite file or a PostgreSQL database), and uploaded files in
folders of the test's own."""

from __future__ import annotations

import shutil
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.backup.snapshot import engine_for, summaries
from app.extensions import db
from tests.conftest import _test_settings

# A little history: two days of fee payments and market sales, a month of dossiers.
DEMO_HISTORY = {"DEMO_PAYMENT_DAYS": 2, "DEMO_MARKET_DAYS": 2, "DEMO_ONESTOP_MONTHS": 1}


def _new_database(database, suffix: str, folder) -> tuple[str, object]:
    """(URL, drop function) of a new empty database of the test run's kind."""
    if database["kind"] == "sqlite":
        return f"sqlite:///{folder / f'{suffix}.sqlite'}", lambda: None
    owner = make_url(database["owner_url"])
    name = f"{owner.database}_{suffix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(owner, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return owner.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="module")
def demo_source(database, tmp_path_factory):
    """`flask db upgrade`, `flask seed-demo` (with DEMO_HISTORY) and `flask backup create`, into a database and a
    folder of their own, once per module."""
    from flask_migrate import upgrade

    from app import create_app

    folder = tmp_path_factory.mktemp("demo-source")
    url, drop = _new_database(database, "demo", folder)
    app = create_app({**_test_settings(url), "UPLOAD_DIR": str(folder / "uploads"), **DEMO_HISTORY})
    try:
        with app.app_context():
            upgrade()
        runner = app.test_cli_runner()
        result = runner.invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
        backup = runner.invoke(args=["backup", "create", str(folder / "backup")])
        assert backup.exit_code == 0, backup.output
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        yield {"url": url, "uploads": folder / "uploads", "backup": folder / "backup"}
    finally:
        drop()


@pytest.fixture
def uploads(app, demo_source, tmp_path, monkeypatch):
    """The app's storage is the demo's files; ``uploads.move(name)`` points it at a new, empty folder."""
    class Folders:
        current = demo_source["uploads"]

        def move(self, name: str):
            self.current = tmp_path / name
            monkeypatch.setitem(app.config, "UPLOAD_DIR", str(self.current))
            return self.current

    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(demo_source["uploads"]))
    return Folders()


@pytest.fixture
def source_url(demo_source) -> str:
    return demo_source["url"]


@pytest.fixture
def demo_backup(demo_source, tmp_path):
    """A copy of the demo's backup (made once per module), for this test to restore or damage."""
    copy = tmp_path / "backup"
    shutil.copytree(demo_source["backup"], copy)
    return copy


@pytest.fixture
def empty_database(database, tmp_path):
    url, drop = _new_database(database, "restore", tmp_path)
    try:
        yield url
    finally:
        drop()


def table_summaries(url: str) -> dict:
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            return summaries(conn, db.metadata)
    finally:
        engine.dispose()
