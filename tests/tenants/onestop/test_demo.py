"""The one-stop demo reproduces what the district reported, seeded in bulk."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app import demo
from app.extensions import db
from app.formatting import to_local
from app.clock import utcnow
from tenants.onestop import queries
from tenants.onestop.models import Dossier, DossierCounter, Procedure
from tenants.scoping import all_tenants, tenant_context


def test_a_month_of_demo_dossiers_looks_like_gia_lam(app, monkeypatch):
    monkeypatch.setitem(app.config, "DEMO_ONESTOP_MONTHS", 1)
    now = utcnow()
    with app.app_context():
        counts = demo.seed(app.config["DEMO_PASSWORD"], payment_days=0, now=now)
        assert 2528 * 0.8 < counts["dossiers"] < 2528 * 1.2
        with all_tenants():
            assert db.session.scalar(select(func.count()).select_from(Procedure)) == 22 * 15
            per_commune = queries.district_figures(to_local(now - timedelta(days=31)).date(), to_local(now).date(),
                                                   now)
        assert len(per_commune) == 22
        for figures in per_commune.values():
            assert 0.65 <= figures["cashless_paid"] / figures["fee_dossiers"] <= 0.92
            assert figures["on_time"] / figures["received"] > 0.9
            assert figures["ratings_unsatisfied"] < figures["ratings_total"] * 0.1
            assert figures["digitised"] == figures["results"] > 0  # every result digitised: 100 %, as reported
        with all_tenants():
            returned = db.session.scalars(select(Dossier).where(Dossier.status == "returned")).all()
            assert all(d.result_file_key for d in returned)  # every result digitised
            same_day = [d for d in returned if d.procedure.same_day]
            within_2h = [d for d in same_day if d.processing_minutes <= 120]
            assert len(within_2h) > 0.8 * len(same_day)
            assert db.session.scalar(select(func.count()).where(Dossier.status == "refused")) > 0
            tenant_id = returned[0].tenant_id
        # a dossier received today at the counter continues the day's sequence: no code is given twice
        with tenant_context(tenant_id):
            from tenants.onestop import services

            counter = db.session.scalar(select(DossierCounter).order_by(DossierCounter.day.desc()).limit(1))
            assert counter is not None
            code = services.next_code(tenant_id, now)
            assert not db.session.scalar(select(func.count()).where(Dossier.code == code))
        db.session.rollback()
        # seeding again adds nothing
        assert demo.seed(app.config["DEMO_PASSWORD"], payment_days=0, now=now)["dossiers"] == 0
