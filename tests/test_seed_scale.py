"""`flask seed-scale` (app/scale.py): the synthetic national data set, loaded with COPY on PostgreSQL.

Small sizes here; the invariants are the ones the full-size run relies on: every row belongs to an existing
commune, products sit in their vendor's commune with stock >= reserved >= 0, dossier codes are unique per commune
and day with a matching day counter, and fee money adds up (a paid intent received exactly its amount).
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.extensions import db
from app.payments import vietqr
from tests.conftest import _test_settings

SIZES = dict(communes=7, products=300, dossiers=2_500, vendors=40)


@pytest.fixture(scope="module")
def owner_app(database):
    if database["kind"] != "postgresql":
        pytest.skip("seed-scale loads with COPY: PostgreSQL only")
    from app import create_app

    app = create_app(_test_settings(database["owner_url"]))
    yield app
    with app.app_context():
        db.engine.dispose()


def _invoke(app, **sizes):
    args = ["seed-scale"]
    for name, value in sizes.items():
        args += [f"--{name}", str(value)]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    return result


def _scalar(database, sql: str, **params):
    with database["owner_engine"].connect() as conn:
        return conn.execute(text(sql), params).scalar()


def _rows(database, sql: str, **params):
    with database["owner_engine"].connect() as conn:
        return conn.execute(text(sql), params).all()


@pytest.fixture
def seeded(owner_app, database):
    result = _invoke(owner_app, **SIZES)
    return result.output


def test_the_catalogue_counts_follow_a_copy(seeded, database):
    """COPY fires the per-statement trigger of migration 0013_catalogue: the kept counts equal the products."""
    kept = _rows(database, "SELECT tenant_id, category, products FROM catalogue_counts WHERE products <> 0 "
                           "ORDER BY 1, 2")
    counted = _rows(database, "SELECT p.tenant_id, p.category, count(*) FROM products p JOIN vendors v "
                              "ON v.tenant_id = p.tenant_id AND v.id = p.vendor_id WHERE p.status = 'published' "
                              "AND v.active GROUP BY 1, 2 ORDER BY 1, 2")
    assert [tuple(r) for r in kept] == [tuple(r) for r in counted] and counted


def test_counts_are_what_was_asked(seeded, database):
    assert "Scale data loaded in" in seeded
    assert _scalar(database, "SELECT count(*) FROM tenants") == SIZES["communes"]
    assert _scalar(database, "SELECT count(*) FROM vendors") == SIZES["vendors"]
    assert _scalar(database, "SELECT count(*) FROM products") == SIZES["products"]
    assert _scalar(database, "SELECT count(*) FROM onestop_dossiers") == SIZES["dossiers"]
    assert _scalar(database, "SELECT count(*) FROM onestop_procedures") == 15 * SIZES["communes"]
    # Every commune gets its share of the dossiers, and a fee account.
    shares = [n for (n,) in _rows(database, "SELECT count(d.id) FROM tenants t LEFT JOIN onestop_dossiers d "
                                            "ON d.tenant_id = t.id GROUP BY t.id")]
    assert min(shares) >= SIZES["dossiers"] // SIZES["communes"]
    assert _scalar(database, "SELECT count(DISTINCT tenant_id) FROM payment_accounts WHERE owner_kind = 'commune'") \
        == SIZES["communes"]


def test_tenants_have_unique_slugs_and_codes(seeded, database):
    assert _scalar(database, "SELECT count(DISTINCT slug) FROM tenants") == SIZES["communes"]
    assert _scalar(database, "SELECT count(DISTINCT code) FROM tenants") == SIZES["communes"]
    assert _scalar(database, "SELECT count(*) FROM tenants WHERE code !~ '^[0-9]{5}$'") == 0


def test_every_tenant_owned_row_belongs_to_an_existing_tenant(seeded, database):
    owned = [t.name for t in db.metadata.sorted_tables if "tenant_id" in t.c]
    assert {"products", "vendors", "onestop_dossiers", "payment_intents"} <= set(owned)
    for table in owned:
        orphans = _scalar(database, f"SELECT count(*) FROM {table} x LEFT JOIN tenants t ON t.id = x.tenant_id "
                                    f"WHERE t.id IS NULL AND x.tenant_id IS NOT NULL")
        assert orphans == 0, table


def test_products_sit_in_their_vendors_commune_with_stock_covering_reserved(seeded, database):
    assert _scalar(database, "SELECT count(*) FROM products p JOIN vendors v ON v.id = p.vendor_id "
                             "WHERE v.tenant_id <> p.tenant_id") == 0
    assert _scalar(database, "SELECT count(*) FROM products WHERE NOT (stock >= reserved AND reserved >= 0)") == 0
    assert _scalar(database, "SELECT count(*) FROM products WHERE name_folded = '' OR price <= 0") == 0
    assert _scalar(database, "SELECT count(*) FROM products WHERE status = 'published'") > 0


def test_every_vendor_has_one_valid_payment_account(seeded, database):
    counts = _rows(database, "SELECT v.id, count(a.id) FROM vendors v LEFT JOIN payment_accounts a "
                             "ON a.vendor_id = v.id AND a.tenant_id = v.tenant_id AND a.active GROUP BY v.id")
    assert len(counts) == SIZES["vendors"] and {n for _id, n in counts} == {1}
    from app.payments.banks import is_known_bin

    accounts = _rows(database, "SELECT bank_bin, account_number FROM payment_accounts")
    assert len(set(accounts)) == len(accounts) == SIZES["vendors"] + SIZES["communes"]
    assert all(is_known_bin(bin_) and number.isdigit() for bin_, number in accounts)


def test_dossier_codes_are_unique_per_commune_and_day_and_match_the_counters(seeded, database):
    assert _scalar(database, "SELECT count(*) FROM (SELECT tenant_id, code FROM onestop_dossiers "
                             "GROUP BY tenant_id, code HAVING count(*) > 1) dup") == 0
    # <unit code>-YYMMDD-NNNN: the commune's code and the local day the dossier was submitted.
    assert _scalar(database, """
        SELECT count(*) FROM onestop_dossiers d JOIN tenants t ON t.id = d.tenant_id
        WHERE d.code <> t.code || '-' || to_char(d.submitted_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYMMDD')
                        || '-' || split_part(d.code, '-', 3)""") == 0
    mismatched = _scalar(database, """
        SELECT count(*) FROM (
            SELECT d.tenant_id, to_date(split_part(d.code, '-', 2), 'YYMMDD') AS day,
                   count(*) AS n, max(split_part(d.code, '-', 3)::int) AS top
            FROM onestop_dossiers d GROUP BY 1, 2) per_day
        FULL JOIN onestop_dossier_counters c ON c.tenant_id = per_day.tenant_id AND c.day = per_day.day
        WHERE c.last IS NULL OR per_day.n IS NULL OR c.last <> per_day.n OR per_day.top <> per_day.n""")
    assert mismatched == 0


def test_dossiers_follow_their_procedures_and_statuses(seeded, database):
    from datetime import datetime, timezone

    from tenants.onestop import worktime

    assert _scalar(database, "SELECT count(*) FROM onestop_dossiers d JOIN onestop_procedures p "
                             "ON p.id = d.procedure_id WHERE p.tenant_id <> d.tenant_id OR p.fee <> d.fee_amount") == 0
    # Received dossiers have a due time after reception; the ones not received have none.
    assert _scalar(database, "SELECT count(*) FROM onestop_dossiers WHERE status NOT IN ('registered', 'refused') "
                             "AND (received_at IS NULL OR due_at IS NULL OR due_at <= received_at)") == 0
    assert _scalar(database, "SELECT count(*) FROM onestop_dossiers WHERE status IN ('registered', 'refused') "
                             "AND (received_at IS NOT NULL OR due_at IS NOT NULL)") == 0
    assert _scalar(database, "SELECT count(*) FROM onestop_dossiers WHERE status = 'returned' AND (finished_at "
                             "IS NULL OR returned_at < finished_at OR finished_on_time <> (finished_at <= due_at) "
                             "OR processing_minutes IS NULL)") == 0
    assert _scalar(database, "SELECT count(*) FROM onestop_dossiers WHERE status IN ('received', 'processing', "
                             "'awaiting_fee', 'registered') AND finished_at IS NOT NULL") == 0
    statuses = {s for (s,) in _rows(database, "SELECT DISTINCT status FROM onestop_dossiers")}
    assert {"returned", "processing"} <= statuses
    # The due time is the one-stop office's own rule for that procedure.
    sample = _rows(database, "SELECT d.received_at, d.due_at, p.time_unit, p.time_amount, p.same_day "
                             "FROM onestop_dossiers d JOIN onestop_procedures p ON p.id = d.procedure_id "
                             "WHERE d.received_at IS NOT NULL ORDER BY d.id LIMIT 200")
    for received, due, unit, amount, same_day in sample:
        expected = worktime.due_time(worktime.DEFAULT_SCHEDULE, received, time_unit=unit, time_amount=amount,
                                     same_day=same_day)
        assert due == expected
    assert _scalar(database, "SELECT max(submitted_at) FROM onestop_dossiers") <= datetime.now(timezone.utc)


def test_fee_money_adds_up(seeded, database):
    assert _scalar(database, "SELECT count(*) FROM payment_intents WHERE status = 'succeeded' AND "
                             "(amount_received <> amount OR succeeded_at IS NULL)") == 0
    assert _scalar(database, "SELECT count(*) FROM payment_intents WHERE status <> 'succeeded' AND "
                             "amount_received <> 0") == 0
    # Paid by VietQR: a succeeded intent of the dossier's commune, on its fee account, for exactly the fee.
    assert _scalar(database, """
        SELECT count(*) FROM onestop_dossiers d
        LEFT JOIN payment_intents i ON i.id = d.fee_intent_id AND i.tenant_id = d.tenant_id
        LEFT JOIN payment_accounts a ON a.id = i.account_id AND a.tenant_id = d.tenant_id
        WHERE d.fee_method = 'vietqr' AND (i.id IS NULL OR i.status <> 'succeeded' OR i.amount <> d.fee_amount
              OR a.owner_kind <> 'commune' OR i.purpose <> 'onestop_fee' OR d.fee_paid_at IS NULL)""") == 0
    assert _scalar(database, "SELECT count(*) FROM onestop_dossiers d JOIN payment_intents i ON i.id = "
                             "d.fee_intent_id WHERE d.status = 'awaiting_fee' AND (i.status <> "
                             "'requires_payment_method' OR d.fee_paid_at IS NOT NULL)") == 0
    assert _scalar(database, "SELECT count(*) FROM onestop_dossiers WHERE fee_method = 'cash' AND "
                             "(fee_intent_id IS NOT NULL OR fee_paid_at IS NULL)") == 0
    assert _scalar(database, "SELECT count(*) FROM onestop_dossiers WHERE fee_amount = 0 AND "
                             "(fee_method IS NOT NULL OR fee_intent_id IS NOT NULL)") == 0
    assert _scalar(database, "SELECT count(*) FROM payment_intents WHERE status = 'succeeded'") > 0
    # Each intent's VietQR names its account, its amount and its reference code.
    for payload, bin_, number, amount, reference in _rows(database, """
            SELECT i.qr_payload, a.bank_bin, a.account_number, i.amount, i.reference_code
            FROM payment_intents i JOIN payment_accounts a ON a.id = i.account_id ORDER BY i.id LIMIT 50"""):
        decoded = vietqr.decode(payload)
        assert (decoded.bin, decoded.account, decoded.amount, decoded.memo) == (bin_, number, amount, reference)


def test_a_second_run_adds_communes_without_collisions(seeded, owner_app, database):
    _invoke(owner_app, communes=3, products=20, dossiers=90, vendors=4)
    assert _scalar(database, "SELECT count(*) FROM tenants") == SIZES["communes"] + 3
    assert _scalar(database, "SELECT count(*) FROM onestop_dossiers") == SIZES["dossiers"] + 90
    accounts = _rows(database, "SELECT bank_bin, account_number FROM payment_accounts")
    assert len(set(accounts)) == len(accounts)


def test_the_application_role_is_refused(app, database):
    if database["kind"] != "postgresql":
        pytest.skip("PostgreSQL only")
    result = app.test_cli_runner().invoke(args=["seed-scale", "--communes", "2", "--dossiers", "10"])
    assert result.exit_code != 0 and "BYPASSRLS" in result.output
    assert _scalar(database, "SELECT count(*) FROM tenants") == 0


def test_sqlite_is_refused_with_a_clear_message(app, database):
    if database["kind"] != "sqlite":
        pytest.skip("SQLite only")
    result = app.test_cli_runner().invoke(args=["seed-scale", "--communes", "2", "--dossiers", "10"])
    assert result.exit_code != 0 and "PostgreSQL only" in result.output


def test_the_rls_policy_lets_postgres_estimate_cross_commune_reads(seeded, database):
    """Under the application role, reading across communes is estimated at (nearly) the whole table, and one
    commune's read at about its share: the policy's bounds fold at planning time (tenants/rls.py). With the former
    "tenant_id = <setting> OR <flag>" form the estimate was 0.5 % of the table and cross-commune pages chose
    nested loops over every vendor."""
    from sqlalchemy import create_engine

    with database["owner_engine"].begin() as conn:
        conn.execute(text("ANALYZE products"))
    engine = create_engine(database["app_url"])
    try:
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL app.all_tenants = 'on'"))
            plan = conn.execute(text("EXPLAIN (FORMAT JSON) SELECT id FROM products")).scalar()
            assert plan[0]["Plan"]["Plan Rows"] >= 0.9 * SIZES["products"]
            assert conn.execute(text("SELECT count(*) FROM products")).scalar() == SIZES["products"]
        tenant_id = _scalar(database, "SELECT tenant_id FROM products GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
        with engine.begin() as conn:
            conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)})
            plan = conn.execute(text("EXPLAIN (FORMAT JSON) SELECT id FROM products")).scalar()
            mine = conn.execute(text("SELECT count(*) FROM products")).scalar()
            assert mine == _scalar(database, "SELECT count(*) FROM products WHERE tenant_id = :t", t=tenant_id)
            assert plan[0]["Plan"]["Plan Rows"] < SIZES["products"] / 2
    finally:
        engine.dispose()
