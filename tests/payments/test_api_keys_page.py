"""API keys can be listed with their last use and revoked, by the commune's admins (issue 11, item 8)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import TEST_PASSWORD, login, post_form
from tests.payments.helpers import make_account


def key_for(app, tenant, number: str):
    from app.extensions import db
    from app.payments.accounts import create_api_key
    from tenants.scoping import tenant_context
    from tests.payments.conftest import ApiCredentials

    account = make_account(app, tenant, number)
    with app.app_context(), tenant_context(tenant):
        key, secret = create_api_key(db.session.merge(account))
        db.session.commit()
        return ApiCredentials(tenant.id, account.id, key.id, secret)


@pytest.fixture
def world(app, make):
    a, b = make.tenant("xa-a", "Xã A"), make.tenant("xa-b", "Xã B")
    return {
        "a": a, "key_a": key_for(app, a, "0011001234567"), "key_b": key_for(app, b, "0021009876543"),
        "admin": make.user("admin@a.vn", "commune_admin", a),
        "officer": make.user("officer@a.vn", "officer", a),
        "b_admin": make.user("admin@b.vn", "commune_admin", b),
    }


def api_call(client, creds) -> int:
    return client.get("/v1/payment_intents", headers=creds.headers).status_code


def test_the_admin_sees_each_key_with_its_last_use(client, world):
    assert api_call(client, world["key_a"]) == 200  # used once
    login(client, "admin@a.vn")
    html = client.get("/c/xa-a/payments/keys/").get_data(as_text=True)
    row = re.search(rf'data-testid="key-{world["key_a"].key_id}".*?</tr>', html, re.S).group(0)
    assert world["key_a"].secret[:12] in row and world["key_a"].secret not in html  # the prefix, never the secret
    last_used = re.search(r'data-testid="key-last-used">([^<]*)<', row).group(1)
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", last_used.strip())
    assert f'key-{world["key_b"].key_id}"' not in html  # another commune's key does not exist here


def test_a_revoked_key_stops_working_at_once(client, world):
    creds = world["key_a"]
    assert api_call(client, creds) == 200
    login(client, "admin@a.vn")
    response = post_form(client, f"/c/xa-a/payments/keys/{creds.key_id}/revoke", token_from="/c/xa-a/payments/keys/")
    assert response.status_code == 302
    assert api_call(client.application.test_client(), creds) == 401
    html = client.get("/c/xa-a/payments/keys/").get_data(as_text=True)
    assert f'revoke-{creds.key_id}"' not in html  # listed as revoked, no button any more


def test_another_communes_key_cannot_be_revoked(client, world):
    login(client, "admin@a.vn")
    response = post_form(client, f"/c/xa-a/payments/keys/{world['key_b'].key_id}/revoke",
                         token_from="/c/xa-a/payments/keys/")
    assert response.status_code == 404
    assert api_call(client.application.test_client(), world["key_b"]) == 200


def key_rows(html: str) -> int:
    return len(re.findall(r'<tr data-testid="key-\d+"', html))


def test_a_new_key_is_shown_once_and_works_and_reloading_creates_no_second_key(app, client, world):
    login(client, "admin@a.vn")
    page = client.get("/c/xa-a/payments/keys/").get_data(as_text=True)
    account_id = re.search(r'<option[^>]*value="(\d+)"', page).group(1)
    response = post_form(client, "/c/xa-a/payments/keys/", {"account": account_id, "password": TEST_PASSWORD},
                         token_from="/c/xa-a/payments/keys/")
    assert response.status_code == 302  # post-redirect-get: the page showing the secret is a GET
    shown = client.get(response.headers["Location"])
    secret = re.search(r'data-testid="new-key-secret">([^<]+)<', shown.get_data(as_text=True)).group(1)
    assert shown.headers["Cache-Control"] == "no-store"
    assert app.test_client().get("/v1/payment_intents", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    reloaded = client.get(response.headers["Location"]).get_data(as_text=True)  # the browser's reload
    assert secret not in reloaded and 'data-testid="new-key-secret"' not in reloaded
    assert key_rows(reloaded) == key_rows(page) + 1


def test_officers_and_other_communes_do_not_manage_keys(client, world):
    login(client, "officer@a.vn")
    assert client.get("/c/xa-a/payments/keys/").status_code == 404
    assert 'data-testid="nav-keys"' not in client.get("/c/xa-a/payments/").get_data(as_text=True)
    other = client.application.test_client()
    login(other, "admin@b.vn")
    assert other.get("/c/xa-a/payments/keys/").status_code == 404


def test_an_account_of_another_commune_cannot_get_a_key(client, world, app, make):
    foreign = make_account(app, make.tenant("xa-c", "Xã C"), "0031000000001")
    login(client, "admin@a.vn")
    response = post_form(client, "/c/xa-a/payments/keys/", {"account": str(foreign.id), "password": TEST_PASSWORD},
                         token_from="/c/xa-a/payments/keys/")
    assert response.status_code == 400 and 'data-testid="new-key-secret"' not in response.get_data(as_text=True)


def test_a_wrong_password_creates_no_key_and_says_so_at_its_field(client, world):
    login(client, "admin@a.vn")
    page = client.get("/c/xa-a/payments/keys/?lang=en").get_data(as_text=True)
    account_id = re.search(r'<option[^>]*value="(\d+)"', page).group(1)
    response = post_form(client, "/c/xa-a/payments/keys/?lang=en", {"account": account_id, "password": "wrong"},
                         token_from="/c/xa-a/payments/keys/")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Give your password again to confirm this change." in html
    assert 'data-testid="new-key-secret"' not in html
    assert key_rows(client.get("/c/xa-a/payments/keys/").get_data(as_text=True)) == key_rows(page)
