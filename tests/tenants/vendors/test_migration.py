"""Migration 0016_vendors turns the edges around: a database of the revision before, with a vendor's bank account, a
vendor's sign-in, and an API key and a payment on that account, keeps all of them, now linked from the vendors
package (vendor_accounts, vendor_memberships); the downgrade puts the old columns back with the same links. On a
SQLite file and on a fresh PostgreSQL database."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from tests.conftest import _test_settings

BEFORE, AFTER = "0014_district", "0016_vendors"
ROWS = (
    "INSERT INTO tenants (id, slug, name, kind, code, district_name, district_code, province_name, status) "
    "VALUES (7, 'bat-trang', 'Bát Tràng', 'xã', '10102', 'Gia Lâm', '018', 'Hà Nội', 'active')",
    "INSERT INTO vendors (id, tenant_id, kind, business_name, slug, owner_name, phone, goods_category, description, "
    "active) VALUES (3, 7, 'household', 'Gốm Minh Hải', 'gom-minh-hai', 'Lê Minh Hải', '0912345678', 'ceramics', "
    "'', true)",
    "INSERT INTO payment_accounts (id, tenant_id, owner_kind, vendor_id, label, bank_bin, account_number, "
    "holder_name, active) VALUES (11, 7, 'commune', NULL, 'Phí', '970415', '113000583', 'UBND', true), "
    "(12, 7, 'vendor', 3, 'Gốm cũ', '970436', '0011000001', 'LE MINH HAI', false), "
    "(13, 7, 'vendor', 3, 'Gốm', '970436', '0011000002', 'LE MINH HAI', true)",
    "INSERT INTO api_keys (id, tenant_id, account_id, key_hash, display_prefix) "
    "VALUES (5, 7, 13, 'aa', 'sk_test_aaaa')",
    "INSERT INTO payment_intents (id, tenant_id, public_id, account_id, amount, amount_received, currency, status, "
    "reference_code, purpose, metadata, qr_payload, expires_at) VALUES (21, 7, 'pi_x', 13, 150000, 0, 'vnd', "
    "'requires_action', 'GLAAAA2222', 'market_sale', '{}', 'qr', '2030-01-01 00:00:00+00')",
    "INSERT INTO users (id, email, name, password_hash, active) VALUES (31, 'hai@bt.vn', 'Hải', 'x', true), "
    "(32, 'canbo@bt.vn', 'Cán bộ', 'x', true)",
    "INSERT INTO memberships (id, user_id, tenant_id, role, vendor_id) VALUES (41, 31, 7, 'vendor', 3), "
    "(42, 32, 7, 'officer', NULL)",
)


def _rows(sql: str) -> list[tuple]:
    return [tuple(row) for row in db.session.execute(text(sql))]


def _move_and_back(url: str) -> None:
    from flask_migrate import downgrade, upgrade

    app = create_app(_test_settings(url))
    with app.app_context():
        try:
            upgrade(revision=BEFORE)
            with db.engine.begin() as conn:
                for statement in ROWS:
                    conn.execute(text(statement))
            upgrade(revision=AFTER)
            assert _rows("SELECT tenant_id, vendor_id, account_id FROM vendor_accounts ORDER BY account_id") == [
                (7, 3, 12), (7, 3, 13)]
            assert _rows("SELECT tenant_id, vendor_id, membership_id FROM vendor_memberships") == [(7, 3, 41)]
            # What points at the rebuilt tables is all there (SQLite copies them: nothing cascaded or refused).
            assert _rows("SELECT id, account_id FROM api_keys") == [(5, 13)]
            assert _rows("SELECT id, account_id FROM payment_intents") == [(21, 13)]
            assert _rows("SELECT id, role FROM memberships ORDER BY id") == [(41, "vendor"), (42, "officer")]
            if db.engine.dialect.name == "sqlite":
                assert _rows("PRAGMA foreign_key_check") == []
                assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1  # enforced again
            db.session.commit()

            downgrade(revision=BEFORE)
            assert _rows("SELECT id, vendor_id FROM payment_accounts ORDER BY id") == [(11, None), (12, 3), (13, 3)]
            assert _rows("SELECT id, vendor_id FROM memberships ORDER BY id") == [(41, 3), (42, None)]
            assert _rows("SELECT id FROM api_keys") == [(5,)]
            db.session.commit()
            upgrade(revision=AFTER)
            assert _rows("SELECT vendor_id, account_id FROM vendor_accounts ORDER BY account_id") == [(3, 12), (3, 13)]
        finally:
            db.session.remove()
            db.engine.dispose()


def test_the_edges_move_on_a_sqlite_file(tmp_path):
    _move_and_back(f"sqlite:///{tmp_path / 'before.sqlite'}")


def test_the_edges_move_on_postgresql(database):
    if database["kind"] != "postgresql":
        pytest.skip("needs PostgreSQL (set TEST_DATABASE_URL)")
    owner = make_url(database["owner_url"])
    name = f"{owner.database}_vendors_{uuid.uuid4().hex[:8]}"
    admin = create_engine(owner, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        _move_and_back(owner.set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
