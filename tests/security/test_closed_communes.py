"""Issue 16, "seen, not shown harmful": a merged commune's officers still worked on dossiers, an inactive commune's
payment page still showed its QR, QR images of canceled or expired intents were still served. A merged or inactive
commune is read-only for its staff (a clear message), its payment pages say so, and nothing new is accepted."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.payments.intents import cancel_intent, get_intent
from app.payments.models import PaymentIntent
from tenants.models import Tenant
from tenants.onestop.models import Dossier
from tenants.scoping import all_tenants, tenant_context
from tests.conftest import csrf_token, login
from tests.payments.helpers import make_account, make_intent
from tests.tenants.onestop.conftest import counter_dossier, procedure, vn


def _set_status(app, tenant_id: int, status: str, successor_id: int | None = None) -> None:
    with app.app_context():
        tenant = db.session.get(Tenant, tenant_id)
        tenant.status, tenant.successor_id = status, successor_id
        db.session.commit()


def test_a_merged_communes_staff_read_but_change_nothing(app, client, make):
    """A merged unit whose successor is in force redirects to it (tests/tenants/lineage); one whose successor is not
    on the platform (or no longer in force) stays where it is, read-only."""
    old = make.tenant("bat-trang", "Bát Tràng")
    new = make.tenant("gia-lam-moi", "Gia Lâm Mới")
    _set_status(app, new.id, "inactive")  # the successor is not on the platform
    officer = make.user("officer@battrang.vn", "officer", old)
    with app.app_context(), tenant_context(old):
        d = counter_dossier(officer, procedure(), vn(2026, 3, 2, 9, 0))
        db.session.commit()
        dossier_id = d.id
    login(client, "officer@battrang.vn")
    token = csrf_token(client, "/account/password")
    _set_status(app, old.id, "merged", new.id)
    page = client.get(f"/c/bat-trang/onestop/d/{dossier_id}?lang=en")
    assert page.status_code == 200  # read
    assert "merged into Xã Gia Lâm Mới" in page.get_data(as_text=True)  # and told why nothing can be changed
    refused = client.post(f"/c/bat-trang/onestop/d/{dossier_id}/act/process?lang=en", data={"csrf_token": token},
                          follow_redirects=True)  # back to the dossier, with the reason
    assert refused.request.path == f"/c/bat-trang/onestop/d/{dossier_id}"
    assert "can be read but no longer changed" in refused.get_data(as_text=True)
    with app.app_context(), tenant_context(old):
        assert db.session.get(Dossier, dossier_id).status == "received"  # the reproduction: it was processed
    # what it can no longer accept: an online submission from a citizen
    citizen = app.test_client()
    submitted = citizen.post("/c/bat-trang/onestop/submit?lang=en",
                             data={"csrf_token": csrf_token(citizen, "/login")})
    assert submitted.status_code == 403 and "accepts nothing new" in submitted.get_data(as_text=True)


def test_a_closed_communes_payment_page_says_so_and_serves_no_qr(app, client, make):
    tenant = make.tenant("bat-trang", "Bát Tràng")
    intent = make_intent(app, make_account(app, tenant))
    assert client.get(f"/pay/{intent.public_id}/qr.png").status_code == 200
    _set_status(app, tenant.id, "inactive")
    page = client.get(f"/pay/{intent.public_id}?lang=en").get_data(as_text=True)
    assert 'data-testid="commune-closed"' in page and "no longer works" in page
    assert f"/pay/{intent.public_id}/qr.png" not in page
    # the status says closed, not "waiting" (nor "canceled": nobody canceled it), and the poll agrees
    assert 'data-state="closed">Payment closed</strong>' in page and 'data-testid="closed-panel"' in page
    assert ">Waiting for your transfer<" not in page and ">Canceled<" not in page
    assert client.get(f"/pay/{intent.public_id}/status").get_json()["closed"] is True
    assert client.get(f"/pay/{intent.public_id}/qr.png").status_code == 404
    assert client.get(f"/pay/{intent.public_id}/qr.svg").status_code == 404


def test_qr_images_of_canceled_or_expired_intents_are_not_served(app, client, make):
    tenant = make.tenant("bat-trang", "Bát Tràng")
    account = make_account(app, tenant)
    expired = make_intent(app, account, expired=True)
    canceled = make_intent(app, account)
    live = make_intent(app, account)
    for kind in ("png", "svg", "pdf"):
        assert client.get(f"/pay/{live.public_id}/qr.{kind}").status_code == 200
    with app.app_context(), tenant_context(tenant):
        cancel_intent(get_intent(canceled.public_id), "requested_by_customer")
        db.session.commit()
    for kind in ("png", "svg", "pdf"):
        assert client.get(f"/pay/{expired.public_id}/qr.{kind}").status_code == 404
        assert client.get(f"/pay/{canceled.public_id}/qr.{kind}").status_code == 404
    with app.app_context(), all_tenants():
        assert db.session.scalar(select(PaymentIntent.status).where(
            PaymentIntent.public_id == canceled.public_id)) == "canceled"
