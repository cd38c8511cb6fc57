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
