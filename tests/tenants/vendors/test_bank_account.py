"""A vendor's bank account (tenants/vendors/payments.py): checked on entry with messages a vendor can act on, the
holder name kept in the banks' form, changed by the vendor from its Bank page (the old account kept, inactive)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.payments.models import PaymentAccount
from tenants.scoping import tenant_context
from tenants.vendors import payments
from tests.conftest import TEST_PASSWORD, csrf_token, login
from tests.tenants.market.helpers import english, make_market, make_vendor


@pytest.mark.parametrize("name, expected", [
    ("Nguyễn Văn An", "NGUYEN VAN AN"),
    ("  đặng   thị đào ", "DANG THI DAO"),
    ("Đỗ Quốc Việt", "DO QUOC VIET"),
    ("NGUYEN VAN AN", "NGUYEN VAN AN"),
])
def test_holder_name_is_kept_in_the_banks_form(name, expected):
    assert payments.holder_name_for_banks(name) == expected


def test_a_vendor_changes_their_bank_account_with_the_same_checks(app, client, make):
    tenant = make.tenant("trau-quy", "Trâu Quỳ")
    vendor = make_vendor(app, tenant, account_number="113366668888")
    login(client, vendor.email)
    english(client)
    url = "/c/trau-quy/vendor/bank"
    bad = client.post(url, data={"bank_bin": "123456", "account_number": "0011001234567",
                                 "holder_name": "Trần Văn Bình", "password": TEST_PASSWORD,
                                 "csrf_token": csrf_token(client, url)})
    assert bad.status_code == 400 and "Unknown bank" in bad.get_data(as_text=True)
    with app.app_context(), tenant_context(tenant):
        assert payments.vendor_account(vendor.id).account_number == "113366668888"  # unchanged
    good = client.post(url, data={"bank_bin": "970436", "account_number": "0011 0012 34567",
                                  "holder_name": "Trần Văn Bình", "password": TEST_PASSWORD,
                                  "csrf_token": csrf_token(client, url)})
    assert good.status_code == 302
    with app.app_context(), tenant_context(tenant):
        account = payments.vendor_account(vendor.id)
        assert (account.bank_bin, account.account_number, account.holder_name) == ("970436", "0011001234567",
                                                                                 "TRAN VAN BINH")
        assert db.session.scalar(select(func.count()).select_from(PaymentAccount)
                                 .where(PaymentAccount.active.is_(False))) == 1  # the old one, kept inactive


def test_a_vendor_cannot_change_another_vendors_bank_account(app, client, make):
    """The bank page has no vendor id to change: it is the signed-in vendor's own."""
    tenant = make.tenant("trau-quy", "Trâu Quỳ")
    _, stalls = make_market(app, tenant)
    a = make_vendor(app, tenant, stall_id=stalls[0])
    b = make_vendor(app, tenant, stall_id=stalls[1])
    login(client, a.email)
    token = csrf_token(client, "/c/trau-quy/vendor/bank")
    response = client.post("/c/trau-quy/vendor/bank", data={
        "bank_bin": "970436", "account_number": "0011001234567", "holder_name": "Trần Văn Bình",
        "vendor_id": str(b.id), "password": TEST_PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    other = app.test_client()
    login(other, b.email)
    page = other.get("/c/trau-quy/vendor/bank").get_data(as_text=True)
    assert b.account_number in page and "0011001234567" not in page
