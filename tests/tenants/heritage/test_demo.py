"""The heritage demo: 287 relics across the 22 units, 125 boards (20 of 2024 with the audio guide invitation),
artefacts, a few steles, scans; every relic marked as demo data, and the pages show it."""

from __future__ import annotations

from sqlalchemy import func, select

from app import demo
from app.extensions import db
from tenants.heritage import demo as heritage_demo
from tenants.heritage.models import Artefact, Board, BoardScan, Relic, Stele
from tenants.models import Tenant
from tenants.scoping import all_tenants


def test_the_demo_seeds_the_reports_register_in_bulk_and_marks_it(app, client, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    monkeypatch.setitem(app.config, "DEMO_MARKET_DAYS", 0)
    monkeypatch.setitem(app.config, "DEMO_ONESTOP_MONTHS", 0)
    with app.app_context():
        counts = demo.seed(app.config["DEMO_PASSWORD"], payment_days=0)
    assert (counts["relics"], counts["boards"], counts["steles"]) == (287, 125, 36)
    with app.app_context(), all_tenants():
        count = lambda model, *where: db.session.scalar(select(func.count()).select_from(model).where(*where))  # noqa: E731
        assert count(Relic) == 287 and count(Relic, Relic.demo.is_(False)) == 0
        assert count(Board) == 125 and count(Board, Board.narration.is_(True)) == 20
        assert count(Stele) == 36 and count(Artefact) == counts["artefacts"] >= 287 * 2
        per_commune = dict(db.session.execute(select(Relic.tenant_id, func.count()).group_by(Relic.tenant_id)).all())
        assert len(per_commune) == count(Tenant) == 22 and min(per_commune.values()) >= 13
        assert count(BoardScan) > 0
        relic = db.session.scalar(select(Relic).where(Relic.panorama.is_not(None)).order_by(Relic.id))
        slug = db.session.get(Tenant, relic.tenant_id).slug
        board = db.session.scalar(select(Board).where(Board.narration.is_(True)).order_by(Board.id))
        board_slug = db.session.get(Tenant, board.tenant_id).slug
    page = client.get(f"/c/{slug}/heritage/relics/{relic.id}").get_data(as_text=True)
    assert 'data-testid="demo-note"' in page and 'data-testid="panorama"' in page
    assert client.get(f"/c/{board_slug}/heritage/q/{board.id}").status_code == 302
    with app.app_context():
        assert heritage_demo.seed() == {"relics": 0}  # idempotent
