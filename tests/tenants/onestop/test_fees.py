"""The fee by VietQR: requesting it creates an intent on the commune's fee account; the bank's notification moves
the dossier on inside the confirming transaction, exactly once, also when the notification arrives twice."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.payments.models import PaymentIntent
from tenants.onestop import services
from tenants.onestop.models import Dossier, DossierEvent
from tenants.scoping import tenant_context
from tests.payments.conftest import bank_secrets  # noqa: F401  (fixture)
from tests.payments.helpers import ACCOUNT_A, make_account, post_sepay, sepay_payload
from tests.conftest import post_form
from tests.tenants.onestop.conftest import APPLICANT, counter_dossier, procedure, vn

pytestmark = pytest.mark.usefixtures("bank_secrets")


@pytest.fixture
def awaiting_fee(app, commune, officer):
    """(dossier id, intent reference code, amount): a dossier waiting for its 8.000 ₫ fee, committed."""
    make_account(app, commune, ACCOUNT_A)
    with app.app_context(), tenant_context(commune):
        d = counter_dossier(officer, procedure(fee=8_000), vn(2026, 3, 2, 8, 0))
        services.request_fee(d, db.session.merge(officer))
        db.session.commit()
        intent = db.session.scalar(select(PaymentIntent).where(PaymentIntent.id == d.fee_intent_id))
        assert (intent.purpose, intent.amount, intent.status) == ("onestop_fee", 8_000, "requires_action")
        return d.id, intent.reference_code, intent.amount


def dossier_state(app, commune, dossier_id):
    with app.app_context(), tenant_context(commune):
        d = db.session.scalar(select(Dossier).where(Dossier.id == dossier_id))
        paid = list(db.session.scalars(select(DossierEvent).where(DossierEvent.dossier_id == dossier_id,
                                                                  DossierEvent.action == "fee_paid")))
        return d.status, d.fee_method, len(paid)


def test_a_paid_fee_moves_the_dossier_on_once_even_when_notified_twice(app, client, commune, awaiting_fee):
    dossier_id, reference, amount = awaiting_fee
    payload = sepay_payload(ACCOUNT_A, f"{reference} nop le phi", amount, txn_id=777001)
    assert post_sepay(client, payload).status_code == 200
    assert dossier_state(app, commune, dossier_id) == ("processing", "vietqr", 1)
    assert post_sepay(client, payload).status_code == 200  # the same notification again
    other = sepay_payload(ACCOUNT_A, f"{reference} nop lai", amount, txn_id=777002)  # a second transfer
    assert post_sepay(client, other).status_code == 200
    assert dossier_state(app, commune, dossier_id) == ("processing", "vietqr", 1)


def test_a_short_payment_does_not_move_the_dossier(app, client, commune, awaiting_fee):
    dossier_id, reference, amount = awaiting_fee
    post_sepay(client, sepay_payload(ACCOUNT_A, f"{reference}", amount - 1_000))
    assert dossier_state(app, commune, dossier_id) == ("awaiting_fee", None, 0)


def test_cash_at_the_counter_is_recorded_as_cash(app, client, commune, officer, awaiting_fee):
    dossier_id, reference, amount = awaiting_fee
    with app.app_context(), tenant_context(commune):
        services.pay_cash(services.lock_dossier(dossier_id), db.session.merge(officer))
        db.session.commit()
    assert dossier_state(app, commune, dossier_id) == ("processing", "cash", 1)
    # the QR was canceled: a transfer arriving later does not count a second time
    post_sepay(client, sepay_payload(ACCOUNT_A, reference, amount))
    assert dossier_state(app, commune, dossier_id) == ("processing", "cash", 1)


def test_no_fee_account_refuses_the_request_and_changes_nothing(app, commune, officer):
    from app.errors import DomainError

    with app.app_context(), tenant_context(commune):
        d = counter_dossier(officer, procedure(fee=8_000), vn(2026, 3, 2, 8, 0))
        with pytest.raises(DomainError, match="tài khoản thu phí"):
            services.request_fee(d, db.session.merge(officer))
        assert d.status == "received" and d.fee_intent_id is None
        db.session.rollback()


def test_a_free_procedure_has_no_fee_to_request(app, commune, officer):
    from app.errors import DomainError

    make_account(app, commune, ACCOUNT_A)
    with app.app_context(), tenant_context(commune):
        d = counter_dossier(officer, procedure(fee=0), vn(2026, 3, 2, 8, 0))
        with pytest.raises(DomainError):
            services.request_fee(d, db.session.merge(officer))
        assert d.status == "received"
        db.session.rollback()


def test_the_fee_qr_is_on_the_public_page_and_in_the_api_while_it_is_asked(app, client, commune, awaiting_fee):
    import base64
    import io
    import re

    import zxingcpp
    from PIL import Image

    dossier_id, reference, amount = awaiting_fee
    with app.app_context(), tenant_context(commune):
        code = db.session.scalar(select(Dossier.code).where(Dossier.id == dossier_id))
    # The code alone shows the status and the fee, never the payment reference (nor the QR carrying it).
    assert client.get(f"/api/dossiers/{code}").get_json()["fee_payment"] is None
    assert reference not in client.get(f"/c/bat-trang/onestop/lookup/{code}").get_data(as_text=True)
    applicant = {"X-Applicant-Id": APPLICANT["id_number"]}
    body = client.get(f"/api/dossiers/{code}", headers=applicant).get_json()
    payment = body["fee_payment"]
    assert (payment["amount"], payment["reference"]) == (8_000, reference)
    assert payment["qr"]["data"].startswith("000201") and reference in payment["qr"]["data"]
    page = post_form(client, f"/c/bat-trang/onestop/lookup/{code}", {"id_number": APPLICANT["id_number"]},
                     token_from=f"/c/bat-trang/onestop/lookup/{code}").get_data(as_text=True)
    png = base64.b64decode(re.search(r'data-testid="fee-qr">.*?src="data:image/png;base64,([^"]+)"', page,
                                     re.S).group(1))
    [decoded] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert decoded.text == payment["qr"]["data"]
    post_sepay(client, sepay_payload(ACCOUNT_A, reference, amount))
    assert client.get(f"/api/dossiers/{code}", headers=applicant).get_json()["fee_payment"] is None  # paid: no QR
