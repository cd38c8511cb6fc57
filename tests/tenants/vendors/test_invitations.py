"""The vendor's sign-in invitation (/c/<slug>/vendor/welcome/<token>): a one-time, expiring link to choose a
password, after which the vendor lands on its first page (the market's sales page)."""

from __future__ import annotations

import time
from types import SimpleNamespace

import itsdangerous.timed

from tenants.vendors import invitations
from tests.conftest import csrf_token, login
from tests.tenants.market.helpers import english, make_vendor


def test_invitation_sets_the_password_once_and_lands_on_the_sales_page(app, client, make):
    tenant = make.tenant("trau-quy", "Trâu Quỳ")
    vendor = make_vendor(app, tenant, password=None)
    english(client)
    url = f"/c/trau-quy/vendor/welcome/{vendor.token}"
    token = csrf_token(client, url)
    response = client.post(url, data={"password": "rau-sach-2026", "confirm": "rau-sach-2026", "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/c/trau-quy/vendor/")  # the vendor's home: a stallholder sells
    assert client.get("/c/trau-quy/vendor/").headers["Location"].endswith("/c/trau-quy/market/me/sales")
    assert client.get("/c/trau-quy/market/me/sales").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account/password")})
    # used: the link no longer works, the password does
    again = client.get(url)
    assert again.status_code == 400 and "already been used" in again.get_data(as_text=True)
    assert login(client, vendor.email, "rau-sach-2026").status_code == 302
    assert client.get("/home").headers["Location"].endswith("/c/trau-quy/vendor/")


def test_an_expired_or_forged_invitation_is_refused(app, client, make, monkeypatch):
    tenant = make.tenant("trau-quy", "Trâu Quỳ")
    vendor = make_vendor(app, tenant, password=None)
    english(client)
    forged = vendor.token[:-3] + ("AAA" if not vendor.token.endswith("AAA") else "BBB")
    assert client.get(f"/c/trau-quy/vendor/welcome/{forged}").status_code == 400
    later = time.time() + (invitations.MAX_AGE_DAYS + 1) * 86400
    monkeypatch.setattr(itsdangerous.timed, "time", SimpleNamespace(time=lambda: later))
    english(client)  # a week later the language choice has ended with the session (sessions last hours)
    response = client.get(f"/c/trau-quy/vendor/welcome/{vendor.token}")
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)


def test_an_invitation_of_another_commune_is_not_accepted_here(app, client, make):
    tenant = make.tenant("trau-quy", "Trâu Quỳ")
    make.tenant("bat-trang", "Bát Tràng")
    vendor = make_vendor(app, tenant, password=None)
    assert client.get(f"/c/bat-trang/vendor/welcome/{vendor.token}").status_code == 400
