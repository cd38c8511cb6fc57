"""Issue 16, item 16: changing where money goes asks for the password again, is recorded (who, when) and is announced
on the commune's desk. Before, a signed-in vendor (or a stolen session) changed the bank account receiving all of
the stall's QR payments with no password."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.extensions import db
from tenants.scoping import tenant_context
from tenants.vendors import payments
from tests.conftest import TEST_PASSWORD, csrf_token, login, post_form
from tests.tenants.market.helpers import english, make_vendor

NEW = {"bank_bin": "970436", "account_number": "0011001234567", "holder_name": "Trần Văn Bình"}


def _desk_changes(app, email: str) -> int:
    desk = app.test_client()
    login(desk, email)
    page = desk.get("/c/trau-quy/desk").get_data(as_text=True)
    return int(re.search(r'data-testid="money-destination-changes">([^<]+)<', page).group(1).replace(".", ""))


def test_a_vendors_bank_account_changes_only_with_the_password_recorded_and_announced(app, client, make):
    tenant = make.tenant("trau-quy", "Trâu Quỳ")
    make.user("admin@trauquy.vn", "commune_admin", tenant)
    make.user("officer@trauquy.vn", "officer", tenant)
    vendor = make_vendor(app, tenant, account_number="113366668888")
    before = _desk_changes(app, "admin@trauquy.vn")
    login(client, vendor.email)
    english(client)
    url = "/c/trau-quy/vendor/bank"
    # the reproduction: the session alone redirected the stall's takings
    stolen = client.post(url, data={**NEW, "csrf_token": csrf_token(client, url)})
    wrong = client.post(url, data={**NEW, "password": "not-the-password", "csrf_token": csrf_token(client, url)})
    assert stolen.status_code == wrong.status_code == 400
    assert "password again" in wrong.get_data(as_text=True)
    with app.app_context(), tenant_context(tenant):
        assert payments.vendor_account(vendor.id).account_number == "113366668888"  # unchanged
    good = client.post(url, data={**NEW, "password": TEST_PASSWORD, "csrf_token": csrf_token(client, url)})
    assert good.status_code == 302
    with app.app_context(), tenant_context(tenant):
        assert payments.vendor_account(vendor.id).account_number == "0011001234567"
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.tenant_id == tenant.id,
                                                              AuditEntry.table_name == "payment_accounts",
                                                              AuditEntry.actor_id == vendor.user_id)).all()
    assert {e.action for e in entries} == {"insert", "update"}  # the new account, the old one put aside: who, when
    assert all(e.at is not None for e in entries)
    assert _desk_changes(app, "admin@trauquy.vn") == before + len(entries) > 0  # announced to the staff
    assert _desk_changes(app, "officer@trauquy.vn") == before + len(entries)


def test_a_new_api_key_asks_for_the_password(app, client, make):
    from tests.payments.helpers import make_account

    tenant = make.tenant("trau-quy", "Trâu Quỳ")
    make.user("admin@trauquy.vn", "commune_admin", tenant)
    account = make_account(app, tenant, "0031000000009")
    login(client, "admin@trauquy.vn")
    url = "/c/trau-quy/payments/keys/"
    refused = post_form(client, url, {"account": str(account.id)}, token_from=url)
    assert refused.status_code == 400 and 'data-testid="new-key-secret"' not in refused.get_data(as_text=True)
    made = post_form(client, url, {"account": str(account.id), "password": TEST_PASSWORD}, token_from=url)
    assert made.status_code == 302  # post-redirect-get: the secret is shown once, on the page it leads to
    assert 'data-testid="new-key-secret"' in client.get(url).get_data(as_text=True)
    assert _desk_changes(app, "admin@trauquy.vn") >= 1
