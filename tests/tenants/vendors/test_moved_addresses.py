"""The vendor's pages moved from /c/<slug>/market/... to /c/<slug>/vendor/...: the old addresses (bookmarked, and
the invitation links sent by Zalo) answer with a permanent redirect, a form's POST keeps its method (308), and the
old transfer actions work in place, 404 for someone else's transfer as the new ones."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_token, login
from tests.payments.helpers import transfer
from tests.payments.test_inbox_views import arrive
from tests.tenants.market.helpers import make_vendor

pytestmark = pytest.mark.usefixtures("bank_secrets")

MOVED = (("/c/trau-quy/market/me/profile", "/c/trau-quy/vendor/profile"),
         ("/c/trau-quy/market/me/bank", "/c/trau-quy/vendor/bank"),
         ("/c/trau-quy/market/me/transfers?page=2", "/c/trau-quy/vendor/transfers?page=2"),
         ("/c/trau-quy/market/welcome/abc.def-ghi", "/c/trau-quy/vendor/welcome/abc.def-ghi"))


@pytest.mark.parametrize("old, new", MOVED)
def test_an_old_address_is_a_permanent_redirect_to_the_new_one(client, make, old, new):
    make.tenant("trau-quy", "Trâu Quỳ")
    response = client.get(old)
    assert response.status_code == 301 and response.headers["Location"] == new


def test_an_old_invitation_link_still_sets_the_password(app, client, make):
    tenant = make.tenant("trau-quy", "Trâu Quỳ")
    vendor = make_vendor(app, tenant, password=None)
    page = client.get(f"/c/trau-quy/market/welcome/{vendor.token}", follow_redirects=True)
    assert page.status_code == 200 and vendor.email in page.get_data(as_text=True)
    assert login(client, vendor.email, "rau-sach-2026").status_code == 401  # no password yet


def test_a_form_posted_to_an_old_address_keeps_its_method_and_is_saved(app, client, make):
    tenant = make.tenant("trau-quy", "Trâu Quỳ")
    vendor = make_vendor(app, tenant)
    login(client, vendor.email)
    data = {"owner_name": "Nguyễn Thị Hường", "phone": "0987654321", "description": "",
            "csrf_token": csrf_token(client, "/c/trau-quy/vendor/profile")}
    response = client.post("/c/trau-quy/market/me/profile", data=data)
    assert response.status_code == 308 and response.headers["Location"] == "/c/trau-quy/vendor/profile"
    # A browser posts the same form again to the new address (werkzeug's test client cannot re-send the body).
    assert client.post(response.headers["Location"], data=data).status_code == 302
    assert 'value="0987654321"' in client.get("/c/trau-quy/vendor/profile").get_data(as_text=True)


def test_the_old_transfer_actions_work_in_place_for_the_vendors_own_and_404_for_anothers(app, client, make):
    tenant = make.tenant("trau-quy", "Trâu Quỳ")
    huong = make_vendor(app, tenant, account_number="113300000001", bank_bin="970436")
    lan = make_vendor(app, tenant, account_number="113300000002", bank_bin="970436")
    own = arrive(app, "chuyen tien rau", 35_000, huong.account_number)
    lans = arrive(app, "chuyen tien hoa", 80_000, lan.account_number)
    login(client, huong.email)
    token = csrf_token(client, "/c/trau-quy/vendor/transfers")
    refused = client.post(f"/c/trau-quy/market/me/transfers/{lans}/resolve", data={"note": "x", "csrf_token": token})
    assert refused.status_code == 404 and transfer(app, lans)["status"] == "unmatched"
    done = client.post(f"/c/trau-quy/market/me/transfers/{own}/resolve",
                       data={"note": "Đã trả lại khách", "csrf_token": token})
    assert done.status_code == 302 and done.headers["Location"] == "/c/trau-quy/vendor/transfers"
    assert transfer(app, own)["status"] == "resolved"
