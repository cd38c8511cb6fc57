"""The blank sign-in page for a cookie-less visitor, answered before Flask (app/auth/blank_page.py, issue #17): its
answer is Flask's (status, headers in order, every byte of the page) but for a new CSRF token and session cookie, which
are each visitor's own and sign in as Flask's would; any other request is Flask's."""

from __future__ import annotations

import re

import pytest
from itsdangerous import URLSafeTimedSerializer

from tests.auth.test_login import admin, commune, is_signed_in  # noqa: F401  (fixtures)
from tests.conftest import TEST_PASSWORD

TOKEN = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')


def _middleware(app):
    return app.extensions["blank_login_page"]


@pytest.fixture(autouse=True)
def _nothing_learnt(app):
    _middleware(app).pages.clear()


def _get(app, path="/login", **kwargs):
    """(response, answered before Flask?) for a visitor without a cookie."""
    before = _middleware(app).served
    response = app.test_client(use_cookies=False).get(path, **kwargs)
    return response, _middleware(app).served == before + 1


def _parts(app, response):
    """(the page with its token blanked, the headers with the cookie's value blanked, raw token, signed token)."""
    body = response.get_data()
    signed = TOKEN.search(body).group(1).decode()
    cookie = response.headers["Set-Cookie"]
    value = cookie.split("=", 1)[1].split(";", 1)[0]
    session = app.session_interface.get_signing_serializer(app).loads(value)
    assert set(session) == {"csrf_token"}
    raw = session["csrf_token"]
    assert URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").loads(signed) == raw
    headers = [(name, value_ if name != "Set-Cookie" else value_.replace(value, "COOKIE"))
               for name, value_ in response.headers.items()]
    return body.replace(signed.encode(), b"TOKEN"), headers, raw, signed


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1:8000"])
def test_the_answer_before_flask_is_flasks_but_for_the_token_and_cookie(app, host):
    base = f"http://{host}/"
    flask_first, served = _get(app, base_url=base)
    assert not served and flask_first.status_code == 200  # learnt from Flask's own answer
    fast, served = _get(app, base_url=base)
    assert served
    _middleware(app).pages.clear()
    flask_again, served = _get(app, base_url=base)
    assert not served
    fast_body, fast_headers, fast_raw, _ = _parts(app, fast)
    flask_body, flask_headers, flask_raw, _ = _parts(app, flask_again)
    assert fast.status == flask_again.status
    assert fast_body == flask_body
    assert fast_headers == flask_headers  # names, order, values (the cookie's attributes too), Content-Length
    assert fast_raw != flask_raw


def test_every_visitor_gets_a_token_of_their_own_and_it_signs_in(app, admin):  # noqa: F811
    _get(app)
    answers = [_get(app) for _ in range(3)]
    assert all(served for _response, served in answers)
    parts = [_parts(app, response) for response, _served in answers]
    assert len({raw for _b, _h, raw, _s in parts}) == 3 and len({signed for *_rest, signed in parts}) == 3
    # the second visitor posts the form with the cookie and token they were given
    response, _ = answers[1]
    client = app.test_client()
    cookie = response.headers["Set-Cookie"].split(";", 1)[0].split("=", 1)
    client.set_cookie(cookie[0], cookie[1], domain="localhost")
    signed = parts[1][3]
    refused = client.post("/login", data={"email": "admin@battrang.vn", "password": TEST_PASSWORD,
                                          "csrf_token": parts[0][3]})  # another visitor's token
    assert refused.status_code == 400 and not is_signed_in(client)
    signed_in = client.post("/login", data={"email": "admin@battrang.vn", "password": TEST_PASSWORD,
                                            "csrf_token": signed})
    assert signed_in.status_code == 302 and is_signed_in(client)


@pytest.mark.parametrize("path, headers", [
    ("/login?next=/c/xa-a/desk", {}),
    ("/login?lang=en", {}),  # a language asked for: Flask (the template is the default language's)
    ("/login", {"Cookie": "session=x"}),  # any cookie: Flask (a session, its language, a flash)
    ("/login", {"Authorization": "Bearer x"}),
])
def test_anything_but_a_bare_cookieless_get_is_flasks(app, path, headers):
    _get(app)
    assert _get(app)[1]
    response, served = _get(app, path, headers=headers)
    assert not served and response.status_code == 200
    before = _middleware(app).served
    assert app.test_client(use_cookies=False).post("/login", data={}).status_code == 400
    assert _middleware(app).served == before


def test_an_english_page_is_never_the_vietnamese_template(app):
    _get(app)
    default = _get(app)[0].get_data(as_text=True)
    english = _get(app, "/login?lang=en")[0].get_data(as_text=True)
    assert 'lang="vi"' in default and 'lang="en"' in english


def test_debug_mode_learns_nothing(app, monkeypatch):
    monkeypatch.setitem(app.config, "DEBUG", True)
    _middleware(app).pages.clear()
    _get(app)
    assert not _get(app)[1] and not _middleware(app).pages
