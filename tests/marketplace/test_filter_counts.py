"""#19 item 11: the marketplace's commune filter shows how many results the current search has in each commune, not
the catalogue's totals ("Cổ Bi (11)" for a search with no result there). SQLite and PostgreSQL (trigram search)."""

from __future__ import annotations

import re


from tests.marketplace.helpers import make_product


def _options(client, path):
    page = client.get(path).get_data(as_text=True)
    select = page.split('data-testid="commune-filter"', 1)[1].split("</select>", 1)[0]
    return dict(re.findall(r'<option value="([^"]+)"[^>]*>[^<(]*\((\d+)\)</option>', select))


def test_the_commune_filter_counts_the_results_of_the_search(app, client, shop):
    assert _options(client, "/marketplace/search") == {"bat-trang": "2", "kieu-ky": "1"}  # the whole catalogue
    assert _options(client, "/marketplace/search?q=bat+trang") == {"bat-trang": "2"}
    assert _options(client, "/marketplace/search?q=binh+gom") == {"bat-trang": "1"}
    assert _options(client, "/marketplace/search?q=vang+quy") == {"kieu-ky": "1"}
    assert _options(client, "/marketplace/search?q=khong+co+gi") == {}
    # the chosen commune stays choosable, with its 0
    assert _options(client, "/marketplace/search?q=vang+quy&commune=bat-trang") == {"bat-trang": "0", "kieu-ky": "1"}


def test_a_product_group_counts_its_own_products_per_commune(app, client, shop):
    kieu_ky = shop["tenants"]["kieu_ky"]
    make_product(app, kieu_ky, shop["vendors"]["vang"], "Trà sen Kiêu Kỵ", category="do-uong")
    assert _options(client, "/marketplace/category/do-uong") == {"kieu-ky": "1"}
    assert _options(client, "/marketplace/search?category=thu-cong-my-nghe") == {"bat-trang": "2", "kieu-ky": "1"}
    assert _options(client, "/marketplace/search?q=kieu+ky&category=do-uong") == {"kieu-ky": "1"}
