"""Pages run a fixed number of SQL queries whatever how many rows they show (no N+1)."""

from __future__ import annotations

import pytest

from tests.conftest import count_queries, data_statements, login


def _queries(app, client, path: str) -> int:
    with count_queries(app) as statements:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(data_statements(statements))


@pytest.fixture
def district(app, client, make):
    tenants = [make.tenant("xa-a", "A"), make.tenant("xa-b", "B")]
    make.user("district@gialam.demo", "district_admin")
    make.user("admin@a.vn", "commune_admin", tenants[0])
    make.user("officer1@a.vn", "officer", tenants[0])
    make.notice(tenants[0], "Một")
    return tenants


def _grow(make, tenants):
    """More of everything each page lists."""
    for n in range(8):
        tenant = make.tenant(f"xa-more-{n}", f"More {n}")
        make.user(f"admin{n}@more.vn", "commune_admin", tenant)
        make.user(f"officer-more{n}@a.vn", "officer", tenants[0])
        make.notice(tenants[0], f"Thông báo {n}")


@pytest.mark.parametrize("who,path", [
    (None, "/"),
    (None, "/api/communes"),
    (None, "/c/xa-a/"),
    ("district@gialam.demo", "/district/"),
    ("district@gialam.demo", "/district/admins"),
    ("admin@a.vn", "/c/xa-a/desk"),
    ("admin@a.vn", "/c/xa-a/staff"),
    ("admin@a.vn", "/c/xa-a/notices/"),
])
def test_page_query_count_does_not_grow_with_rows(app, client, make, district, who, path):
    if who:
        login(client, who)
    few = _queries(app, client, path)
    _grow(make, district)
    many = _queries(app, client, path)
    assert many == few, f"{path}: {few} queries with few rows, {many} with many"
    budget = 8
    if path.endswith("/desk"):  # the desk reads each domain's tile once: one statement per tile that has a read,
        from tenants import tiles  # and every tile's counts together in one

        budget = 5 + sum(1 for tile in tiles.desk_tiles() if tile.read is not None) + 1
    if path == "/district/":  # plus, per provider but the first, one aggregate for the period and the monthly
        from app.district import figures, queries  # trend: one aggregate per provider (per month if it cannot group)

        budget += len(figures.providers()) - 1
        budget += sum(1 if p.monthly else queries.TREND_MONTHS for p in figures.providers())
    assert few <= budget
