"""QR sales from the vendor's phone: an intent for exactly the sale on the vendor's own account, paid by the bank
notification in the same transaction (once, whatever the duplicates), confirmed by hand (recorded as such), cash
sales, expiry; the ledger's totals, filters and CSV."""

from __future__ import annotations

import re

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from app.extensions import db
from app.payments import vietqr
from app.payments.models import PaymentIntent
from tenants.market import queries
from tenants.market.models import MarketSale
from tenants.scoping import all_tenants, tenant_context
from tests.conftest import csrf_token, login
from tests.payments.helpers import intent_state, post_sepay, sepay_payload
from tests.tenants.market.helpers import english, make_market, make_vendor, sale, sales_of

pytestmark = pytest.mark.usefixtures("bank_secrets")


@pytest.fixture
def tenant(make):
    return make.tenant("trau-quy", "Trâu Quỳ")


@pytest.fixture
def vendor(app, client, tenant):
    market_id, stall_ids = make_market(app, tenant)
    info = make_vendor(app, tenant, stall_id=stall_ids[2], account_number="113366668888")
    login(client, info.email)
    english(client)
    return info


def sell(client, amount, method="qr", note="2 kg cải ngọt"):
    token = csrf_token(client, "/c/trau-quy/market/me/sales")
    return client.post("/c/trau-quy/market/me/sales",
                       data={"amount": amount, "note": note, "method": method, "csrf_token": token})


def intent_of(app, sale_id) -> PaymentIntent:
    with app.app_context(), all_tenants():
        row = db.session.scalar(select(PaymentIntent).join(MarketSale, MarketSale.intent_id == PaymentIntent.id)
                                .where(MarketSale.id == sale_id))
        db.session.expunge_all()
        return row


def qr_sale(app, client, amount="150.000") -> tuple[int, PaymentIntent]:
    response = sell(client, amount)
    assert response.status_code == 302
    sale_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    return sale_id, intent_of(app, sale_id)


def test_a_qr_sale_shows_a_dynamic_vietqr_of_exactly_the_amount_on_the_vendors_account(app, client, vendor):
    sale_id, intent = qr_sale(app, client, "150.000")
    assert (intent.purpose, intent.amount, intent.status) == ("market_sale", 150_000, "requires_action")
    decoded = vietqr.decode(intent.qr_payload)
    assert (decoded.bin, decoded.account, decoded.amount, decoded.initiation) == ("970415", "113366668888",
                                                                                 150_000, "12")
    assert decoded.memo == intent.reference_code
    row = sale(app, sale_id)
    assert (row.status, row.method, row.amount, row.stall_number, row.note) == ("pending", "qr", 150_000, "A03",
                                                                                 "2 kg cải ngọt")
    page = client.get(f"/c/trau-quy/market/me/sales/{sale_id}").get_data(as_text=True)
    assert intent.reference_code in page and "150.000 ₫" in page
    # the QR image the page shows decodes (zxing-cpp) to the same payload
    src = page.split('data-testid="sale-qr"')[0].rsplit('src="', 1)[1].split('"')[0].replace("&amp;", "&")
    png = client.get(src.replace("kind=svg", "kind=png").replace(".svg", ".png"))
    assert png.status_code == 200 and png.mimetype == "image/png"
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)))
    assert [f.text for f in found] == [intent.qr_payload]


def test_the_bank_notification_turns_the_sale_paid_and_duplicates_count_once(app, client, vendor):
    sale_id, intent = qr_sale(app, client, "85000")
    status = client.get(f"/c/trau-quy/market/me/sales/{sale_id}/status").get_json()
    assert status["status"] == "pending"
    notification = sepay_payload("113366668888", f"{intent.reference_code} mua rau", 85_000, txn_id=424242,
                                 gateway="VietinBank")
    bank = app.test_client()
    assert post_sepay(bank, notification).status_code == 200
    assert post_sepay(bank, notification).status_code == 200  # the gateway delivers it again
    status = client.get(f"/c/trau-quy/market/me/sales/{sale_id}/status").get_json()
    assert (status["status"], status["confirmation"]) == ("paid", "bank")
    assert intent_state(app, intent.public_id)["status"] == "succeeded"
    # the receipt: when the money arrived and the payment's reference, live and on the page (#19)
    assert re.fullmatch(rf"(Đã nhận lúc|Received) \d\d/\d\d/\d{{4}} \d\d:\d\d · (mã|reference) {intent.reference_code}",
                        status["receipt"])
    page = client.get(f"/c/trau-quy/market/me/sales/{sale_id}").get_data(as_text=True)
    assert f'data-testid="sale-receipt">{status["receipt"]}<' in page
    # a second, different transfer for the same sale is the commune's to refund, not a second sale
    other = sepay_payload("113366668888", f"{intent.reference_code} mua rau", 85_000, txn_id=434343,
                          gateway="VietinBank")
    assert post_sepay(bank, other).status_code == 200
    [only] = sales_of(app, vendor.id)
    assert (only.status, only.amount) == ("paid", 85_000)
    with app.app_context(), tenant_context(vendor.tenant_id):
        today = queries.today()
        total = queries.sales_totals(today, today)
        assert (total.sales, total.amount, total.qr_sales, total.qr_amount) == (1, 85_000, 1, 85_000)


