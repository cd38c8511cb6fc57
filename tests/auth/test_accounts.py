"""Accounts: password change, a commune admin's officers, the district's commune admins, and who may do what."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.auth import services
from app.auth.models import Membership, User
from app.errors import ValidationError
from app.extensions import db
from tests.conftest import TEST_PASSWORD, login, post_form

NEW_PASSWORD = "new-password-2025"


@pytest.fixture
def commune(make):
    return make.tenant("xa-kieu-ky", "Kiêu Kỵ")


@pytest.fixture
def other_commune(make):
    return make.tenant("xa-ninh-hiep", "Ninh Hiệp")


@pytest.fixture
def admin(make, commune):
    return make.user("admin@kieuky.vn", "commune_admin", commune)


@pytest.fixture
def officer(make, commune):
    return make.user("officer@kieuky.vn", "officer", commune)


@pytest.fixture
def district_admin(make):
    return make.user("district@gialam.vn", "district_admin")


def find_user(app, email: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None:
            _ = user.memberships
            db.session.expunge(user)
        return user


def user_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def membership_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Membership))


def text_of(response) -> str:
    return response.get_data(as_text=True)


# --- password change -------------------------------------------------------------------------------------------

def change_password(client, current: str, new: str, confirm: str):
    return post_form(client, "/account/password", {"current_password": current, "new_password": new, "confirm": confirm})


def test_password_page_needs_a_login(client):
    assert client.get("/account/password").headers["Location"].startswith("/login")


def test_password_change_with_wrong_current_password_is_refused(app, client, admin):
    login(client, "admin@kieuky.vn")
    response = change_password(client, "not-my-password", NEW_PASSWORD, NEW_PASSWORD)
    assert response.status_code == 400
    assert "The current password is wrong." in text_of(response)
    post_form(client, "/logout")
    assert login(client, "admin@kieuky.vn", NEW_PASSWORD).status_code == 401
    assert login(client, "admin@kieuky.vn", TEST_PASSWORD).status_code == 302


def test_password_change_with_mismatched_confirmation_is_refused(client, admin):
    login(client, "admin@kieuky.vn")
    response = change_password(client, TEST_PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x")
    assert response.status_code == 400
    assert "The two passwords do not match." in text_of(response)
    post_form(client, "/logout")
    assert login(client, "admin@kieuky.vn", TEST_PASSWORD).status_code == 302


def test_password_change_with_too_short_password_is_refused(client, admin):
    login(client, "admin@kieuky.vn")
    assert change_password(client, TEST_PASSWORD, "short", "short").status_code == 400


def test_password_change_succeeds_and_the_new_password_signs_in(client, admin):
    login(client, "admin@kieuky.vn")
    response = change_password(client, TEST_PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    assert "Your password has been changed." in text_of(client.get(response.headers["Location"], follow_redirects=True))
    post_form(client, "/logout")
    assert login(client, "admin@kieuky.vn", TEST_PASSWORD).status_code == 401
    assert login(client, "admin@kieuky.vn", NEW_PASSWORD).status_code == 302


# --- a commune admin's officers ---------------------------------------------------------------------------------

def create_officer(client, email: str, slug: str = "xa-kieu-ky", password: str = "officer-pass-1", **extra):
    data = {"name": "Nguyễn Văn Bình", "email": email, "phone": "0912345678", "password": password}
    data.update(extra)
    return post_form(client, f"/c/{slug}/staff", data)


def test_commune_admin_creates_an_officer_of_their_commune(app, client, commune, admin):
    login(client, "admin@kieuky.vn")
    response = create_officer(client, "Binh.Nguyen@KieuKy.vn")
    assert response.status_code == 302
    user = find_user(app, "binh.nguyen@kieuky.vn")
    assert user is not None and user.active
    assert [(m.tenant_id, m.role) for m in user.memberships] == [(commune.id, "officer")]
    assert "binh.nguyen@kieuky.vn" in text_of(client.get("/c/xa-kieu-ky/staff"))


def test_new_officer_can_sign_in_and_reaches_the_desk(app, client, admin):
    login(client, "admin@kieuky.vn")
    create_officer(client, "binh@kieuky.vn")
    post_form(client, "/logout")
    response = login(client, "binh@kieuky.vn", "officer-pass-1")
    assert client.get(response.headers["Location"], follow_redirects=True).request.path == "/c/xa-kieu-ky/desk"


def test_duplicate_email_is_refused_with_a_clear_message_and_nothing_created(app, client, make, admin, other_commune):
    make.user("taken@example.vn", "officer", other_commune)
    login(client, "admin@kieuky.vn")
    users, memberships = user_count(app), membership_count(app)
    response = create_officer(client, "Taken@Example.vn")
    assert response.status_code == 400
    assert "An account with this email already exists." in text_of(response)
    assert (user_count(app), membership_count(app)) == (users, memberships)
    assert [m.tenant_id for m in find_user(app, "taken@example.vn").memberships] == [other_commune.id]


@pytest.mark.parametrize("field, value", [("email", "not-an-email"), ("password", "short"), ("name", "")])
def test_bad_officer_input_is_a_400_with_nothing_created(app, client, admin, field, value):
    login(client, "admin@kieuky.vn")
    users = user_count(app)
    data = {"email": "new@kieuky.vn", field: value}
    response = create_officer(client, **data)
    assert response.status_code == 400
    assert user_count(app) == users


def test_officer_cannot_see_the_staff_page(client, officer):
    login(client, "officer@kieuky.vn")
    assert client.get("/c/xa-kieu-ky/staff").status_code == 404


def test_officer_cannot_create_accounts(app, client, officer):
    login(client, "officer@kieuky.vn")
    users = user_count(app)
    assert create_officer(client, "sneaky@kieuky.vn").status_code == 404
    assert user_count(app) == users


def test_officer_cannot_deactivate_a_colleague(app, client, make, commune, officer):
    colleague = make.user("colleague@kieuky.vn", "officer", commune)
    login(client, "officer@kieuky.vn")
    assert post_form(client, f"/c/xa-kieu-ky/staff/{colleague.id}/deactivate").status_code == 404
    assert find_user(app, "colleague@kieuky.vn").active


def test_deactivated_officer_can_no_longer_sign_in(app, admin, officer):
    admin_client, officer_client = app.test_client(), app.test_client()
    officer_client.get("/lang/en")
    login(officer_client, "officer@kieuky.vn")
    assert officer_client.get("/c/xa-kieu-ky/desk").status_code == 200

    login(admin_client, "admin@kieuky.vn")
    response = post_form(admin_client, f"/c/xa-kieu-ky/staff/{officer.id}/deactivate")
    assert response.status_code == 302
    assert find_user(app, "officer@kieuky.vn").active is False

    # the open session stops working at once, and signing in again is refused
    assert officer_client.get("/c/xa-kieu-ky/desk").headers["Location"].startswith("/login")
    fresh = app.test_client()
    assert login(fresh, "officer@kieuky.vn").status_code == 401


def test_reactivated_officer_can_sign_in_again(app, client, admin, make, commune):
    gone = make.user("gone@kieuky.vn", "officer", commune, active=False)
    login(client, "admin@kieuky.vn")
    assert post_form(client, f"/c/xa-kieu-ky/staff/{gone.id}/activate").status_code == 302
    assert login(app.test_client(), "gone@kieuky.vn").status_code == 302


def test_commune_admin_cannot_deactivate_themselves(app, client, admin):
    login(client, "admin@kieuky.vn")
    response = post_form(client, f"/c/xa-kieu-ky/staff/{admin.id}/deactivate")
    assert response.status_code == 404  # the staff routes manage officers; an admin is not one
    assert find_user(app, "admin@kieuky.vn").active is True
    assert client.get("/c/xa-kieu-ky/desk").status_code == 200


def test_the_account_rules_refuse_deactivating_oneself(app, admin):
    with app.app_context():
        me = db.session.get(User, admin.id)
        with pytest.raises(ValidationError):
            services.set_active(me, me, False)
        assert db.session.get(User, admin.id).active is True


# --- the district's commune admins -----------------------------------------------------------------------------

def create_commune_admin(client, tenant_id, email: str = "new.admin@ninhhiep.vn", **extra):
    data = {"tenant": str(tenant_id), "name": "Trần Thị Hoa", "email": email, "password": "admin-pass-1", **extra}
    return post_form(client, "/district/admins", data)


def test_district_admin_creates_a_commune_admin_for_a_chosen_commune(app, client, district_admin, commune, other_commune):
    login(client, "district@gialam.vn")
    response = create_commune_admin(client, other_commune.id)
    assert response.status_code == 302
    user = find_user(app, "new.admin@ninhhiep.vn")
    assert [(m.tenant_id, m.role) for m in user.memberships] == [(other_commune.id, "commune_admin")]
    post_form(client, "/logout")
    response = login(client, "new.admin@ninhhiep.vn", "admin-pass-1")
    assert client.get(response.headers["Location"], follow_redirects=True).request.path == "/c/xa-ninh-hiep/desk"


def test_district_admin_cannot_appoint_an_admin_for_an_inactive_or_unknown_commune(app, client, make, district_admin):
    closed = make.tenant("xa-dong", status="inactive")
    login(client, "district@gialam.vn")
    users = user_count(app)
    assert create_commune_admin(client, closed.id).status_code == 400
    assert create_commune_admin(client, 999999).status_code == 400
    assert create_commune_admin(client, "not-a-number").status_code == 400
    assert user_count(app) == users


def test_district_admin_duplicate_email_is_refused(app, client, district_admin, admin, other_commune):
    login(client, "district@gialam.vn")
    users = user_count(app)
    response = create_commune_admin(client, other_commune.id, email="admin@kieuky.vn")
    assert response.status_code == 400
    assert "An account with this email already exists." in text_of(response)
    assert user_count(app) == users


def test_district_admin_deactivates_a_commune_admin(app, client, district_admin, admin):
    login(client, "district@gialam.vn")
    assert post_form(client, f"/district/admins/{admin.id}/deactivate").status_code == 302
    assert find_user(app, "admin@kieuky.vn").active is False


def test_district_admin_cannot_deactivate_an_officer_through_the_admins_route(app, client, district_admin, officer):
    login(client, "district@gialam.vn")
    assert post_form(client, f"/district/admins/{officer.id}/deactivate").status_code == 404
    assert find_user(app, "officer@kieuky.vn").active is True


@pytest.mark.parametrize("path", ["/district/", "/district/admins"])
def test_commune_admin_gets_403_on_district_pages(client, admin, path):
    login(client, "admin@kieuky.vn")
    assert client.get(path).status_code == 403


def test_commune_admin_cannot_create_a_commune_admin(app, client, admin, other_commune):
    login(client, "admin@kieuky.vn")
    users = user_count(app)
    assert create_commune_admin(client, other_commune.id).status_code == 403
    assert user_count(app) == users


def test_officer_gets_403_on_district_pages(client, officer):
    login(client, "officer@kieuky.vn")
    assert client.get("/district/").status_code == 403


def test_anonymous_visitor_is_sent_to_login_from_district_pages(client):
    assert client.get("/district/").headers["Location"].startswith("/login")


def test_district_page_counts_the_commune_admins_of_each_commune(app, client, make):
    a, b, c = make.tenant("xa-a", "An"), make.tenant("xa-b", "Bình"), make.tenant("xa-c", "Cường")
    make.user("district@gialam.vn", "district_admin")
    for n in range(2):
        make.user(f"admin{n}@a.vn", "commune_admin", a)
    make.user("admin@b.vn", "commune_admin", b)
    make.user("officer@c.vn", "officer", c)  # an officer is not an admin
    login(client, "district@gialam.vn")
    html = client.get("/district/").get_data(as_text=True)
    counts = dict(re.findall(r'>(Xã [^<]+)</td>.*?<td data-label="[^"]*">(\d+)</td>', html, re.S))
    assert counts == {"Xã An": "2", "Xã Bình": "1", "Xã Cường": "0"}


def test_the_staff_page_and_the_desk_count_list_staff_only_not_vendors_or_producers(client, make, commune, admin,
                                                                                     officer):
    make.user("vendor@kieuky.vn", "vendor", commune, name="Bà Hoa bán rau")
    login(client, "admin@kieuky.vn")
    staff_page = text_of(client.get("/c/xa-kieu-ky/staff"))
    assert "officer@kieuky.vn" in staff_page and "admin@kieuky.vn" in staff_page
    assert "vendor@kieuky.vn" not in staff_page and "Bà Hoa bán rau" not in staff_page
    desk = text_of(client.get("/c/xa-kieu-ky/desk"))
    assert re.search(r'data-testid="staff-count">\s*2\s*<', desk)
