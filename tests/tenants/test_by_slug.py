"""``get_by_slug`` runs one statement built once, the slug a bind parameter (issue #17): it finds what the statement
built per call finds (the same tenant object, or None) for every slug, whatever the tenant's status, and for slugs
that are not there (case, spaces, LIKE characters, a prefix)."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from tenants import queries
from tenants.models import Tenant


def test_every_slug_finds_what_the_statement_built_per_call_finds(app, make):
    make.tenant("bat-trang", "Bát Tràng")
    make.tenant("kieu-ky", "Kiêu Kỵ")
    with app.app_context():
        closed = db.session.scalar(select(Tenant).where(Tenant.slug == "kieu-ky"))
        closed.status = "inactive"
        db.session.commit()
        slugs = list(db.session.scalars(select(Tenant.slug)))
        assert {"bat-trang", "kieu-ky"} <= set(slugs)
        for slug in [*slugs, "BAT-TRANG", "bat-trang ", "bat-%", "bat_trang", "bat", "", "no-such-commune"]:
            found = queries.get_by_slug(slug)
            assert found is queries.get_by_slug_built(slug), slug
            assert (found is not None) == (slug in slugs)
        assert queries.get_by_slug("kieu-ky").status == "inactive"
