"""The heritage figures: relics, boards, digitised artefacts, steles and documents, scans (per month too), on the
commune's public page and JSON (GET /api/c/<slug>/heritage/stats) and on the district dashboard."""

from __future__ import annotations

from datetime import date, timedelta

from app.extensions import db
from tenants.heritage import queries, services
from tenants.heritage.models import Board
from tenants.scoping import tenant_context
from tests.conftest import login
from tests.tenants.heritage.helpers import make_artefact, make_board, make_relic, make_stele
from tests.district.helpers import month_periods, record_builds


def scanned(app, tenant, board_id: int, day: date, times: int = 1) -> None:
    with app.app_context(), tenant_context(tenant):
        board = db.session.get(Board, board_id)
        for _ in range(times):
            services.record_scan(board, day)
        db.session.commit()


def test_the_commune_stats_count_the_register_and_the_scans(app, client, commune, make):
    relic_id = make_relic(app, commune)
    make_relic(app, commune, name="Chùa Kim Trúc", kind="chua", published=False)  # not counted: not public
    board_id = make_board(app, commune, relic_id)
    make_artefact(app, commune, relic_id, "BT-1")
    make_artefact(app, commune, relic_id, "BT-2")
    make_stele(app, commune, relic_id)
    today = queries.today()
    scanned(app, commune, board_id, today, 3)
    scanned(app, commune, board_id, today.replace(day=1) - timedelta(days=1), 2)  # last month
    other = make.tenant("kieu-ky", "Kiêu Kỵ")
    scanned(app, other, make_board(app, other, make_relic(app, other)), today, 5)  # another commune's
    response = client.get("/api/c/bat-trang/heritage/stats")
    assert response.status_code == 200 and response.headers["Access-Control-Allow-Origin"] == "*"
    data = response.get_json()
    assert {k: data[k] for k in ("relics", "boards", "artefacts", "steles", "scans")} == {
        "relics": 1, "boards": 1, "artefacts": 2, "steles": 1, "scans": 5}
    months = data["scans_per_month"]
    assert len(months) == 12 and months[-1] == {"month": today.strftime("%Y-%m"), "scans": 3}
    assert months[-2]["scans"] == 2 and sum(m["scans"] for m in months) == 5
    page = client.get("/c/bat-trang/heritage/figures?lang=en").get_data(as_text=True)
    assert 'data-testid="figure-scans">5<' in page and 'data-testid="scans-chart"' in page


def test_the_district_dashboard_and_api_carry_the_heritage_figures(app, client, commune, make):
    relic_id = make_relic(app, commune)
    board_id = make_board(app, commune, relic_id)
    make_artefact(app, commune, relic_id)
    today = queries.today()
    scanned(app, commune, board_id, today, 4)
    scanned(app, commune, board_id, today - timedelta(days=40), 6)  # outside the 30 days asked
    start = today - timedelta(days=29)
    data = client.get(f"/api/district/metrics?from={start.isoformat()}&to={today.isoformat()}").get_json()
    [row] = [c for c in data["communes"] if c["slug"] == "bat-trang"]
    assert (row["relics"], row["boards"], row["artefacts"], row["steles"], row["scans"]) == (1, 1, 1, 0, 4)
    make.user("district@gl.vn", "district_admin")
    login(client, "district@gl.vn")
    html = client.get(f"/district/?from={start.isoformat()}&to={today.isoformat()}&lang=en").get_data(as_text=True)
    assert "Board scans" in html and "QR boards at relics" in html


def test_the_monthly_trend_counts_each_months_scans(app, commune):
    board_id = make_board(app, commune, make_relic(app, commune))
    scanned(app, commune, board_id, date(2026, 3, 31), 2)
    scanned(app, commune, board_id, date(2026, 4, 1), 1)
    with app.app_context():
        trend = queries.district_monthly(date(2026, 3, 1), date(2026, 4, 30))
    assert trend[date(2026, 3, 1)][commune.id]["scans"] == 2
    assert trend[date(2026, 4, 1)][commune.id]["scans"] == 1
    assert trend[date(2026, 4, 1)][commune.id]["boards"] == 1


def _figures_by_python(app, start: date, end: date) -> dict[int, dict[str, int]]:
    """Per commune, counted in Python from every register and scan row (the reference for the SQL)."""
    from tenants.heritage.models import Artefact, BoardScan, Relic, Stele
    from tenants.scoping import all_tenants

    out: dict[int, dict[str, int]] = {}

    def row(tenant_id):
        return out.setdefault(tenant_id, dict.fromkeys(queries.FIGURE_KEYS, 0))

    with app.app_context(), all_tenants():
        for key, rows in (("relics", db.session.query(Relic).filter(Relic.published.is_(True))),
                          ("boards", db.session.query(Board).filter(Board.active.is_(True))),
                          ("artefacts", db.session.query(Artefact)), ("steles", db.session.query(Stele))):
            for found in rows:
                row(found.tenant_id)[key] += 1
        for scan in db.session.query(BoardScan):
            if start <= scan.day <= end:
                row(scan.tenant_id)["scans"] += scan.scans
    return out


def test_the_district_statement_is_built_once_and_answers_each_period_as_python_would(app, commune, make,
                                                                                      monkeypatch):
    """Issue #17, second read: the statement was built on every call; now once per process (as the market's), the
    period bound at execution. Periods asked one after the other each get their own answer, equal to Python's."""
    built = record_builds(monkeypatch, queries)
    relic_id = make_relic(app, commune)
    board_id = make_board(app, commune, relic_id)
    make_artefact(app, commune, relic_id)
    make_stele(app, commune, relic_id)
    today = queries.today()
    scanned(app, commune, board_id, today, 4)
    scanned(app, commune, board_id, today - timedelta(days=40), 6)
    other = make.tenant("kieu-ky", "Kiêu Kỵ")
    scanned(app, other, make_board(app, other, make_relic(app, other)), today - timedelta(days=1), 5)
    for days in (30, 60, 0, 60, 30):
        start = today - timedelta(days=days)
        with app.app_context():
            answer = queries.district_figures(start, today)
        assert answer == _figures_by_python(app, start, today), days
        assert answer[commune.id]["scans"] == {30: 4, 60: 10, 0: 4}[days]
    with app.app_context():
        monthly = queries.district_monthly(today - timedelta(days=60), today)
    for month, per_commune, first, last in month_periods(monthly, today - timedelta(days=60), today):
        assert per_commune == _figures_by_python(app, first, last), month
    assert built == [False, True]  # once each, whatever the number of requests
