"""The vendor's transfers to check (/c/<slug>/vendor/transfers): transfers into the vendor's account that need a
decision are the vendor's (the money is in its account; only the vendor can send it back). The vendor sees and
settles its own, no one else's; the commune's inbox keeps showing them."""

from __future__ import annotations

import pytest
from app.extensions import db
from app.payments.models import PaymentAccount
from tenants.scoping import tenant_context
from tenants.vendors.payments import vendor_account
from tests.conftest import login, post_form
from tests.payments.helpers import ACCOUNT_A, intent_state, make_account, make_intent, transfer
from tests.payments.test_inbox_views import arrive, flashes
from tests.tenants.market.helpers import make_vendor

pytestmark = pytest.mark.usefixtures("bank_secrets")

VIETCOMBANK = "970436"  # arrive() reports the receiving bank as Vietcombank


def _account_of(app, tenant, vendor_id: int) -> PaymentAccount:
    with app.app_context(), tenant_context(tenant):
        account = vendor_account(vendor_id)
        db.session.expunge(account)
        return account


@pytest.fixture
def shop(app, make):
    a, b = make.tenant("xa-a", "Xã A"), make.tenant("xa-b", "Xã B")
    commune_account = make_account(app, a, ACCOUNT_A)
    huong = make_vendor(app, a, name="Rau Hường", account_number="113300000001", bank_bin=VIETCOMBANK)
    lan = make_vendor(app, a, name="Hoa Lan", account_number="113300000002", bank_bin=VIETCOMBANK)
    other = make_vendor(app, b, name="Gốm Bình", account_number="113300000003", bank_bin=VIETCOMBANK)
    make.user("officer@a.vn", "officer", a)
    return {"a": a, "b": b, "commune_account": commune_account, "huong": huong, "lan": lan, "other": other,
            "huong_account": _account_of(app, a, huong.id)}


def test_a_vendor_sees_the_transfers_into_its_own_account_only(app, client, shop):
    own = arrive(app, "chuyen tien rau", 35_000, shop["huong"].account_number)
    lans = arrive(app, "chuyen tien hoa", 80_000, shop["lan"].account_number)
    communes = arrive(app, "le phi", 50_000, ACCOUNT_A)
    login(client, shop["huong"].email)
    bank = client.get("/c/xa-a/vendor/bank").get_data(as_text=True)
    waiting = bank.split('data-testid="transfers-waiting"')[1].split("</p>")[0]
    assert "1 khoản chuyển vào tài khoản của bạn đang chờ bạn quyết định" in waiting
    page = client.get("/c/xa-a/vendor/transfers").get_data(as_text=True)
    assert f'data-transfer-id="{own}"' in page and "35.000 ₫" in page
    assert f'data-transfer-id="{lans}"' not in page and f'data-transfer-id="{communes}"' not in page
    assert 'data-testid="refund-form"' not in page  # staff's refund flow; the vendor resolves with a note
    # The commune's inbox keeps every one of them (oversight).
    staff_client = app.test_client()
    login(staff_client, "officer@a.vn")
    staff = staff_client.get("/c/xa-a/payments/inbox").get_data(as_text=True)
    assert all(f'data-transfer-id="{t}"' in staff for t in (own, lans, communes))


def test_a_vendor_resolves_its_transfer_and_cannot_touch_anothers(app, client, shop):
    own = arrive(app, "chuyen tien rau", 35_000, shop["huong"].account_number)
    lans = arrive(app, "chuyen tien hoa", 80_000, shop["lan"].account_number)
    communes = arrive(app, "le phi", 50_000, ACCOUNT_A)
    login(client, shop["huong"].email)
    for other in (lans, communes):
        response = post_form(client, f"/c/xa-a/vendor/transfers/{other}/resolve", {"note": "Đã trả lại"},
                             token_from="/c/xa-a/vendor/transfers")
        assert response.status_code == 404
        assert transfer(app, other)["status"] == "unmatched"
    empty = post_form(client, f"/c/xa-a/vendor/transfers/{lans}/resolve", {"note": ""},
                      token_from="/c/xa-a/vendor/transfers")
    assert empty.status_code == 404  # another vendor's transfer is a 404 even with a bad form
    response = post_form(client, f"/c/xa-a/vendor/transfers/{own}/resolve",
                         {"note": "Khách chuyển nhầm, đã trả lại"}, token_from="/c/xa-a/vendor/transfers")
    assert response.status_code == 302
    done = transfer(app, own)
    assert done["status"] == "resolved" and done["note"] == "Khách chuyển nhầm, đã trả lại"
    again = post_form(client, f"/c/xa-a/vendor/transfers/{own}/resolve", {"note": "lần hai"},
                      token_from="/c/xa-a/vendor/transfers")
    assert again.status_code == 302 and flashes(client)  # handled already: a message, not a 404


