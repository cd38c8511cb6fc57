"""Public pages: the landing page, the communes API, the language switch, error pages and security headers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

VI_CATALOGUE = Path(__file__).resolve().parent.parent / "app" / "translations" / "vi" / "LC_MESSAGES" / "messages.mo"


def seed_demo(app, runner):
    # seed-demo is a plain click command: the `flask` CLI pushes the app context for it, the test runner does not
    with app.app_context():
        result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return result


def html_lang(response) -> str:
    match = re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True))
    assert match, "page has no <html lang>"
    return match.group(1)


# --- landing page and API --------------------------------------------------------------------------------------

def test_landing_page_lists_the_communes_after_seed_demo(app, client, runner):
    seed_demo(app, runner)
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count("data-folded=") == 22
    for name in ("Bát Tràng", "Kiêu Kỵ", "Ninh Hiệp", "Trâu Quỳ", "Yên Viên"):
        assert name in html
    assert 'href="/c/bat-trang/"' in html
    assert 'data-folded="bat trang"' in html  # the filter works with or without accents


def test_landing_page_without_communes_still_renders(client):
    response = client.get("/?lang=en")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'Communes and towns <span class="muted">(0)</span>' in html
    listed = html.split('data-testid="commune-list">', 1)[1].split("</ul>", 1)[0]
    assert "<li" not in listed


def test_api_communes_lists_active_tenants_only(client, make):
    make.tenant("xa-bat-trang", "Bát Tràng")
    make.tenant("thi-tran-trau-quy", "Trâu Quỳ", kind="thị trấn")
    make.tenant("xa-dong", "Đóng", status="inactive")
    response = client.get("/api/communes")
    assert response.status_code == 200
    assert response.is_json
    data = response.get_json()
    assert sorted(d["slug"] for d in data) == ["thi-tran-trau-quy", "xa-bat-trang"]
    for item in data:
        assert set(item) == {"slug", "name", "kind", "code", "valid_from", "valid_until", "predecessors", "successors"}
    bat_trang = next(d for d in data if d["slug"] == "xa-bat-trang")
    assert (bat_trang["name"], bat_trang["kind"]) == ("Bát Tràng", "xã")
    assert re.fullmatch(r"\d{5}", bat_trang["code"])


def test_landing_page_hides_inactive_communes(client, make):
    make.tenant("xa-mo", "Mở")
    make.tenant("xa-dong", "Đóng", status="inactive")
    html = client.get("/").get_data(as_text=True)
    assert "/c/xa-mo/" in html and "/c/xa-dong/" not in html


def test_commune_home_page_shows_its_name_code_and_district(client, make):
    tenant = make.tenant("xa-bat-trang", "Bát Tràng")
    response = client.get("/c/xa-bat-trang/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(r'<h1 data-testid="commune-name">\s*Xã Bát Tràng\s*</h1>', html)
    assert f"Gia Lâm, Hà Nội · Mã {tenant.code}" in html


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


# --- languages -------------------------------------------------------------------------------------------------

def test_default_language_is_vietnamese(client):
    assert html_lang(client.get("/")) == "vi"


def test_default_page_text_is_vietnamese_once_translations_exist(client):
    if not VI_CATALOGUE.exists():
        pytest.skip("the Vietnamese catalogue is not compiled yet")
    html = client.get("/").get_data(as_text=True)
    assert "Các xã, thị trấn" in html
    assert "Đăng nhập" in html


def test_language_switch_to_english_sticks_for_the_session(client):
    response = client.get("/lang/en")
    assert response.status_code == 302
    page = client.get("/")
    assert html_lang(page) == "en"
    html = page.get_data(as_text=True)
    assert "Communes and towns" in html and "Sign in" in html
    client.get("/lang/vi")
    assert html_lang(client.get("/")) == "vi"


def test_language_switch_returns_to_the_page_the_user_was_on(client, make):
    make.tenant("xa-bat-trang")
    response = client.get("/lang/en", headers={"Referer": "http://localhost/c/xa-bat-trang/"})
    assert response.headers["Location"] == "http://localhost/c/xa-bat-trang/"


def test_language_switch_does_not_redirect_to_another_site(client):
    response = client.get("/lang/en", headers={"Referer": "https://evil.example/phish"})
    assert response.status_code == 302
    assert "evil" not in response.headers["Location"]


def test_unknown_language_is_404(client):
    assert client.get("/lang/fr").status_code == 404
    assert html_lang(client.get("/")) == "vi"


def test_lang_query_parameter_chooses_the_language_for_one_page(client):
    assert html_lang(client.get("/?lang=en")) == "en"
    assert html_lang(client.get("/")) == "vi"


# --- errors ----------------------------------------------------------------------------------------------------

def test_404_page_is_the_styled_template_with_the_site_header(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<header class="topbar">' in html
    assert 'class="error-page"' in html and "404" in html


def test_404_page_in_english(client):
    client.get("/lang/en")
    assert "Page not found" in client.get("/no-such-page").get_data(as_text=True)


def test_unknown_commune_gets_the_styled_404(client):
    response = client.get("/c/no-such-commune/")
    assert response.status_code == 404
    assert '<header class="topbar">' in response.get_data(as_text=True)


def test_api_404_is_json(client):
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404
    assert response.get_json()["error"]["status"] == 404


def test_wrong_method_is_405_not_500(client):
    response = client.post("/api/communes")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"] and "Traceback" not in response.get_data(as_text=True)


# --- security headers ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/login", "/no-such-page", "/api/communes"])
def test_security_headers_are_present(client, path):
    headers = client.get(path).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    csp = headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "form-action 'self'"):
        assert directive in csp


def test_session_cookie_is_httponly_and_samesite_lax(client):
    client.get("/lang/en")
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert cookie.http_only
    assert cookie.same_site == "Lax"


def test_pages_have_no_inline_scripts_or_styles_the_csp_would_block(app, client, runner):
    seed_demo(app, runner)
    for path in ("/", "/login", "/c/bat-trang/", "/no-such-page"):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert " style=" not in html and "<style" not in html, path


def test_an_unexpected_error_shows_the_styled_500_page_in_vietnamese(app, client, monkeypatch):
    import app.main.views as main_views

    def broken():
        raise RuntimeError("database went away")

    monkeypatch.setattr(main_views.tenant_queries, "list_active", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    response = client.get("/")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert 'class="topbar"' in html and "500" in html
    assert "database went away" not in html  # no internals shown to the user
    assert 'lang="vi"' in html


def test_a_merged_communes_pages_redirect_permanently_to_its_successor(app, client, make):
    from sqlalchemy import update

    from app.extensions import db
    from tenants.models import Tenant

    successor = make.tenant("thien-duc", "Thiên Đức")
    merged = make.tenant("dinh-xuyen", "Đình Xuyên")
    with app.app_context():
        db.session.execute(update(Tenant).where(Tenant.id == merged.id).values(status="merged", successor_id=successor.id))
        db.session.commit()
    response = client.get("/c/dinh-xuyen/?lang=en")  # issue #18: every old address answers with a 301
    assert response.status_code == 301 and response.headers["Location"].endswith("/c/thien-duc/?lang=en")
