"""The search page's commune filter when thousands of communes have results (issue #17: a 190 KB list of 3,321
options on every search page at national scale): a text field instead, where a name (with or without accents), a
code or a slug chooses the commune; the results equal those of the list's choice. Few communes: the list, as
before."""

from __future__ import annotations

import re

import pytest

from marketplace import views_public

SEARCHES = [("/marketplace/search", {}), ("/marketplace/search", {"q": "gom"}), ("/marketplace/category/thu-cong-my-nghe", {})]


def _products(html: str) -> list[str]:
    return re.findall(r'href="(/marketplace/p/[^"]+)"', html)


def _filter(html: str) -> str:
    return html.split('<label for="f-commune">', 1)[1].split("</div>", 1)[0]


def _page(client, path: str, **args) -> str:
    response = client.get(path, query_string={**args, "lang": "en"})
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.fixture
def many(monkeypatch):
    """As if more communes had results than the list shows (two here: Bát Tràng and Kiêu Kỵ)."""
    monkeypatch.setattr(views_public, "COMMUNE_OPTIONS_MAX", 1)


def test_few_communes_keep_the_list(client, shop):
    html = _page(client, "/marketplace/search")
    assert '<option value="bat-trang">Bát Tràng (2)</option>' in _filter(html)
    assert '<option value="kieu-ky">Kiêu Kỵ (1)</option>' in _filter(html)


def test_the_first_communes_asked_for_are_the_first_of_the_full_list(app, shop, make):
    from marketplace import queries

    with app.app_context():
        for q, group in (("", None), ("", "thu-cong-my-nghe"), ("bat trang", None), ("gom", None)):
            full = queries.search_communes(q, group)
            for limit in (1, 2, 3):
                assert queries.search_communes(q, group, limit=limit) == full[:limit], (q, group, limit)


@pytest.mark.parametrize(("path", "args"), SEARCHES)
def test_many_communes_get_a_text_field_and_the_same_results(app, client, shop, monkeypatch, path, args):
    listed = {slug: _products(_page(client, path, **args, commune=slug)) for slug in ("", "bat-trang", "kieu-ky")}
    monkeypatch.setattr(views_public, "COMMUNE_OPTIONS_MAX", 0)
    app.extensions["response_cache"].clear()  # the same addresses, rendered the other way
    html = _page(client, path, **args)
    assert "<option" not in _filter(html) and 'type="search" id="f-commune" name="commune" value=""' in html
    assert "Type a commune's name or code." in html
    assert _products(html) == listed[""]
    for slug, typed in (("bat-trang", "bat-trang"), ("bat-trang", "Bát Tràng"), ("kieu-ky", "kieu ky"),
                        ("kieu-ky", "KIÊU KỴ")):
        html = _page(client, path, **args, commune=typed)
        assert _products(html) == listed[slug], (path, typed)
        assert f'name="commune" value="{slug}"' in html


def test_a_code_chooses_its_commune(client, shop, many):
    code = shop["tenants"]["kieu_ky"].code
    html = _page(client, "/marketplace/search", commune=code)
    assert 'value="kieu-ky"' in html and "In Kiêu Kỵ (1 results)" in html


def test_a_name_of_several_communes_offers_them_and_filters_nothing(app, client, shop, make, many):
    make.tenant("bat-trang-2", "Bát Tràng Hai")
    everything = _products(_page(client, "/marketplace/search"))
    html = _page(client, "/marketplace/search", commune="bat trang")
    suggestions = html.split('data-testid="commune-suggestions"', 1)[1].split("</div>", 1)[0]
    assert re.search(r'href="[^"]*commune=bat-trang(&amp;|")', suggestions)
    assert "Bát Tràng Hai" in suggestions
    assert _products(html) == everything


def test_an_unknown_name_says_so_and_filters_nothing(client, shop, many):
    everything = _products(_page(client, "/marketplace/search"))
    html = _page(client, "/marketplace/search", commune="<Nowhere>")
    assert "No commune matches “&lt;Nowhere&gt;”" in html
    assert _products(html) == everything
