"""Sessions end (issue 11, item 4): a copied cookie stops working at logout, password change, deactivation and
"sign out everywhere"; sessions last hours unless "remember me" is chosen; sign-in starts a fresh session."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import pytest

from tests.conftest import TEST_PASSWORD, csrf_token, login, post_form


@pytest.fixture
def commune(make):
    return make.tenant("xa-bat-trang", "Bát Tràng")


@pytest.fixture
def admin(make, commune):
    return make.user("admin@battrang.vn", "commune_admin", commune)


def signed_in(client) -> bool:
    response = client.get("/home")
    return response.status_code == 302 and not response.headers["Location"].startswith("/login")


def replay(app, cookie: str, name: str = "session"):
    """A new browser holding only a copy of the cookie."""
    thief = app.test_client()
    thief.set_cookie(name, cookie, domain="localhost")
    return thief


def test_a_cookie_replayed_after_logout_is_signed_out(app, client, admin):
    login(client, "admin@battrang.vn")
    copied = client.get_cookie("session").value
    assert signed_in(replay(app, copied))  # the copy works while the session lives...
    assert post_form(client, "/logout").status_code == 302
    assert not signed_in(replay(app, copied))  # ...and not after logout


def test_a_cookie_replayed_after_a_password_change_is_signed_out_and_the_changer_stays_in(app, client, admin):
    other_device = app.test_client()
    login(other_device, "admin@battrang.vn")
    login(client, "admin@battrang.vn")
    copied = client.get_cookie("session").value
    response = post_form(client, "/account/password", {"current_password": TEST_PASSWORD,
                                                        "new_password": "a-new-password-9", "confirm": "a-new-password-9"})
    assert response.status_code == 302
    assert signed_in(client)  # the one who changed it goes on
    assert not signed_in(other_device)
    assert not signed_in(replay(app, copied))


def test_a_deactivated_users_cookie_stays_dead_after_reactivation(app, client, make, commune, admin):
    make.user("district@gialam.vn", "district_admin")
    login(client, "admin@battrang.vn")
    copied = client.get_cookie("session").value
    district = app.test_client()
    login(district, "district@gialam.vn")
    assert post_form(district, f"/district/admins/{admin.id}/deactivate", token_from="/district/admins").status_code == 302
    assert post_form(district, f"/district/admins/{admin.id}/activate", token_from="/district/admins").status_code == 302
    assert not signed_in(replay(app, copied))


def test_sign_out_everywhere_ends_every_session_of_the_account(app, client, admin):
    phone = app.test_client()
    login(phone, "admin@battrang.vn")
    login(client, "admin@battrang.vn")
    assert "sign-out-everywhere" in client.get("/account/password").get_data(as_text=True)
    response = post_form(client, "/account/sign-out-everywhere")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert not signed_in(client) and not signed_in(phone)
    assert login(client, "admin@battrang.vn").status_code == 302  # signing in again works


def test_sign_out_everywhere_needs_a_post_with_the_csrf_token(client, admin):
    login(client, "admin@battrang.vn")
    assert client.get("/account/sign-out-everywhere").status_code == 405
    assert client.post("/account/sign-out-everywhere").status_code == 400
    assert signed_in(client)


def cookie_expiry(response, name: str) -> datetime | None:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            for part in header.split(";"):
                if part.strip().lower().startswith("expires="):
                    return parsedate_to_datetime(part.split("=", 1)[1])
    return None


def test_a_session_lasts_hours_and_no_remember_cookie_without_the_choice(app, client, admin):
    response = login(client, "admin@battrang.vn")
    expires = cookie_expiry(response, "session")
    hours = (expires - datetime.now(timezone.utc)).total_seconds() / 3600
    assert app.config["SESSION_HOURS"] - 0.1 < hours <= app.config["SESSION_HOURS"] + 0.1
    assert client.get_cookie("remember_token") is None


def test_remember_me_is_a_choice_and_its_cookie_ends_with_the_session_version(app, client, admin):
    token = csrf_token(client, "/login")
    client.post("/login", data={"email": "admin@battrang.vn", "password": TEST_PASSWORD, "remember": "y",
                                "csrf_token": token})
    remember = client.get_cookie("remember_token")
    assert remember is not None
    assert signed_in(replay(app, remember.value, "remember_token"))  # the remembered device comes back...
    post_form(client, "/logout")
    assert not signed_in(replay(app, remember.value, "remember_token"))  # ...until the account signs out


def test_a_session_older_than_the_maximum_is_signed_out(app, client, admin):
    login(client, "admin@battrang.vn")
    assert signed_in(client)
    with client.session_transaction() as session:
        session["signed_in_at"] = time.time() - app.config["SESSION_MAX_HOURS"] * 3600 - 60
    assert not signed_in(client)


def test_sign_in_starts_a_fresh_session_with_a_new_csrf_token(client, admin):
    client.get("/lang/en")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    before = csrf_token(client, "/login")
    login(client, "admin@battrang.vn")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("lang") == "en"  # the chosen language is kept
    after = csrf_token(client, "/account/password")
    assert after != before
    refused = client.post("/account/password", data={"csrf_token": before, "current_password": TEST_PASSWORD,
                                                      "new_password": "another-pass-1", "confirm": "another-pass-1"})
    assert refused.status_code == 400


def test_a_cookie_of_the_old_format_signs_nobody_in(app, client, admin):
    with client.session_transaction() as session:
        session["_user_id"] = str(admin.id)  # before session versions: the id alone
        session["_fresh"] = True
    assert not signed_in(client)