def test_confirming_by_hand_is_recorded_as_such(app, client, vendor):
    sale_id, intent = qr_sale(app, client, "40000")
    token = csrf_token(client, f"/c/trau-quy/market/me/sales/{sale_id}")
    response = client.post(f"/c/trau-quy/market/me/sales/{sale_id}/confirm", data={"csrf_token": token})
    assert response.status_code == 302
    row = sale(app, sale_id)
    assert (row.status, row.confirmation, row.confirmed_by_id) == ("paid", "hand", vendor.user_id)
    assert intent_state(app, intent.public_id)["status"] == "succeeded"
    # a paid sale cannot be confirmed again
    client.post(f"/c/trau-quy/market/me/sales/{sale_id}/confirm", data={"csrf_token": token})
    assert sale(app, sale_id).confirmation == "hand"


def test_a_cash_sale_is_paid_at_once_with_no_payment(app, client, vendor):
    assert sell(client, "25 000", method="cash", note="").status_code == 302
    [row] = sales_of(app, vendor.id)
    assert (row.method, row.status, row.confirmation, row.intent_id, row.amount) == ("cash", "paid", "cash", None,
                                                                                      25_000)
    assert row.paid_at is not None


@pytest.mark.parametrize("amount", ["", "0", "-5", "1,5e3", "abc", "12.5.0x", "99999999999999", "１２３"])
def test_a_bad_amount_is_refused_and_nothing_is_saved(app, client, vendor, amount):
    response = sell(client, amount)
    assert response.status_code == 400
    assert sales_of(app, vendor.id) == []
    with app.app_context(), all_tenants():
        assert db.session.scalars(select(PaymentIntent)).all() == []


def test_an_expired_sale_turns_canceled_when_read(app, client, vendor):
    sale_id, intent = qr_sale(app, client, "30000")
    with app.app_context(), tenant_context(vendor.tenant_id):
        row = db.session.scalar(select(PaymentIntent).where(PaymentIntent.id == intent.id))
        row.expires_at = datetime.now(timezone.utc) - timedelta(minutes=1)
        db.session.commit()
    token = csrf_token(client, "/c/trau-quy/vendor/profile")  # not the sale page: reading it would cancel it
    client.post(f"/c/trau-quy/market/me/sales/{sale_id}/confirm", data={"csrf_token": token})
    assert sale(app, sale_id).confirmation is None  # too late to confirm: refused, and the refusal leaves nothing
    assert client.get(f"/c/trau-quy/market/me/sales/{sale_id}/status").get_json()["status"] == "canceled"
    assert sale(app, sale_id).status == "canceled"  # the expiry, applied again on that read, is committed with it


def test_the_ledger_totals_filters_and_csv(app, client, vendor):
    sell(client, "10000", method="cash", note="=cmd|' /C calc'!A0")
    sell(client, "20000", method="cash")
    sale_id, intent = qr_sale(app, client, "70000")
    post_sepay(app.test_client(), sepay_payload("113366668888", intent.reference_code, 70_000, gateway="VietinBank"))
    qr_sale(app, client, "5000")  # pending: listed, not in the paid totals
    page = client.get("/c/trau-quy/market/me/sales").get_data(as_text=True)
    assert "100.000 ₫" in page  # paid this month: 10.000 + 20.000 + 70.000
    assert page.count('class="sale-amount"') == 4
    only_qr = client.get("/c/trau-quy/market/me/sales?method=qr").get_data(as_text=True)
    assert only_qr.count('class="sale-amount"') == 2 and "70.000 ₫" in only_qr
    with app.app_context(), tenant_context(vendor.tenant_id):
        f = queries.LedgerFilter.from_args({})
        total, per_day, per_month = queries.ledger_totals(vendor.id, f)
        assert (total.sales, total.amount, total.qr_sales, total.qr_amount) == (3, 100_000, 1, 70_000)
        assert [(d, t.amount) for d, t in per_day] == [(queries.today(), 100_000)]
        assert [(m, t.amount) for m, t in per_month] == [(queries.today().strftime("%m/%Y"), 100_000)]
    response = client.get("/c/trau-quy/market/me/sales.csv?status=paid")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "Sale" and len(rows) == 4
    assert sorted(int(r[3]) for r in rows[1:]) == [10_000, 20_000, 70_000]
    assert any(r[9].startswith("'=") for r in rows[1:])  # a formula stays text


def test_a_vendor_without_a_bank_account_cannot_sell_by_qr(app, client, vendor):
    with app.app_context(), tenant_context(vendor.tenant_id):
        from tenants.vendors import payments  # the account is closed, the vendor stays

        payments.close_vendor_accounts(vendor.id)
        db.session.commit()
    response = sell(client, "10000")
    assert response.status_code == 400
    assert "Add your bank account first" in response.get_data(as_text=True)
    assert sales_of(app, vendor.id) == []
