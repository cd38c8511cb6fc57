"""The landing page at a province's or the nation's size (issue #17): never every commune; the provinces and their
districts (counts that add up to the total), a search and the communes of the district chosen, equal to filtering
the full list. Up to LANDING_ALL_UP_TO communes (a district's 22) it lists them all, as before."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.main import views
from app.text import fold
from tenants import queries as tenant_queries
from tests.scale_pages.test_api_communes_pages import _many


def _links(html: str) -> list[str]:
    listed = html.split('data-testid="commune-list">', 1)[1].split("</ul>", 1)[0] if "commune-list" in html else ""
    return re.findall(r'href="/c/([^/"]+)/"', listed)


def _active(app) -> list:
    with app.app_context():
        communes = tenant_queries.list_active()
        db.session.expunge_all()
        return communes


def test_a_district_s_communes_are_all_listed_as_before(app, client):
    _many(app, 40)
    active = _active(app)
    assert len(active) <= views.LANDING_ALL_UP_TO
    html = client.get("/").get_data(as_text=True)
    assert _links(html) == [c.slug for c in active]
    assert 'id="commune-filter"' in html and "filter.js" in html and 'data-testid="district-groups"' not in html


@pytest.fixture
def nation(app, monkeypatch):
    monkeypatch.setattr(views, "LANDING_ALL_UP_TO", 10)
    monkeypatch.setattr(views, "LANDING_MATCHES", 12)
    _many(app, 130)
    return _active(app)


def test_beyond_it_the_page_lists_districts_not_communes(client, nation):
    html = client.get("/?lang=en").get_data(as_text=True)
    assert _links(html) == []
    assert f'<span class="muted">({len(nation)})</span>' in html
    groups = html.split('data-testid="district-groups">', 1)[1]
    counts = [int(n) for n in re.findall(r'</a> <span class="muted">\((\d+)\)</span>', groups)]
    assert sum(counts) == len(nation) and len(counts) == 4
    assert "filter.js" not in html


def test_a_district_link_shows_exactly_its_communes(client, nation):
    for code in ("000", "001", "002", "003"):
        expected = [c.slug for c in nation if c.district_code == code]
        html = client.get(f"/?district={code}&lang=en").get_data(as_text=True)
        shown = _links(html)
        assert shown == expected[:views.LANDING_MATCHES]
        assert f"Communes found: {len(expected)}" in html
        assert html.count('<details class="formula" open>') == 1  # the chosen district's province is open
        assert f'href="/?district={code}#communes" aria-current="true"' in html
        if len(expected) > views.LANDING_MATCHES:
            assert "the first 12; refine the search" in html


@pytest.mark.parametrize("q", ["bat trang", "Đông Dư", "KIEU", "nothing-like-it"])
def test_a_search_shows_what_filtering_the_full_list_by_folded_name_shows(client, nation, q):
    expected = [c.slug for c in nation if fold(q) in fold(c.name)]
    html = client.get("/", query_string={"q": q, "lang": "en"}).get_data(as_text=True)
    assert _links(html) == expected[:views.LANDING_MATCHES]
    assert f"Communes found: {len(expected)}" in html


def test_a_search_by_code_finds_the_commune(client, nation):
    html = client.get("/", query_string={"q": nation[5].code}).get_data(as_text=True)
    assert _links(html) == [nation[5].slug]
