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
