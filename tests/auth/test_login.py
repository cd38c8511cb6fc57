"""Signing in and out: role homes, refusals, rate limiting, CSRF and the `next` parameter."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from tenants.notices.models import Notice
from tenants.scoping import all_tenants
from tests.conftest import TEST_PASSWORD, csrf_token, login, post_form


@pytest.fixture
def commune(make):
    return make.tenant("xa-bat-trang", "Bát Tràng")


@pytest.fixture
def admin(make, commune):
    return make.user("admin@battrang.vn", "commune_admin", commune)


def is_signed_in(client) -> bool:
    """The desk link only appears for a signed-in user; /home needs a login."""
    return client.get("/home").status_code == 302 and not client.get("/home").headers["Location"].startswith("/login")


def notice_count(app) -> int:
    with app.app_context(), all_tenants():
        return db.session.scalar(select(func.count()).select_from(Notice))


# --- success ---------------------------------------------------------------------------------------------------

def test_commune_admin_lands_on_their_commune_desk(client, admin):
    response = login(client, "admin@battrang.vn")
    assert response.status_code == 302
    landed = client.get(response.headers["Location"], follow_redirects=True)
    assert landed.status_code == 200
    assert landed.request.path == "/c/xa-bat-trang/desk"


def test_officer_lands_on_their_commune_desk(client, make, commune):
    make.user("officer@battrang.vn", "officer", commune)
    response = login(client, "officer@battrang.vn")
    assert client.get(response.headers["Location"], follow_redirects=True).request.path == "/c/xa-bat-trang/desk"


def test_district_admin_lands_on_the_district_overview(client, make):
    make.user("district@gialam.vn", "district_admin")
    response = login(client, "district@gialam.vn")
    landed = client.get(response.headers["Location"], follow_redirects=True)
    assert landed.request.path == "/district/"
    assert landed.status_code == 200


def test_email_is_matched_case_insensitively(client, admin):
    response = login(client, "  Admin@BatTrang.VN ")
    assert response.status_code == 302
    assert is_signed_in(client)


# --- refusals --------------------------------------------------------------------------------------------------

def test_wrong_password_is_refused_with_401_and_a_message(client, admin):
    response = login(client, "admin@battrang.vn", "wrong-password")
    assert response.status_code == 401
    assert "Wrong email, phone number or password." in response.get_data(as_text=True)
    assert not is_signed_in(client)


def test_unknown_email_gets_the_same_refusal(client, admin):
    response = login(client, "nobody@battrang.vn")
    assert response.status_code == 401
    assert "Wrong email, phone number or password." in response.get_data(as_text=True)
    assert not is_signed_in(client)


def test_inactive_user_is_refused_even_with_the_right_password(client, make, commune):
    make.user("gone@battrang.vn", "officer", commune, active=False)
    response = login(client, "gone@battrang.vn")
    assert response.status_code == 401
    assert not is_signed_in(client)


def test_empty_form_is_a_400_not_a_500(client, admin):
    response = client.post("/login", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 400
    assert not is_signed_in(client)


# --- rate limiting ---------------------------------------------------------------------------------------------

def test_sixth_quick_wrong_password_is_refused_with_429(client, admin):
    for _ in range(5):
        assert login(client, "admin@battrang.vn", "wrong-password").status_code == 401
    refused = login(client, "admin@battrang.vn", "wrong-password")
    assert refused.status_code == 429
    assert '<p class="error-code">429</p>' in refused.get_data(as_text=True)  # the page says which refusal it is
    # and now even the right password waits
    assert login(client, "admin@battrang.vn", TEST_PASSWORD).status_code == 429
    assert not is_signed_in(client)


def test_successful_logins_do_not_use_up_the_limit(client, admin):
    for _ in range(6):
        assert login(client, "admin@battrang.vn").status_code == 302
        assert post_form(client, "/logout").status_code == 302
    assert login(client, "admin@battrang.vn", "wrong-password").status_code == 401


def test_limit_per_email_holds_across_addresses(app, admin):
    """Rotating the client IP does not reset the per-email counter: once the email is under attack, every address
    gets one try per window; its second wrong password is refused."""
    for i in range(5):
        client = app.test_client()
        client.get("/lang/en")
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{i + 1}"
        assert login(client, "admin@battrang.vn", "wrong-password").status_code == 401
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.0.0.99"
    assert login(client, "admin@battrang.vn", "wrong-password").status_code == 401
    assert login(client, "admin@battrang.vn", "wrong-password").status_code == 429
    assert login(client, "admin@battrang.vn", TEST_PASSWORD).status_code == 429  # a client that failed waits
    for i in range(5):  # an address that already failed once for this email is refused outright
        retry = app.test_client()
        retry.environ_base["REMOTE_ADDR"] = f"10.0.0.{i + 1}"
        assert login(retry, "admin@battrang.vn", "wrong-password").status_code == 429


def test_an_email_under_attack_still_lets_its_owner_in_from_a_clean_client(app, admin):
    """Five wrong passwords a minute (from one or many addresses) must not lock the victim out."""
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.66"
    for _ in range(5):
        assert login(attacker, "admin@battrang.vn", "wrong-password").status_code == 401
    assert login(attacker, "admin@battrang.vn", "wrong-password").status_code == 429
    owner = app.test_client()
    owner.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    assert login(owner, "admin@battrang.vn", TEST_PASSWORD).status_code == 302
    assert is_signed_in(owner)


def test_the_limit_counts_failures_of_any_email_from_one_address(app, admin):
    client = app.test_client()
    for i in range(5):
        assert login(client, f"nobody{i}@battrang.vn", "wrong-password").status_code == 401
    assert login(client, "admin@battrang.vn", TEST_PASSWORD).status_code == 429


# --- CSRF ------------------------------------------------------------------------------------------------------

def test_login_post_without_csrf_token_is_400_and_not_logged_in(client, admin):
    response = client.post("/login", data={"email": "admin@battrang.vn", "password": TEST_PASSWORD})
    assert response.status_code == 400
    assert not is_signed_in(client)


def test_notice_post_without_csrf_token_is_400_and_creates_nothing(app, client, admin):
    login(client, "admin@battrang.vn")
    before = notice_count(app)
    response = client.post("/c/xa-bat-trang/notices/new", data={"title": "Không có token", "published": "y"})
    assert response.status_code == 400
    assert notice_count(app) == before


def test_notice_post_with_csrf_token_creates_the_notice(app, client, admin):
    login(client, "admin@battrang.vn")
    before = notice_count(app)
    response = post_form(client, "/c/xa-bat-trang/notices/new", {"title": "Có token", "published": "y"})
    assert response.status_code == 302
    assert notice_count(app) == before + 1


# --- logout ----------------------------------------------------------------------------------------------------

def test_logout_by_get_is_not_allowed(client, admin):
    login(client, "admin@battrang.vn")
    assert client.get("/logout").status_code == 405
    assert is_signed_in(client)


def test_logout_post_without_csrf_token_is_400_and_keeps_the_session(client, admin):
    login(client, "admin@battrang.vn")
    assert client.post("/logout").status_code == 400
    assert is_signed_in(client)


def test_logout_post_with_csrf_token_signs_out(client, admin):
    login(client, "admin@battrang.vn")
    response = post_form(client, "/logout")
    assert response.status_code == 302
    assert not is_signed_in(client)


# --- next ------------------------------------------------------------------------------------------------------

def _login_with_next(client, next_value: str):
    token = csrf_token(client, "/login")
    return client.post(
        "/login", data={"email": "admin@battrang.vn", "password": TEST_PASSWORD, "next": next_value, "csrf_token": token}
    )


def test_next_relative_path_is_followed(client, admin):
    response = _login_with_next(client, "/c/xa-bat-trang/notices/")
    assert response.headers["Location"] == "/c/xa-bat-trang/notices/"


def test_login_page_carries_next_from_the_query_string(client, admin):
    redirect = client.get("/c/xa-bat-trang/desk")
    assert redirect.status_code == 302
    html = client.get(redirect.headers["Location"]).get_data(as_text=True)
    assert 'value="/c/xa-bat-trang/desk"' in html


@pytest.mark.parametrize(
    "evil",
    ["//evil.example", "https://evil.example", "http://evil.example/c/x", "/\\evil.example", "\\\\evil.example",
     "/\\/evil.example", "javascript:alert(1)", " //evil.example", "/\t/evil.example"],
)
def test_next_open_redirect_is_ignored(client, admin, evil):
    response = _login_with_next(client, evil)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "evil" not in location and "javascript" not in location
    assert location == "/home"


def test_deactivated_user_loses_an_existing_session(app, client, make, commune, admin):
    """Deactivation must take effect at once, not at the next sign-in."""
    from app.auth.models import User

    make.user("officer@battrang.vn", "officer", commune)
    login(client, "officer@battrang.vn")
    assert client.get("/c/xa-bat-trang/desk").status_code == 200
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "officer@battrang.vn"))
        user.active = False
        db.session.commit()
    response = client.get("/c/xa-bat-trang/desk")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_staff_of_a_deactivated_commune_land_on_the_home_page_not_a_404(client, make):
    closed = make.tenant("xa-dong", "Đóng", status="inactive")
    make.user("officer@dong.vn", "officer", closed)
    assert login(client, "officer@dong.vn", TEST_PASSWORD).status_code == 302
    landing = client.get("/home", follow_redirects=True)
    assert landing.status_code == 200 and landing.request.path == "/"
