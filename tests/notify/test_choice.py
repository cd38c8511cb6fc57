"""The person's choice: a channel or none, from the link in every message; opting out stops what is written and
what is still waiting to be sent (issue #20)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from app.extensions import db
from tenants.onestop import services
from tenants.scoping import tenant_context
from tests.notify.conftest import drain, messages, subscriptions
from tests.tenants.onestop.conftest import online_dossier, procedure


@pytest.fixture
def setup(app, make):
    commune = make.tenant("bat-trang", "Bát Tràng")
    officer = make.user("officer@battrang.vn", "officer", commune)
    with app.app_context(), tenant_context(commune):
        dossier = online_dossier(procedure(), datetime.now(timezone.utc), phone="0912345678", email="an@example.vn")
        services.receive(dossier, db.session.merge(officer))
        db.session.commit()
        return commune, officer, dossier.id


def _choose(client, token, channel):
    page = client.get(f"/thong-bao/{token}")
    assert page.status_code == 200
    csrf = page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    return client.post(f"/thong-bao/{token}", data={"channel": channel, "csrf_token": csrf})


def test_opting_out_stops_waiting_messages_and_every_later_one(app, client, setup):
    commune, officer, dossier_id = setup
    [sub] = subscriptions(app)
    assert sub["channel"] == "email"  # the default when an e-mail is given
    page = client.get(f"/thong-bao/{sub['token']}").get_data(as_text=True)
    assert "a***@example.vn" in page and "an@example.vn" not in page  # the contact, masked
    assert _choose(client, sub["token"], "none").status_code == 302
    assert drain(app) == 0  # canceled at the claim: nothing tried
    [received] = messages(app)
    assert received["status"] == "canceled"  # written before the choice, never sent
    with app.app_context(), tenant_context(commune):
        services.request_documents(services.lock_dossier(dossier_id), db.session.merge(officer), "CCCD")
        db.session.commit()
    assert len(messages(app)) == 1  # nothing written after opting out


def test_changing_the_channel_sends_later_messages_by_sms(app, client, setup):
    commune, officer, dossier_id = setup
    [sub] = subscriptions(app)
    assert _choose(client, sub["token"], "sms").status_code == 302
    with app.app_context(), tenant_context(commune):
        services.request_documents(services.lock_dossier(dossier_id), db.session.merge(officer), "CCCD")
        db.session.commit()
    assert [(m["event"], m["channel"]) for m in messages(app)] == [("received", "email"),
                                                                  ("supplement_requested", "sms")]


def test_a_channel_without_its_contact_or_an_unknown_token_is_refused(app, client, setup):
    [sub] = subscriptions(app)
    assert _choose(client, sub["token"], "fax").status_code == 400
    assert subscriptions(app)[0]["channel"] == "email"
    assert client.get("/thong-bao/" + "x" * 43).status_code == 404
    assert client.get("/thong-bao/short").status_code == 404


def test_staff_see_each_messages_status_on_the_dossier(app, client, setup):
    from tests.conftest import login

    _commune, _officer, dossier_id = setup
    drain(app)
    login(client, "officer@battrang.vn")
    html = client.get(f"/c/bat-trang/onestop/d/{dossier_id}").get_data(as_text=True)
    assert 'data-testid="notify-status"' in html and 'data-status="sent"' in html and "Đã tiếp nhận hồ sơ" in html


@pytest.mark.parametrize("choice, expected", [("zalo", ["zalo"]), ("none", [])])
def test_the_shopper_chooses_the_channel_at_checkout(app, client, make, choice, expected):
    import re

    from tests.marketplace.helpers import make_product, make_vendor

    tenant = make.tenant("bat-trang", "Bát Tràng")
    product = make_product(app, tenant, make_vendor(app, tenant))
    client.post("/marketplace/cart/add", data={"product_id": product, "quantity": "1"})
    page = client.get("/marketplace/checkout").get_data(as_text=True)
    assert 'data-testid="notify-choice"' in page and 'value="email"' not in page  # no e-mail asked at checkout
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/marketplace/checkout", data={
        "csrf_token": token, "name": "Trần Thị Bình", "phone": "0912 345 678", "address": "Số 1 Trâu Quỳ",
        "notify_channel": choice})
    assert response.status_code == 302
    assert [s["channel"] for s in subscriptions(app)] == [choice]
    assert [m["channel"] for m in messages(app)] == expected


def test_the_applicant_chooses_the_channel_when_submitting_online(app, client, make):
    import re

    from tests.tenants.onestop.conftest import procedure_id

    commune = make.tenant("bat-trang", "Bát Tràng")
    proc = procedure_id(app, commune)
    page = client.get("/c/bat-trang/onestop/submit").get_data(as_text=True)
    assert 'data-testid="notify-choice"' in page
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/c/bat-trang/onestop/submit", data={
        "csrf_token": token, "procedure_id": proc, "applicant_name": "Nguyễn Văn An",
        "applicant_id_number": "001090012345", "applicant_phone": "0912345678", "applicant_address": "Thôn 1",
        "applicant_email": "an@example.vn", "notify_channel": "email"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    [sub] = subscriptions(app)
    assert sub["channel"] == "email" and sub["email"] == "an@example.vn" and sub["locale"] == "vi"
