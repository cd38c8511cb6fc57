"""Sign in by phone number (#19): a stallholder with no e-mail address is registered with a mobile number, accepts
the invitation with it and signs in with it however it is written; the throttle counts the ways of writing one
number as one identifier, and a sign-in number belongs to one user."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.auth import services
from app.auth.models import User
from app.errors import Conflict, ValidationError
from app.extensions import db
from app.text import clean_phone, mobile_number
from tenants.market import services as market_services
from tenants.scoping import tenant_context
from tests.conftest import csrf_token, login
from tests.tenants.market.helpers import admin, english, onboard  # noqa: F401 (admin: a fixture)

@pytest.mark.parametrize("written", ["0912345678", "0912 345 678", "0912.345.678", "0912-345-678", "+84912345678",
                                     "+84 912 345 678", "84912345678", " (+84) 912.345.678 "])
def test_every_way_of_writing_a_mobile_number_is_one_number(written):
    assert mobile_number(written) == "0912345678"
    assert services.sign_in_key(written) == "0912345678"


@pytest.mark.parametrize("written", ["", "12345", "091234567", "09123456789", "+1 415 555 0100", "0912345abc"])
def test_what_is_not_a_vietnamese_mobile_number(written):
    assert mobile_number(written) is None


def test_an_email_stays_an_email():
    assert services.sign_in_key("  Huong@TrauQuy.VN ") == "huong@trauquy.vn"
    assert clean_phone(None) == ""


def register(client, **changes):
    """A stallholder with no e-mail address registered by the commune's admin."""
    return onboard(client, **{"email": "", **changes})


def invitation_path(html: str) -> str:
    start = html.index("/c/trau-quy/vendor/welcome/")
    return html[start:html.index('"', start)]


def test_a_stallholder_without_email_accepts_the_invitation_and_signs_in_by_phone(app, client, admin):
    response = register(client)
    assert response.status_code == 201
    html = response.get_data(as_text=True)
    assert "0912345678" in html  # the commune sees what the vendor will sign in with
    with app.app_context():
        user = db.session.scalar(select(User).where(User.login_phone == "0912345678"))
        assert user.email is None
    path = invitation_path(html)
    vendor = app.test_client()
    english(vendor)
    page = vendor.get(path).get_data(as_text=True)
    assert 'data-testid="sign-in-phone"' in page and "0912345678" in page
    accepted = vendor.post(path, data={"password": "rau-sach-2026", "confirm": "rau-sach-2026",
                                       "csrf_token": csrf_token(vendor, path)})
    assert accepted.status_code == 302
    for written in ("+84 912.345.678", "0912 345 678"):
        fresh = app.test_client()
        assert login(fresh, written, "rau-sach-2026").status_code == 302
        assert fresh.get("/home").headers["Location"].endswith("/c/trau-quy/vendor/")
    wrong = login(app.test_client(), "0912345678", "not-the-password")
    assert wrong.status_code == 401 and "Sai email, số điện thoại hoặc mật khẩu." in wrong.get_data(as_text=True)


def test_without_email_the_phone_must_be_a_mobile_number(app, client, admin):
    response = register(client, phone="024 3876 5432 1")
    assert response.status_code == 400
    assert "Vietnamese mobile number of 10 digits" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email.is_(None))) is None


def test_a_sign_in_number_belongs_to_one_user(app, client, admin):
    assert register(client).status_code == 201
    again = register(client, business_name="Hộ Hường 2", phone="+84 912 345 678", account_number="113366669999")
    assert again.status_code == 400  # the form again, with the reason; nothing saved
    assert "already signs in with this phone number" in again.get_data(as_text=True)
    with app.app_context(), tenant_context(admin), pytest.raises(Conflict):
        market_services.onboard_vendor(admin, business_name="Hộ 3", owner_name="Lê Thị Ba", phone="0912345678",
                                       email="", bank_bin="970415", account_number="113366667777",
                                       holder_name="Lê Thị Ba")
    # a vendor with an e-mail address may share the contact number (a family's stalls): it is not their way in
    assert register(client, business_name="Hộ Hường 4", email="ho4@trauquy.vn",
                    account_number="113366665555").status_code == 201


def test_the_database_holds_one_user_per_sign_in_number_and_a_way_in_for_everyone(app):
    with app.app_context():
        db.session.add(User(name="A", login_phone="0912345678", password_hash="x"))
        db.session.commit()
        db.session.add(User(name="B", login_phone="0912345678", password_hash="x"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        db.session.add(User(name="C", password_hash="x"))  # neither an e-mail nor a sign-in number
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_the_throttle_counts_the_ways_of_writing_one_number_together(app, client, admin):
    """Five addresses fail once each, each writing the number its own way: the number is under attack, so the
    first of them is refused at its second try (were the writings five identifiers, none would be)."""
    assert register(client).status_code == 201
    writings = ("0912345678", "0912 345 678", "+84912345678", "84 912.345.678", "0912-345-678")
    for i, written in enumerate(writings):
        guesser = app.test_client()
        guesser.environ_base["REMOTE_ADDR"] = f"10.0.1.{i + 1}"
        assert login(guesser, written, "wrong-password").status_code == 401
    again = app.test_client()
    again.environ_base["REMOTE_ADDR"] = "10.0.1.1"
    assert login(again, "+84 912 345 678", "wrong-password").status_code == 429
    rightful = app.test_client()  # the stallholder's own phone, which has not failed, still gets in
    rightful.environ_base["REMOTE_ADDR"] = "10.0.1.99"
    assert login(rightful, "0912345678", "wrong-password").status_code == 401


def test_staff_still_sign_in_by_email_and_need_one(app, make):
    tenant = make.tenant("trau-quy", "Trâu Quỳ")
    with app.app_context(), pytest.raises(ValidationError):
        services.add_staff(tenant, "officer", "", "Cán bộ", "mat-khau-dai-2026", phone="0912345678")


def test_a_stallholder_without_email_is_not_offered_messages_by_email(app, client, admin):
    from app.notify.models import NotifySubscription

    html = register(client).get_data(as_text=True)
    path = invitation_path(html)
    vendor = app.test_client()
    english(vendor)
    vendor.post(path, data={"password": "rau-sach-2026", "confirm": "rau-sach-2026",
                            "csrf_token": csrf_token(vendor, path)})
    page = vendor.get("/c/trau-quy/market/me/messages").get_data(as_text=True)
    assert 'data-testid="channel-sms"' in page and 'data-testid="channel-email"' not in page
    # a form that asks for e-mail all the same gets the SMS the phone can take, not a 500
    saved = vendor.post("/c/trau-quy/market/me/messages",
                        data={"channel": "email", "csrf_token": csrf_token(vendor, "/c/trau-quy/market/me/messages")})
    assert saved.status_code == 302
    with app.app_context(), tenant_context(admin):
        assert db.session.scalar(select(NotifySubscription.channel)) == "sms"
