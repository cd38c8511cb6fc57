"""Static files: versioned URLs cached for a year, anything else revalidated."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[1] / "app" / "static"


def test_pages_link_static_files_by_a_version_of_their_content(client):
    html = client.get("/login").get_data(as_text=True)
    match = re.search(r'href="(/static/site\.css\?v=([0-9a-f]+))"', html)
    assert match, "site.css is not linked with a version"
    assert match.group(2) == hashlib.sha256((STATIC / "site.css").read_bytes()).hexdigest()[:12]


def test_the_current_version_is_cached_for_a_year_and_others_are_revalidated(client):
    html = client.get("/login").get_data(as_text=True)
    url = re.search(r'href="(/static/site\.css\?v=[0-9a-f]+)"', html).group(1)
    response = client.get(url)
    assert response.status_code == 200
    assert response.cache_control.max_age == 31_536_000
    assert response.cache_control.public and response.cache_control.immutable
    assert not response.cache_control.no_cache
    for other in ("/static/site.css", "/static/site.css?v=0123456789ab"):
        answer = client.get(other)
        assert answer.status_code == 200
        assert answer.cache_control.max_age != 31_536_000 and not answer.cache_control.immutable
        assert answer.headers.get("ETag")


def test_a_missing_static_file_is_a_404(client):
    assert client.get("/static/nothing-here.css?v=abc").status_code == 404
    assert client.get("/static/../config.py").status_code == 404
