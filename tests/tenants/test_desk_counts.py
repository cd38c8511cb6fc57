"""The desk's figures counted in SQL (issue #17) equal what the lists they replace would print."""

from __future__ import annotations

from app.auth import services as account_services
from app.extensions import db
from tenants.lineage import merged_into, neighbours
from tenants.models import Tenant
from tests.conftest import login
from tests.tenants.lineage.test_successors import communes, reorganise  # noqa: F401  (the fixture)


def test_staff_count_equals_the_length_of_the_staff_list(app, make):
    a, b = make.tenant("xa-a"), make.tenant("xa-b")
    make.user("admin@a.vn", "commune_admin", a)
    for n in range(3):
        make.user(f"officer{n}@a.vn", "officer", a)
    make.user("officer@b.vn", "officer", b)
    make.user("vendor@a.vn", "vendor", a)  # a membership, not staff
    with app.app_context():
        for tenant in (a, b, make.tenant("xa-c")):
            tenant = db.session.merge(tenant)
            assert account_services.staff_count(tenant) == len(account_services.staff_of(tenant))
        assert account_services.staff_count(db.session.merge(a)) == 4


def test_desk_prints_the_staff_count(app, client, make):
    a = make.tenant("xa-a")
    make.user("admin@a.vn", "commune_admin", a)
    make.user("officer1@a.vn", "officer", a)
    login(client, "admin@a.vn")
    page = client.get("/c/xa-a/desk").get_data(as_text=True)
    assert page.split('data-testid="staff-count">')[1].split("<")[0].strip() == "2"


def test_merged_into_equals_the_ended_predecessors_of_neighbours(app, communes):  # noqa: F811
    reorganise(app)
    with app.app_context():
        for tenant in communes.values():
            tenant = db.session.get(Tenant, tenant.id)
            expected = [t.id for t in neighbours([tenant.id])[0][tenant.id] if t.valid_until is not None]
            assert [t.id for t in merged_into(tenant.id)] == expected
        bat_trang = db.session.get(Tenant, communes["bat-trang"].id)
        assert [t.slug for t in merged_into(bat_trang.id)] == ["dong-du"]


def _desk_in(app, tenant, email):
    """The desk's figures of ``tenant`` as ``email`` sees them, and each counting tile's values read on their own (a
    statement per subquery: what the desk did before reading them together)."""
    from flask import g
    from sqlalchemy import select

    from app.auth.models import User
    from app.payments.bank import reconciliation
    from tenants import tiles
    from tenants.heritage import queries as heritage
    from tenants.notices import services as notices
    from tenants.scoping import tenant_context

    with app.test_request_context(), tenant_context(tenant.id):
        g.tenant = db.session.get(Tenant, tenant.id)
        user = db.session.scalar(select(User).where(User.email == email))
        page = tiles.desk(user, g.tenant)
        together = tiles._read_counts(tiles.desk_tiles())
        alone = {tile.name: tuple(db.session.scalar(select(c)) for c in tile.counts())
                 for tile in tiles.desk_tiles() if tile.counts is not None}
        straightforward = {"staff": (len(account_services.staff_of(g.tenant)),),
                           "notices": (len(notices.recent(limit=5)),),
                           "payments": (reconciliation.inbox_count(tenant.id),),
                           "heritage": heritage.desk_counts()}
        return page, together, alone, straightforward


def test_the_desks_counts_read_together_equal_each_read_on_its_own(app, make):
    a, b = make.tenant("xa-a"), make.tenant("xa-b")
    make.user("admin@a.vn", "commune_admin", a)
    make.user("officer@a.vn", "officer", a)
    make.user("admin@b.vn", "commune_admin", b)
    for n in range(3):
        make.user(f"officer{n}@b.vn", "officer", b)
    for n in range(2):
        make.notice(a, f"A {n}")
    for n in range(7):  # another commune's rows never count here
        make.notice(b, f"B {n}")
    for tenant, email, staff, recent in ((a, "admin@a.vn", 2, 2), (b, "admin@b.vn", 4, 5)):
        page, together, alone, straightforward = _desk_in(app, tenant, email)
        assert together == alone
        for name, values in straightforward.items():
            assert together[name] == tuple(values), name
        assert together["staff"] == (staff,) and together["notices"] == (recent,)
        figures = {str(f.label): f.value for f in page.figures}
        assert figures["Staff accounts"] == staff and figures["Recent notices"] == recent


def test_the_desk_reads_its_counts_in_one_statement(app, client, make):
    from tenants import tiles
    from tests.conftest import count_queries, data_statements

    a = make.tenant("xa-a")
    make.user("admin@a.vn", "commune_admin", a)
    login(client, "admin@a.vn")
    client.get("/c/xa-a/desk")
    with count_queries(app) as statements:
        assert client.get("/c/xa-a/desk").status_code == 200
    counting = [t for t in tiles.desk_tiles() if t.counts is not None]
    assert len(counting) >= 4
    subqueries = sum(1 for s in data_statements(statements) if s.count("count(*)") >= len(counting))
    assert subqueries == 1


def test_a_tile_gives_counts_and_what_they_show_together():
    import pytest

    from tenants import tiles

    with pytest.raises(ValueError, match="together"):
        tiles.on_desk(tiles.DeskTile("half", counts=lambda: ()))
    assert "half" not in {t.name for t in tiles.desk_tiles()}
