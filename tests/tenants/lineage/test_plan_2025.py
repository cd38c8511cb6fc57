"""The 2025-01-01 plan (app/data/reorganisations/gia-lam-2025-01-01.json) applied to the seeded demo by `flask
tenants reorganise`: every count kept, the lineage recorded, a second run changes nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from app.extensions import db
from tenants.lineage import load_plan
from tenants.models import Reorganisation, ReorganisationLine, Tenant
from tenants.scoping import all_tenants

PLAN = Path(__file__).resolve().parents[3] / "app/data/reorganisations/gia-lam-2025-01-01.json"
COUNTED = ("onestop_dossiers", "onestop_ratings", "payment_intents", "bank_transfers", "market_sales", "products",
           "vendors", "stalls", "markets", "payment_accounts", "memberships", "heritage_relics", "sub_orders")


def counts() -> dict[str, int]:
    with all_tenants():
        return {name: db.session.scalar(select(func.count()).select_from(db.metadata.tables[name]))
                for name in COUNTED}


def per_tenant(table: str) -> dict[str, int]:
    t = db.metadata.tables[table]
    with all_tenants():
        rows = db.session.execute(select(Tenant.slug, func.count()).join(t, t.c.tenant_id == Tenant.id)
                                  .group_by(Tenant.slug)).all()
    return dict(rows)


def sums() -> dict[str, int]:
    tables = db.metadata.tables
    with all_tenants():
        return {
            "paid": db.session.scalar(select(func.coalesce(func.sum(tables["payment_intents"].c.amount_received), 0))),
            "sales": db.session.scalar(select(func.coalesce(func.sum(tables["market_sales"].c.amount), 0))),
        }


def old_code(slug: str) -> str:
    dossiers = db.metadata.tables["onestop_dossiers"]
    with all_tenants():
        return db.session.scalar(select(dossiers.c.code).join(Tenant, Tenant.id == dossiers.c.tenant_id)
                                 .where(Tenant.slug == slug).order_by(dossiers.c.id.desc()).limit(1))


def test_the_plan_keeps_every_count_and_a_second_run_changes_nothing(seeded, runner, client):
    with seeded.app_context():
        codes = {slug: old_code(slug) for slug in ("dong-du", "duong-ha", "kim-lan")}
        before, money_before = counts(), sums()
        dossiers_before = per_tenant("onestop_dossiers")
        held_before = {t: per_tenant(t) for t in ("products", "vendors", "markets", "payment_accounts", "memberships")}
        assert before["onestop_dossiers"] and before["market_sales"] and before["products"] and before["vendors"]

    from datetime import date

    from app.district.queries import district_figures

    with seeded.app_context():
        end = date.today()
        periods = [(end.replace(day=1), end), (date(2024, 1, 1), end)]
        totals_before = [district_figures(*p).totals for p in periods]

    dry = runner.invoke(args=["tenants", "reorganise", "--dry-run", str(PLAN)])
    assert dry.exit_code == 0, dry.output
    assert "dong-du -> bat-trang: would move" in dry.output and "would create thien-duc" in dry.output
    with seeded.app_context():
        assert counts() == before and db.session.scalar(select(func.count()).select_from(Reorganisation)) == 0
        assert db.session.scalar(select(func.count()).select_from(Tenant)) == 22

    done = runner.invoke(args=["tenants", "reorganise", str(PLAN)])
    assert done.exit_code == 0, done.output
    with seeded.app_context():
        assert counts() == before and sums() == money_before
        after = per_tenant("onestop_dossiers")
        assert after["thien-duc"] == dossiers_before["dinh-xuyen"] + dossiers_before["duong-ha"]
        assert after["bat-trang"] == dossiers_before["bat-trang"] + dossiers_before["dong-du"]
        assert "dong-du" not in after and "kim-lan" not in after
        # Each successor holds what its predecessors held: products (the marketplace shows the successor as their
        # commune), vendors, markets, payment accounts, staff and vendors' sign-ins.
        plan = load_plan(PLAN)
        for table, before_held in held_before.items():
            now_held = per_tenant(table)
            for succ in {line.successor for line in plan.lines}:
                expected = before_held.get(succ, 0) + sum(before_held.get(line.predecessor, 0)
                                                          for line in plan.lines if line.successor == succ)
                assert now_held.get(succ, 0) == expected, (table, succ)
            assert not any(now_held.get(line.predecessor) for line in plan.lines), table
        slugs = {t.slug: t for t in db.session.scalars(select(Tenant))}
        assert len(slugs) == 25
        assert {s for s, t in slugs.items() if t.status == "active"} == set(slugs) - {
            "dinh-xuyen", "duong-ha", "trung-mau", "kim-son", "phu-thi", "dong-du", "kim-lan", "van-duc"}
        assert len([t for t in slugs.values() if t.status == "active"]) == 17
        assert slugs["dong-du"].status == "merged" and slugs["dong-du"].successor.slug == "bat-trang"
        assert str(slugs["dong-du"].valid_until) == "2024-12-31" and str(slugs["kim-duc"].valid_from) == "2025-01-01"
        assert slugs["thien-duc"].code == slugs["duong-ha"].code == "00541"  # a code reused, two units
        event = db.session.scalar(select(Reorganisation))
        assert str(event.effective_date) == "2025-01-01" and "1286/NQ-UBTVQH15" in event.legal_basis
        assert db.session.scalar(select(func.count()).select_from(ReorganisationLine)) == 8
        snapshot = (counts(), per_tenant("onestop_dossiers"), per_tenant("memberships"))

    # The district's totals for past periods are unchanged: nothing counted twice, nothing dropped; a successor's
    # row says whose history it holds.
    with seeded.app_context():
        assert [district_figures(*p).totals for p in periods] == totals_before
        rows = {c.tenant.slug: c for c in district_figures(*periods[1]).communes}  # a period across the date
        assert len(rows) == 17 and [t.slug for t in rows["kim-duc"].includes] == ["kim-lan", "van-duc"]
        assert rows["kim-duc"].as_json()["includes_history_of"] == ["kim-lan", "van-duc"]
        # A period wholly after the date: the successor's own (tests/tenants/lineage/test_figures_history.py)
        assert not any(c.includes for c in district_figures(*periods[0]).communes)

    # The district's lineage page of a unit: before, after, what moved.
    from tests.conftest import login

    login(client, "district@gialam.demo", seeded.config["DEMO_PASSWORD"])
    page = client.get("/district/units/dong-du/lineage")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "bat-trang" in text and "1286/NQ-UBTVQH15" in text and "onestop_dossiers" in text
    assert "dong-du" in client.get("/district/units/bat-trang/lineage").get_data(as_text=True)
    assert client.get("/district/units/nowhere/lineage").status_code == 404

    # Old addresses and codes resolve to the successor: a receipt slip's look-up, the public API.
    for slug, successor in (("dong-du", "bat-trang"), ("duong-ha", "thien-duc"), ("kim-lan", "kim-duc")):
        old = client.get(f"/c/{slug}/onestop/lookup/{codes[slug]}")
        assert old.status_code == 301 and old.headers["Location"].endswith(
            f"/c/{successor}/onestop/lookup/{codes[slug]}")
        page = client.get(old.headers["Location"])
        assert page.status_code == 200 and codes[slug] in page.get_data(as_text=True)
        assert client.get(f"/api/dossiers/{codes[slug]}").status_code == 200

    # New dossiers get the successor's code, numbered on from the day counters they inherited: never a code twice,
    # though Thiên Đức reuses Dương Hà's statistics code.
    from app import transactions
    from app.clock import utcnow
    from tenants.onestop.services import next_code

    with seeded.app_context():
        thien_duc = db.session.scalar(select(Tenant).where(Tenant.slug == "thien-duc"))
        fresh = transactions.run(lambda: next_code(thien_duc.id, utcnow()))
        dossiers = db.metadata.tables["onestop_dossiers"]
        with all_tenants():
            taken = set(db.session.scalars(select(dossiers.c.code)))
        assert fresh.startswith("00541-") and fresh not in taken

    again = runner.invoke(args=["tenants", "reorganise", str(PLAN)])
    assert again.exit_code == 0 and "already applied, nothing to do" in again.output
    with seeded.app_context():
        assert (counts(), per_tenant("onestop_dossiers"), per_tenant("memberships")) == snapshot
        assert db.session.scalar(select(func.count()).select_from(Reorganisation)) == 1
        assert db.session.scalar(select(func.count()).select_from(Tenant)) == 25


def test_a_plan_that_clashes_changes_nothing_and_the_dry_run_says_why(seeded, runner, tmp_path):
    plan = tmp_path / "bad.json"
    plan.write_text('{"key": "k", "effective_date": "2025-01-01", "legal_basis": "test", "lines": ['
                    '{"predecessor": "dong-du", "successor": "bat-trang"},'
                    '{"predecessor": "nowhere", "successor": "bat-trang"}]}', encoding="utf-8")
    with seeded.app_context():
        before = counts()
    dry = runner.invoke(args=["tenants", "reorganise", "--dry-run", str(plan)])
    assert dry.exit_code == 1 and "nowhere: no such commune" in dry.output
    wet = runner.invoke(args=["tenants", "reorganise", str(plan)])
    assert wet.exit_code == 1 and "nowhere: no such commune" in wet.output
    with seeded.app_context():
        assert counts() == before
        assert db.session.scalar(select(Tenant).where(Tenant.slug == "dong-du")).status == "active"


def test_the_shipped_plan_is_the_shared_datas_merges():
    plan = load_plan(PLAN)
    import json
    shared = json.loads((PLAN.parents[1] / "gia_lam_units.json").read_text(encoding="utf-8"))["merged_2025_01_01"]
    codes = {u.slug: u.code for u in plan.new_units}
    for merge in shared:
        successors = {line.successor for line in plan.lines if line.predecessor in merge["from"]}
        assert len(successors) == 1
        succ = successors.pop()
        assert codes.get(succ, None) in (merge["into"]["code"], None)
        assert all(line.whole for line in plan.lines)
