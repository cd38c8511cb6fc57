"""Every schema change is an Alembic migration: the migrated database matches the models, and the chain goes up,
all the way down and up again."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from tests.conftest import _test_settings

# uq_bank_transfers_provider_account_txn is on an expression (coalesce): autogenerate cannot compare it and says so.
# tests/payments/test_reconciliation.py and test_concurrency.py prove it on both databases.
pytestmark = pytest.mark.filterwarnings("ignore:.*expression-based index")


def schema_differences(connection) -> list:
    from app.extensions import schema_filter

    context = MigrationContext.configure(connection, opts={
        "compare_type": True, "render_as_batch": True, "include_object": schema_filter(connection.dialect.name)})
    return compare_metadata(context, db.metadata)


def test_migrated_database_matches_the_models(database):
    """The session database was built by `upgrade` alone; autogenerate must find nothing left to do."""
    with database["owner_engine"].connect() as conn:
        assert schema_differences(conn) == []


def test_migrations_have_a_single_head(app):
    from alembic.script import ScriptDirectory

    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def _round_trip(url: str) -> None:
    from flask_migrate import downgrade, upgrade

    app = create_app(_test_settings(url))
    with app.app_context():
        try:
            upgrade()
            tables = set(inspect(db.engine).get_table_names())
            assert {"tenants", "users", "memberships", "notices"} <= tables
            assert {t.name for t in db.metadata.sorted_tables} <= tables

            downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}

            upgrade()
            assert {t.name for t in db.metadata.sorted_tables} <= set(inspect(db.engine).get_table_names())
            with db.engine.connect() as conn:
                assert schema_differences(conn) == []
        finally:
            db.session.remove()
            db.engine.dispose()


def test_upgrade_downgrade_upgrade_on_a_fresh_sqlite_file(tmp_path):
    _round_trip(f"sqlite:///{tmp_path / 'fresh.sqlite'}")


def test_upgrade_downgrade_upgrade_on_a_fresh_postgresql_database(postgres, database):
    owner = make_url(database["owner_url"])
    name = f"{owner.database}_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(owner, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        _round_trip(owner.set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_0035_writes_the_vendors_13_digit_tax_codes_as_the_one_rule_stores_them(tmp_path):
    """A branch's code stored without its hyphen (the vendors' form before the one rule) is rewritten 10-3; the
    others are left alone; the downgrade takes the hyphen out again."""
    from flask_migrate import downgrade, upgrade

    app = create_app(_test_settings(f"sqlite:///{tmp_path / 'tax.sqlite'}"))
    with app.app_context():
        try:
            upgrade(revision="0027_tenant_tax_code")
            with db.engine.begin() as conn:
                conn.execute(text("INSERT INTO tenants (id, slug, name, kind, code, district_name, district_code, "
                                  "province_name, status) VALUES (1, 'xa-a', 'Xã A', 'xã', '10000', 'Gia Lâm', "
                                  "'018', 'Hà Nội', 'active')"))
                for vendor_id, code in ((1, "0101234567001"), (2, "0101234567"), (3, None)):
                    conn.execute(text(
                        "INSERT INTO vendors (id, tenant_id, kind, business_name, slug, owner_name, phone, tax_code, "
                        "goods_category, description, active, at_market) VALUES "
                        "(:id, 1, 'household', 'HKD', :slug, 'An', '0912345678', :code, 'other', '', 1, 1)"),
                        {"id": vendor_id, "slug": f"v{vendor_id}", "code": code})

            def codes():
                with db.engine.connect() as conn:
                    return [row[0] for row in conn.execute(text("SELECT tax_code FROM vendors ORDER BY id"))]

            upgrade(revision="0035_mend")
            assert codes() == ["0101234567-001", "0101234567", None]
            downgrade(revision="0027_tenant_tax_code")
            assert codes() == ["0101234567001", "0101234567", None]
        finally:
            db.session.remove()
            db.engine.dispose()
