"""Figures that stay true across a reorganisation (#18): the demo seeded as it stood on 2 January 2025 (a month of
dossiers, days of market sales and fees on both sides of the 2025-01-01 merges), then the 2025-01-01 plan applied.
A period before the date reports the 22 units as they were, with the numbers they had; a period across or after it
reports the 17 units in force at its end, each successor holding its predecessors' records (and saying so across the
date); the totals of every period are those computed before the plan. On PostgreSQL (TEST_DATABASE_URL) the same
runs as the application role under row-level security."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from app import demo
from app.district.queries import district_figures, monthly_trend
from app.extensions import db
from tenants.lineage import History, load_plan
from tenants.models import Tenant
from tenants.scoping import all_tenants

PLAN = Path(__file__).resolve().parents[3] / "app/data/reorganisations/gia-lam-2025-01-01.json"
NOW = datetime(2025, 1, 2, 3, 0, tzinfo=timezone.utc)  # 10:00 in Hà Nội, the day after the merges
BEFORE = (date(2024, 12, 1), date(2024, 12, 31))
AFTER = (date(2025, 1, 1), date(2025, 1, 31))
ACROSS = (date(2024, 12, 1), date(2025, 1, 31))
PERIODS = (BEFORE, AFTER, ACROSS)


@pytest.fixture
def seeded(app, monkeypatch):
    monkeypatch.setitem(app.config, "DEMO_ONESTOP_MONTHS", 1)
    monkeypatch.setitem(app.config, "DEMO_MARKET_DAYS", 4)
    # Markets in two units that merge (the demo's markets are all in units that stay): Đông Dư into Bát Tràng, which
    # has its own, and Kim Lan into the new Kim Đức.
    from tenants.market import demo as market_demo

    monkeypatch.setattr(market_demo, "MARKETS", (
        *market_demo.MARKETS,
        ("dong-du", "Chợ Đông Dư", "Thôn Đông Dư Hạ, xã Đông Dư", "05:00–12:00", 12, 0.5, 0.4),
        ("kim-lan", "Chợ Kim Lan", "Thôn Kim Lan, xã Kim Lan", "05:00–12:00", 8, 0.5, 0.3)))
    with app.app_context():
        demo.seed(app.config["DEMO_PASSWORD"], payment_days=4, now=NOW)
    return app


def figures_of(period) -> tuple[dict[str, dict[str, int]], dict[str, int], list]:
    data = district_figures(*period)
    trend = monthly_trend([c.tenant.id for c in data.communes], period[1], months=3, history=data.history)
    return {c.tenant.slug: dict(c.values) for c in data.communes}, data.totals, trend


def metrics(client, slug: str, period) -> dict:
    response = client.get(f"/api/c/{slug}/onestop/metrics?from={period[0]}&to={period[1]}")
    assert response.status_code == 200, (slug, period, response.status_code)
    return response.get_json()


def market(client, slug: str, period) -> dict:
    response = client.get(f"/api/c/{slug}/market/stats?from={period[0]}&to={period[1]}")
    assert response.status_code == 200, (slug, period, response.status_code)
    return response.get_json()


def test_past_figures_stay_true_after_the_plan(seeded, runner, client):
    plan = load_plan(PLAN)
    merged_into = {line.predecessor: line.successor for line in plan.lines}
    with seeded.app_context():
        before = {p: figures_of(p) for p in PERIODS}
    units, totals, _trend = before[BEFORE]
    assert len(units) == 22
    # The seed put records on both sides of the date, in the merged units too.
    assert units["dong-du"]["received"] and before[AFTER][0]["dong-du"]["received"]
    assert totals["received"] and before[AFTER][1]["received"] and totals["money_received"]
    assert before[AFTER][1]["sales"] and before[AFTER][1]["money_received"]

    own_before = {(slug, period): metrics(client, slug, period) for slug in ("dong-du", "bat-trang")
                  for period in (BEFORE, ACROSS)}
    grown = sorted({s for s in merged_into.values()} - {u.slug for u in plan.new_units})  # existing units that grow
    market_before = {(slug, period): market(client, slug, period) for slug in [*merged_into, *grown]
                     for period in (BEFORE, ACROSS)}
    assert sum(market_before[(p, BEFORE)]["sales"] for p in merged_into)
    assert own_before[("dong-du", BEFORE)]["received"] and own_before[("bat-trang", BEFORE)]["received"]

    done = runner.invoke(args=["tenants", "reorganise", str(PLAN)])
    assert done.exit_code == 0, done.output

    # A commune's own public figures: the merged Đông Dư still answers for its past, read-only, up to its last day;
    # Bát Tràng's before the date are its own, across it they include Đông Dư's and say so.
    dong_du = metrics(client, "dong-du", BEFORE)
    assert dong_du == {**own_before[("dong-du", BEFORE)], "includes_history_of": [], "merged_on": []}
    clipped = metrics(client, "dong-du", ACROSS)
    assert clipped["to"] == "2024-12-31" and clipped["received"] == dong_du["received"]
    assert metrics(client, "bat-trang", BEFORE) == {**own_before[("bat-trang", BEFORE)], "includes_history_of": [],
                                                    "merged_on": []}
    bat_trang = metrics(client, "bat-trang", ACROSS)
    assert bat_trang["received"] == (own_before[("bat-trang", ACROSS)]["received"]
                                     + own_before[("dong-du", ACROSS)]["received"])
    assert bat_trang["includes_history_of"] == ["dong-du"] and bat_trang["merged_on"] == ["2025-01-01"]
    moved = client.get("/api/c/dong-du/onestop/metrics")  # no past period asked: the successor's, as every address
    assert moved.status_code == 301 and "/api/c/bat-trang/onestop/metrics" in moved.headers["Location"]
    assert client.get("/api/c/dong-du/onestop/metrics?from=2025-01-01&to=2025-01-31").status_code == 301
    # The market's public figures the same way: each merged unit's own, a grown unit's own before the date and with
    # its predecessors' across it.
    none = {"includes_history_of": [], "merged_on": []}
    for slug in merged_into:
        assert market(client, slug, BEFORE) == {**market_before[(slug, BEFORE)], **none}, slug
        assert market(client, slug, ACROSS)["sales"] == market_before[(slug, BEFORE)]["sales"], slug
    for slug in grown:
        assert market(client, slug, BEFORE) == {**market_before[(slug, BEFORE)], **none}, slug
        across = market(client, slug, ACROSS)
        came = [p for p, s in merged_into.items() if s == slug]
        for key in ("sales", "sales_amount", "vendors", "markets", "stalls"):
            assert across[key] == market_before[(slug, ACROSS)][key] + sum(
                market_before[(p, ACROSS)][key] for p in came), (slug, key)
        assert across["includes_history_of"] == came
    assert client.get("/api/c/dong-du/market/stats?from=2024-12-31&to=2024-12-01").status_code == 400
    page = client.get("/c/dong-du/onestop/figures?from=2024-12-01&to=2025-01-31&lang=en")  # the public page too
    assert page.status_code == 200 and "31/12/2024" in page.get_data(as_text=True)
    page = client.get("/c/bat-trang/onestop/figures?from=2024-12-01&to=2025-01-31&lang=en").get_data(as_text=True)
    assert "includes the history of Đông Dư, merged on 01/01/2025" in page
    # The commune's own staff dashboard counts as its public page, and says so too.
    from tests.conftest import login

    staff = seeded.test_client()
    signed = login(staff, "admin.bat-trang@gialam.demo", seeded.config["DEMO_PASSWORD"])
    assert signed.status_code == 302, signed.get_data(as_text=True)[:2000]
    desk = staff.get("/c/bat-trang/onestop/dashboard?from=2024-12-01&to=2025-01-31&lang=en").get_data(as_text=True)
    assert "includes the history of Đông Dư, merged on 01/01/2025" in desk
    own = staff.get("/c/bat-trang/onestop/dashboard?from=2024-12-01&to=2024-12-31&lang=en").get_data(as_text=True)
    assert "includes the history of" not in own
    assert f'>{own_before[("bat-trang", BEFORE)]["received"]}<' in own.replace(".", "")

    with seeded.app_context():
        after = {p: figures_of(p) for p in PERIODS}
        # Every period: the same totals, month by month too (nothing counted twice, nothing dropped).
        for period in PERIODS:
            assert after[period][1] == before[period][1], period
            assert after[period][2] == before[period][2], period
        # Before the date: the units as they were, each with its own numbers.
        assert after[BEFORE][0] == before[BEFORE][0]
        rows = district_figures(*BEFORE).communes
        assert not any(c.includes for c in rows) and "dong-du" in {c.tenant.slug for c in rows}
        assert "kim-duc" not in {c.tenant.slug for c in rows}  # created on the date
        # Across and after the date: the 17 units in force at the period's end, a successor holding what its
        # predecessors' records count (their records dated after the date belong to it from that date).
        for period in (AFTER, ACROSS):
            units = after[period][0]
            assert len(units) == 17 and not set(units) & set(merged_into)
            for slug, values in units.items():
                came = [p for p, s in merged_into.items() if s == slug]
                for key, value in values.items():
                    expected = before[period][0].get(slug, {}).get(key, 0) + sum(before[period][0][p][key] for p in came)
                    assert value == expected, (period, slug, key)
        # Across the date a successor says whose history it holds, and when they merged; after it, nothing to say.
        across = {c.tenant.slug: c for c in district_figures(*ACROSS).communes}
        assert [t.slug for t in across["kim-duc"].includes] == ["kim-lan", "van-duc"]
        assert [t.slug for t in across["bat-trang"].includes] == ["dong-du"]
        assert across["kieu-ky"].includes == [] and across["kieu-ky"].history_note is None
        assert not any(c.includes for c in district_figures(*AFTER).communes)
        # Where each moved record came from is remembered.
        dossiers = db.metadata.tables["onestop_dossiers"]
        ids = {t.slug: t.id for t in db.session.scalars(select(Tenant))}
        with all_tenants():
            origins = set(db.session.scalars(select(dossiers.c.origin_tenant_id)
                                             .where(dossiers.c.tenant_id == ids["kim-duc"])))
            assert origins == {ids["kim-lan"], ids["van-duc"]}
            assert set(db.session.scalars(select(dossiers.c.origin_tenant_id)
                                          .where(dossiers.c.tenant_id == ids["kieu-ky"]))) == {None}

    # The public API and the dashboard's CSV say the same.
    api = client.get("/api/district/metrics?from=2024-12-01&to=2024-12-31&lang=en").get_json()
    assert len(api["communes"]) == 22 and {c["slug"]: c["received"] for c in api["communes"]} == {
        slug: v["received"] for slug, v in before[BEFORE][0].items()}
    api = client.get("/api/district/metrics?from=2024-12-01&to=2025-01-31&lang=en").get_json()
    kim_duc = next(c for c in api["communes"] if c["slug"] == "kim-duc")
    assert kim_duc["includes_history_of"] == ["kim-lan", "van-duc"]
    assert kim_duc["history_note"] == "includes the history of Kim Lan, Văn Đức, merged on 01/01/2025"
    assert api["totals"] == before[ACROSS][1]

    from tests.conftest import login

    login(client, "district@gialam.demo", seeded.config["DEMO_PASSWORD"])
    response = client.get("/district/metrics.csv?from=2024-12-01&to=2025-01-31&lang=en")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    note = rows[0].index("Note")
    by_slug = {r[1]: r for r in rows[1:-1]}
    assert by_slug["bat-trang"][note] == "includes the history of Đông Dư, merged on 01/01/2025"
    assert by_slug["kieu-ky"][note] == ""
    page = client.get("/district/?from=2024-12-01&to=2025-01-31&lang=en").get_data(as_text=True)
    assert "includes the history of Kim Lan, Văn Đức, merged on 01/01/2025" in page
    page = client.get("/district/?from=2024-12-01&to=2025-01-31&lang=vi").get_data(as_text=True)
    assert "gồm cả lịch sử của Kim Lan, Văn Đức, sáp nhập ngày 01/01/2025" in page


def test_a_records_unit_follows_the_lineage_to_the_period_end():
    """The attribution alone: A and B merge into C on 2025-01-01; C is split on 2025-07-01 into D (default) and E."""
    history = History(until={1: date(2024, 12, 31), 2: date(2024, 12, 31), 3: date(2025, 6, 30), 4: None, 5: None},
                      successors={1: [3], 2: [3], 3: [4, 5]}, predecessors={3: [1, 2], 4: [3], 5: [3]})
    assert history.unit_at(1, 4, date(2024, 12, 31)) == 1  # before the merge: its own commune
    assert history.unit_at(1, 4, date(2025, 3, 31)) == 3  # between: the merged unit
    assert history.unit_at(1, 5, date(2025, 12, 31)) == 5  # after the split: where the record went
    assert history.unit_at(1, 4, date(2025, 12, 31)) == 4
    assert history.unit_at(3, 3, date(2025, 12, 31)) == 4  # a holder not downstream: the default successor
    assert history.unit_at(7, 7, date(2020, 1, 1)) == 7  # a unit never reorganised
    assert history.merged_during(date(2024, 12, 1), date(2025, 1, 31)) == {3: [(1, date(2025, 1, 1)),
                                                                             (2, date(2025, 1, 1))]}
    assert history.merged_during(date(2024, 12, 1), date(2025, 12, 31)) == {
        4: [(1, date(2025, 1, 1)), (2, date(2025, 1, 1)), (3, date(2025, 7, 1))],
        5: [(1, date(2025, 1, 1)), (2, date(2025, 1, 1)), (3, date(2025, 7, 1))]}
    assert history.merged_during(date(2025, 1, 1), date(2025, 3, 31)) == {}
