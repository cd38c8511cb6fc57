"""After a merge: old addresses answer with permanent redirects to the successor, /api/communes tells the units in
force on a day with their lineage, and a payment created before the merge and paid after it confirms once, into the
successor's books (tenants/lineage.py, tenants/resolution.py)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app import transactions
from app.extensions import db
from app.payments.models import BankTransfer, PaymentIntent
from tenants.lineage import apply_plan, parse_plan
from tenants.models import Tenant
from tenants.scoping import all_tenants
from tests.conftest import login
from tests.payments.helpers import ACCOUNT_A, event_types, make_account, make_intent, post_sepay, sepay_payload

PLAN = {
    "key": "test-2025", "effective_date": "2025-01-01", "legal_basis": "Nghị quyết thử",
    "new_units": [{"slug": "kim-duc", "name": "Kim Đức", "kind": "xã", "code": "00589"}],
    "lines": [{"predecessor": "dong-du", "successor": "bat-trang", "whole": True},
              {"predecessor": "kim-lan", "successor": "kim-duc", "whole": True},
              {"predecessor": "van-duc", "successor": "kim-duc", "whole": True}],
}


@pytest.fixture
def communes(make):
    return {slug: make.tenant(slug) for slug in ("dong-du", "bat-trang", "kim-lan", "van-duc", "da-ton")}


def reorganise(app, plan=PLAN):
    with app.app_context():
        return transactions.run(lambda: apply_plan(parse_plan(json.dumps(plan).encode())))


def test_old_addresses_redirect_permanently_to_the_successor_with_path_and_query(app, client, communes):
    reorganise(app)
    response = client.get("/c/dong-du/onestop/lookup?code=00574-250101-0001")
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/c/bat-trang/onestop/lookup?code=00574-250101-0001")
    assert client.get("/c/kim-lan/").headers["Location"].endswith("/c/kim-duc/")
    assert client.get("/c/van-duc/market/me/sales/12").headers["Location"].endswith("/c/kim-duc/market/me/sales/12")
    assert client.get("/api/c/van-duc/onestop/metrics").headers["Location"].endswith("/api/c/kim-duc/onestop/metrics")
    posted = client.post("/c/dong-du/onestop/lookup/00574-250101-0001/rate", data={"level": "satisfied"})
    assert posted.status_code == 308  # the method and the body are kept
    assert client.get("/c/da-ton/").status_code == 200  # not part of the plan
    assert client.get("/c/kim-duc/").status_code == 200


def test_merged_units_staff_land_on_the_successor_with_a_notice(app, client, communes, make):
    make.user("admin.dong-du@example.vn", "commune_admin", communes["dong-du"])
    reorganise(app)
    login(client, "admin.dong-du@example.vn")
    desk = client.get("/c/dong-du/desk", follow_redirects=True)
    assert desk.status_code == 200 and desk.request.path == "/c/bat-trang/desk"
    assert "Dong Du" in desk.get_data(as_text=True)  # the notice names the merged unit


def test_api_communes_lists_the_units_in_force_on_a_day_with_their_lineage(app, client, communes):
    reorganise(app)
    today = {u["slug"]: u for u in client.get("/api/communes").get_json()}
    assert set(today) == {"bat-trang", "kim-duc", "da-ton"}
    assert today["kim-duc"]["predecessors"] == ["kim-lan", "van-duc"] and today["kim-duc"]["successors"] == []
    assert today["bat-trang"]["predecessors"] == ["dong-du"]
    assert today["kim-duc"]["valid_from"] == "2025-01-01"
    before = {u["slug"]: u for u in client.get("/api/communes?on=2024-12-31").get_json()}
    assert set(before) == {"dong-du", "bat-trang", "kim-lan", "van-duc", "da-ton"}
    assert before["dong-du"]["successors"] == ["bat-trang"] and before["dong-du"]["valid_until"] == "2024-12-31"
    assert before["kim-lan"]["successors"] == ["kim-duc"]
    # The set-based moves leave one summary entry in each commune's audit trail.
    from app.audit.models import AuditEntry

    with app.app_context(), all_tenants():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "reorganise")).all()
        assert len(entries) == 6 and {e.changes["reorganisation"] for e in entries} == {"test-2025"}
    bad = client.get("/api/communes?on=31/12/2024")
    assert bad.status_code == 400 and bad.get_json()["error"]["param"] == "on"


@pytest.mark.usefixtures("bank_secrets_for_lineage")
def test_a_payment_created_before_the_merge_and_paid_after_it_confirms_once_in_the_successors_books(
        app, client, communes):
    account = make_account(app, communes["dong-du"], ACCOUNT_A)
    intent = make_intent(app, account, 150_000)
    reorganise(app)
    payload = sepay_payload(ACCOUNT_A, intent.reference_code, 150_000)
    assert post_sepay(client, payload).status_code == 200
    assert post_sepay(client, payload).status_code == 200  # the bank reports it again: still one payment
    with app.app_context(), all_tenants():
        paid = db.session.scalar(select(PaymentIntent).where(PaymentIntent.id == intent.id))
        transfers = db.session.scalars(select(BankTransfer)).all()
        bat_trang = db.session.scalar(select(Tenant).where(Tenant.slug == "bat-trang"))
        assert paid.status == "succeeded" and paid.amount_received == 150_000
        assert paid.tenant_id == bat_trang.id
        assert len(transfers) == 1 and transfers[0].tenant_id == bat_trang.id and transfers[0].status == "matched"
    assert event_types(app, intent.public_id).count("payment_intent.succeeded") == 1


def test_a_plan_naming_a_unit_twice_or_a_split_without_a_default_is_refused(app, communes):
    from tenants.lineage import PlanError

    split = dict(PLAN, lines=[{"predecessor": "da-ton", "successor": "bat-trang", "whole": False},
                              {"predecessor": "da-ton", "successor": "kim-duc", "whole": False}])
    with pytest.raises(PlanError, match="split: exactly one of its part lines is the default"):
        parse_plan(json.dumps(split).encode())
    with pytest.raises(PlanError, match="date"):
        parse_plan(json.dumps(dict(PLAN, effective_date="soon")).encode())
    with pytest.raises(PlanError, match="JSON"):
        parse_plan(b"{not json")
