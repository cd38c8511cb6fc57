"""/api/communes a page at a time (issue #17: never the nation's 3,321 units in one answer): the pages, concatenated,
are the full list in force, in the same order and with the same fields; ``q`` and ``district`` filter as the folded
name and the district's code would; bad parameters are a 400."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

import pytest

from app.extensions import db
from app.main import views
from app.text import fold
from tenants import lineage
from tenants.models import Tenant

NAMES = ["Bát Tràng", "Kiêu Kỵ", "Đa Tốn", "Đông Dư", "Trâu Quỳ", "Ninh Hiệp", "Phù Đổng", "Dương Xá"]


def _many(app, n: int) -> None:
    """n communes in one commit: several districts, a few inactive or not yet in force."""
    with app.app_context():
        for i in range(n):
            name = f"{NAMES[i % len(NAMES)]} {i}"
            db.session.add(Tenant(
                slug=fold(name).replace(" ", "-") + f"-{i:05d}", name=name, kind="xã", code=f"{(i * 7919) % 99991:05d}",
                district_name=f"Huyện {i % 4}", district_code=f"{i % 4:03d}", province_name="Hà Nội",
                status="inactive" if i % 17 == 5 else "active",
                valid_from=date(2099, 1, 1) if i % 23 == 7 else None))
        db.session.commit()


def _every_page(client, query: str = "", per_page: int | None = None) -> tuple[list, list[str]]:
    """Follow the Link header's rel="next" from the first page; the items and the totals seen."""
    url = "/api/communes" + (f"?{query}" if query else "")
    if per_page:
        url += ("&" if query else "?") + f"per_page={per_page}"
    items, totals = [], []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        items += response.get_json()
        totals.append(response.headers["X-Total-Count"])
        nexts = [part.split(">")[0].lstrip("<") for part in response.headers["Link"].split(", ")
                 if part.endswith('rel="next"')]
        url = (lambda u: f"{u.path}?{u.query}")(urlsplit(nexts[0])) if nexts else None
    return items, totals


def _unpaged(app, on: date) -> list[dict]:
    with app.app_context():
        units = lineage.in_force(on)
        predecessors, successors = lineage.neighbours([t.id for t in units])
        return [{"slug": t.slug, "name": t.name, "kind": t.kind, "code": t.code,
                 "valid_from": t.valid_from.isoformat() if t.valid_from else None,
                 "valid_until": t.valid_until.isoformat() if t.valid_until else None,
                 "predecessors": [p.slug for p in predecessors[t.id]],
                 "successors": [s.slug for s in successors[t.id]]} for t in units]


@pytest.mark.parametrize("per_page", [1, 7, 100, 500])
def test_the_pages_concatenated_are_the_full_list(app, client, per_page):
    _many(app, 130)
    full = _unpaged(app, date.today())
    assert len(full) > 100  # more than the default page
    items, totals = _every_page(client, per_page=per_page)
    assert items == full
    assert set(totals) == {str(len(full))}


def test_the_default_page_is_the_first_hundred_and_says_how_many_there_are(app, client):
    _many(app, 130)
    full = _unpaged(app, date.today())
    response = client.get("/api/communes")
    assert response.get_json() == full[:views.COMMUNES_PER_PAGE]
    assert response.headers["X-Total-Count"] == str(len(full))
    assert 'rel="next"' in response.headers["Link"] and 'rel="prev"' not in response.headers["Link"]
    assert client.get("/api/communes?page=99").get_json() == []  # after the last page: an empty list


def test_a_district_s_communes_fit_in_one_page_as_before(app, client, make):
    for slug, name in (("bat-trang", "Bát Tràng"), ("kieu-ky", "Kiêu Kỵ")):
        make.tenant(slug, name)
    response = client.get("/api/communes")
    assert [u["slug"] for u in response.get_json()] == [u["slug"] for u in _unpaged(app, date.today())]
    assert response.headers["X-Total-Count"] == "2"
    assert 'rel="next"' not in response.headers["Link"]


def test_the_filters_equal_filtering_the_full_list(app, client):
    _many(app, 130)
    full = _unpaged(app, date.today())
    with app.app_context():
        district_of = {t.slug: t.district_code for t in db.session.query(Tenant)}
    for query, expected in (
        ("q=bat+trang", [u for u in full if "bat trang" in fold(u["name"])]),
        ("q=%C4%90%C3%B4ng+D%C6%B0", [u for u in full if "dong du" in fold(u["name"])]),  # Đông Dư, accented
        (f"q={full[3]['code']}", [u for u in full if u["code"] == full[3]["code"]]),
        ("district=002", [u for u in full if district_of[u["slug"]] == "002"]),
        ("district=001&q=kieu", [u for u in full if district_of[u["slug"]] == "001" and "kieu" in fold(u["name"])]),
        ("q=zzz", []),
    ):
        items, _totals = _every_page(client, query, per_page=5)
        assert items == expected and (expected or query == "q=zzz"), query


def test_the_date_still_chooses_the_units_in_force(app, client):
    _many(app, 40)
    later = _unpaged(app, date(2099, 6, 1))
    assert len(later) > len(_unpaged(app, date.today()))
    assert _every_page(client, "on=2099-06-01", per_page=9)[0] == later


@pytest.mark.parametrize("query", ["page=0", "page=x", "page=-1", "per_page=0", "per_page=501", "per_page=ten"])
def test_bad_paging_is_a_400_naming_the_parameter(client, query):
    response = client.get(f"/api/communes?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["param"] == query.split("=")[0]