def test_a_vendor_assigns_a_transfer_to_its_own_sale_only(app, client, shop):
    sale_intent = make_intent(app, shop["huong_account"], 35_000, description="Bán rau")
    fee_intent = make_intent(app, shop["commune_account"], 35_000)
    transfer_id = arrive(app, "tien rau sang nay", 35_000, shop["huong"].account_number)
    login(client, shop["huong"].email)
    refused = post_form(client, f"/c/xa-a/vendor/transfers/{transfer_id}/assign",
                        {"payment": fee_intent.public_id}, token_from="/c/xa-a/vendor/transfers")
    assert refused.status_code == 302 and flashes(client)
    assert transfer(app, transfer_id)["status"] == "unmatched"
    assert intent_state(app, fee_intent.public_id)["amount_received"] == 0
    response = post_form(client, f"/c/xa-a/vendor/transfers/{transfer_id}/assign",
                         {"payment": sale_intent.reference_code}, token_from="/c/xa-a/vendor/transfers")
    assert response.status_code == 302
    assert transfer(app, transfer_id)["status"] == "matched"
    assert intent_state(app, sale_intent.public_id)["status"] == "succeeded"


def test_a_vendor_accepts_a_late_payment_of_its_own_sale(app, client, shop):
    late = make_intent(app, shop["huong_account"], 20_000, expired=True, description="Bán rau")
    transfer_id = arrive(app, late.reference_code, 20_000, shop["huong"].account_number)
    assert transfer(app, transfer_id)["status"] == "late"
    login(client, shop["lan"].email)
    assert post_form(client, f"/c/xa-a/vendor/transfers/{transfer_id}/accept-late",
                     token_from="/c/xa-a/vendor/transfers").status_code == 404
    client = app.test_client()
    login(client, shop["huong"].email)
    assert 'data-testid="accept-late-form"' in client.get("/c/xa-a/vendor/transfers").get_data(as_text=True)
    response = post_form(client, f"/c/xa-a/vendor/transfers/{transfer_id}/accept-late",
                         token_from="/c/xa-a/vendor/transfers")
    assert response.status_code == 302
    state = intent_state(app, late.public_id)
    assert state["status"] == "succeeded" and state["flag"] == "late"


def test_the_vendor_inbox_is_a_vendors_page_of_its_own_commune(app, client, shop):
    arrive(app, "chuyen tien rau", 35_000, shop["huong"].account_number)
    login(client, shop["other"].email)  # a vendor of commune B
    assert client.get("/c/xa-a/vendor/transfers").status_code == 404
    client = app.test_client()
    login(client, "officer@a.vn")  # staff use the commune's inbox; the vendor's page is not theirs
    assert client.get("/c/xa-a/vendor/transfers").status_code == 404


def test_a_sale_paid_twice_is_shown_in_a_stallholders_words_and_linked_to_its_sale(app, client, shop):
    """#19: the second transfer for a QR sale waits in the vendor's inbox as what it paid for, with a link to the
    sale; no internal payment id (pi_...) on the page."""
    from sqlalchemy import select

    from app.payments.models import PaymentIntent
    from tenants.market import services as market_services

    with app.app_context(), tenant_context(shop["a"]):
        sale = market_services.record_qr_sale(shop["huong"].id, "45000")
        db.session.commit()
        sale_id = sale.id
        reference = db.session.scalar(select(PaymentIntent.reference_code).where(PaymentIntent.id == sale.intent_id))
    arrive(app, f"{reference} rau", 45_000, shop["huong"].account_number)
    twice = arrive(app, f"{reference} rau", 45_000, shop["huong"].account_number)
    login(client, shop["huong"].email)
    page = client.get("/c/xa-a/vendor/transfers").get_data(as_text=True)
    item = page.split(f'data-transfer-id="{twice}"')[1].split("</article>")[0]
    link = item.split('data-testid="transfer-paid-for"')[0].rsplit("<a ", 1)[1]
    assert f'href="/c/xa-a/market/me/sales/{sale_id}"' in link
    assert "Lượt bán 45.000 ₫" in item
    assert "pi_" not in page and "sepay" not in page.lower()
