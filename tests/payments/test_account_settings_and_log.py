"""A payment account's own notification secret, the webhook delivery log page, and the statement summary."""

from __future__ import annotations

import io
import json

from sqlalchemy import select

from app.extensions import db
from app.payments.accounts import create_account
from app.payments.events import emit
from tests.payments.helpers import create_intent
from app.payments.models import PaymentAccount, WebhookEndpoint
from app.payments.stripe_wire import new_id
from tenants.scoping import tenant_context
from tests.conftest import csrf_token, login


def _account(app, tenant, number="113000583"):
    with app.app_context(), tenant_context(tenant):
        account = create_account("Phí", "970415", number, "UBND XA BAT TRANG")
        db.session.commit()
        return account


def test_an_accounts_own_sepay_key_authenticates_notifications_for_that_account(app, runner, client, make):
    tenant = make.tenant("bat-trang")
    account = _account(app, tenant)
    with app.app_context(), tenant_context(tenant):
        intent = create_intent(account, 40_000)
    result = runner.invoke(args=["payments", "set-notification-secret", "--tenant", "bat-trang",
                                 "--provider", "sepay-api-key"], input="merchant-own-key-123\n")
    assert result.exit_code == 0, result.output
    assert "merchant-own-key-123" not in result.output  # typed at a hidden prompt, never echoed

    body = json.dumps({"id": 5550001, "gateway": "VietinBank", "transactionDate": "2026-11-27 10:00:00",
                       "accountNumber": "113000583", "code": None, "content": f"{intent.reference_code} phi",
                       "transferType": "in", "transferAmount": 40_000, "accumulated": 0, "subAccount": None,
                       "referenceCode": "FT1", "description": ""})
    answer = client.post("/webhooks/sepay", data=body, content_type="application/json",
                         headers={"Authorization": "Apikey merchant-own-key-123"})
    assert answer.status_code == 200 and answer.get_json() == {"success": True}

    cleared = runner.invoke(args=["payments", "set-notification-secret", "--tenant", "bat-trang",
                                  "--provider", "sepay-api-key", "--clear"])
    assert cleared.exit_code == 0 and "cleared" in cleared.output
    with app.app_context(), tenant_context(tenant):
        assert db.session.scalar(select(PaymentAccount.sepay_api_key)) is None


def test_a_too_short_secret_is_refused_and_nothing_changes(app, runner, make):
    tenant = make.tenant("bat-trang")
    _account(app, tenant)
    result = runner.invoke(args=["payments", "set-notification-secret", "--tenant", "bat-trang",
                                 "--provider", "casso"], input="short\n")
    assert result.exit_code != 0 and "8 đến 255" in result.output  # the CLI speaks the default language
    with app.app_context(), tenant_context(tenant):
        assert db.session.scalar(select(PaymentAccount.casso_checksum_key)) is None


def _endpoint_with_a_delivery(app, tenant, account):
    with app.app_context(), tenant_context(tenant):
        db.session.add(WebhookEndpoint(public_id=new_id("we"), account_id=account.id, url="https://shop.example/hook",
                                       secret=new_id("whsec"), enabled_events=["*"], status="enabled"))
        db.session.commit()
        intent = create_intent(account, 90_000)  # emits created + requires_action: two deliveries
        emit(intent, "payment_intent.canceled")
        db.session.commit()


def test_staff_see_their_communes_webhook_delivery_log(app, client, make):
    a, b = make.tenant("bat-trang"), make.tenant("kieu-ky")
    make.user("officer@a.vn", "officer", a)
    _endpoint_with_a_delivery(app, a, _account(app, a))
    _endpoint_with_a_delivery(app, b, _account(app, b, "113000580"))
    login(client, "officer@a.vn")
    page = client.get("/c/bat-trang/payments/webhooks?lang=en")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('data-testid="delivery-row"') == 3  # its own three, not the other commune's
    assert "payment_intent.canceled" in html and "https://shop.example/hook" in html and "Pending" in html
    assert client.get("/c/kieu-ky/payments/webhooks").status_code == 404


def test_statement_summary_counts_rows_in_both_languages(app, client, make):
    tenant = make.tenant("bat-trang")
    make.user("officer@a.vn", "officer", tenant)
    account = _account(app, tenant)
    login(client, "officer@a.vn")
    csv = "transaction_id,date,amount,content\nT1,27/11/2026 09:00,50.000,khong ma\nT2,bad-date,1,x\n"

    def upload(lang):
        client.get(f"/lang/{lang}")
        token = csrf_token(client, "/c/bat-trang/payments/statement")
        response = client.post("/c/bat-trang/payments/statement",
                               data={"csrf_token": token, "account": str(account.id),
                                     "file": (io.BytesIO(csv.encode()), "sao-ke.csv")},
                               content_type="multipart/form-data")
        return response.get_data(as_text=True)

    assert "Statement imported: 1 row recorded, 1 row skipped." in upload("en")
    assert "Đã nhập sao kê: ghi nhận 0 dòng, bỏ qua 1 dòng." in upload("vi")  # T1 is already recorded now
