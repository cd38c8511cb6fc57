"""Issue 16, items 11 and 16 (passwords): every way a password is set signs out the user's other sessions and
remember-me cookies, every sign-in goes through the one session start, and commonly used passwords are refused.
Before, a new vendor invitation (a vendor's way back in after losing a phone) left the old phone signed in, signed
in with ``login_user`` (no sign-in time), and "12345678" was accepted."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from app.auth.passwords import is_common
from app.auth.sessions import SIGNED_IN_AT
from app.extensions import db
from tenants.scoping import tenant_context
from tenants.vendors import services as vendor_services
from tests.conftest import TEST_PASSWORD, csrf_token, field_error
from tests.security.test_sessions import replay, signed_in
from tests.tenants.market.helpers import english, make_vendor

ROOT = Path(__file__).resolve().parents[2]


def test_a_new_invitation_signs_out_the_old_phone_and_its_remember_cookie(app, client, make):
    tenant = make.tenant("trau-quy", "Trâu Quỳ")
    vendor = make_vendor(app, tenant)  # signed up long ago: a password, a phone that stayed signed in
    old_phone = app.test_client()
    old_phone.post("/login", data={"email": vendor.email, "password": TEST_PASSWORD, "remember": "y",
                                   "csrf_token": csrf_token(old_phone, "/login")})
    remembered = old_phone.get_cookie("remember_token").value
    assert signed_in(old_phone) and signed_in(replay(app, remembered, "remember_token"))
    with app.app_context(), tenant_context(tenant):  # the phone is lost: the commune makes a new invitation
        _user, token = vendor_services.new_invitation(vendor.id, tenant.id)
        db.session.commit()
    url = f"/c/trau-quy/vendor/welcome/{token}"
    answer = client.post(url, data={"password": "rau-sach-2027", "confirm": "rau-sach-2027",
                                    "csrf_token": csrf_token(client, url)})
    assert answer.status_code == 302 and signed_in(client)
    assert not signed_in(old_phone)  # the reproduction: it stayed signed in
    assert not signed_in(replay(app, remembered, "remember_token"))
    with client.session_transaction() as session:  # the one session start: it records the sign-in time
        assert isinstance(session.get(SIGNED_IN_AT), float)


@pytest.mark.parametrize("password", ["12345678", "Password1", "  qwertyuiop ", "matkhau123"])
def test_commonly_used_passwords_are_refused_everywhere_a_password_is_set(app, client, make, password):
    assert is_common(password)
    tenant = make.tenant("trau-quy", "Trâu Quỳ")
    vendor = make_vendor(app, tenant, password=None)
    english(client)
    url = f"/c/trau-quy/vendor/welcome/{vendor.token}"
    refused = client.post(url, data={"password": password, "confirm": password,
                                     "csrf_token": csrf_token(client, url)})
    assert refused.status_code == 400 and "commonly used" in refused.get_data(as_text=True)
    make.user("admin@trauquy.vn", "commune_admin", tenant)
    client.post("/login", data={"email": "admin@trauquy.vn", "password": TEST_PASSWORD,
                                "csrf_token": csrf_token(client, "/login")})
    english(client)
    change = client.post("/account/password?lang=en", data={
        "current_password": TEST_PASSWORD, "new_password": password, "confirm": password,
        "csrf_token": csrf_token(client, "/account/password")})
    assert change.status_code == 400
    assert "commonly used" in (field_error(change, "new_password") or change.get_data(as_text=True))
    assert not is_common("rau-sach-2027") and not is_common(TEST_PASSWORD)


def _calls(name: str) -> set[str]:
    found = set()
    for folder in ("app", "tenants", "marketplace"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == name:
                    found.add(str(path.relative_to(ROOT)))
    return found


def _assigned(attribute: str) -> set[str]:
    found = set()
    for folder in ("app", "tenants", "marketplace"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                targets = node.targets if isinstance(node, ast.Assign) else []
                if any(isinstance(t, ast.Attribute) and t.attr == attribute for t in targets):
                    found.add(str(path.relative_to(ROOT)))
    return found


def test_one_session_start_and_one_way_to_set_a_password():
    assert _calls("login_user") == {"app/auth/sessions.py"}
    # a password is set by app/auth/services.py only (set_password, and the rehash of the same password at sign-in)
    assert _assigned("password_hash") == {"app/auth/services.py"}
