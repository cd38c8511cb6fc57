"""The blank sign-in page is rendered once per language, then only its CSRF token and `next` are put in (issue #17):
what it serves must equal a full render, and the form it serves must post and validate the same."""

from __future__ import annotations

import re

import pytest

from tests.auth.test_login import admin, commune, is_signed_in  # noqa: F401  (fixtures)
from tests.conftest import TEST_PASSWORD

TOKEN = re.compile(r'(name="csrf_token" type="hidden" value=")([^"]+)(")')


def _page(client, path: str) -> tuple[str, str]:
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    token = TOKEN.search(html).group(2)
    return TOKEN.sub(r"\1TOKEN\3", html), token


NEXTS = ["/login", "/c/xa-a/desk?x=1&y=2", '/"><script>alert(1)</script>', "/ngõ/hẻm?ä=ö'"]


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_prerendered_page_equals_a_full_render(app, client, monkeypatch, language):
    client.get(f"/lang/{language}")
    app.extensions.pop("blank_login_pages", None)
    served = [_page(client, "/login?next=" + n)[0] for n in NEXTS for _ in range(2)]  # the second from the cache
    assert app.extensions["blank_login_pages"]
    monkeypatch.setitem(app.config, "DEBUG", True)  # debug renders in full every time
    full = [_page(client, "/login?next=" + n)[0] for n in NEXTS for _ in range(2)]
    assert served == full
    assert "&lt;script&gt;" in served[4] and "<script>alert" not in served[4]


def test_each_request_gets_its_own_token_and_the_served_form_signs_in(app, client, admin):  # noqa: F811
    client.get("/login")  # fills the cache
    _html, token = _page(client, "/login?next=/c/xa-bat-trang/desk")
    other_client = app.test_client()
    _other_html, other_token = _page(other_client, "/login")
    assert token != other_token
    response = client.post("/login", data={"email": "admin@battrang.vn", "password": TEST_PASSWORD,
                                           "csrf_token": token, "next": "/c/xa-bat-trang/desk"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/c/xa-bat-trang/desk")
    assert is_signed_in(client)
    refused = other_client.post("/login", data={"email": "admin@battrang.vn", "password": TEST_PASSWORD,
                                                 "csrf_token": token})  # another session's token
    assert refused.status_code == 400


def test_flashed_messages_are_shown_not_cached(app, client, admin):  # noqa: F811
    client.get("/login")
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "Chào bạn")]
    page = client.get("/login").get_data(as_text=True)
    assert "Chào bạn" in page
    assert "flash-" not in client.get("/login").get_data(as_text=True)  # shown once, then the cached page


def test_the_pages_kept_are_bounded_whatever_hosts_clients_name(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "TRUSTED_HOSTS", None)
    app.extensions.pop("blank_login_pages", None)
    for n in range(40):
        assert client.get("/login", base_url=f"http://host{n}.example/").status_code == 200
    assert 0 < len(app.extensions["blank_login_pages"]) <= 16


def test_the_blank_sign_in_page_runs_no_query(app, client):
    from tests.conftest import count_queries

    client.get("/login")
    with count_queries(app) as statements:
        assert client.get("/login?next=/c/xa-a/desk").status_code == 200
    assert statements == []
