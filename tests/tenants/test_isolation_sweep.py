"""Tenant isolation, swept over the URL map: every /c/<tenant_slug>/... route whose parameters name records we make,
asked by a signed-in user of commune A (commune admin, officer, vendor) through A's URL with the ids of commune B's
real records, GET and POST, answers 404 (405 where the method does not exist; 403 only for a vendor on staff pages,
which refuse by role before any record is read). Routes whose record kinds the sweep does not make yet are listed in
NOT_SWEPT, so a new route is either swept or named there."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.payments.accounts import create_account, create_api_key
from tenants.scoping import tenant_context
from tests.conftest import csrf_token, login
from tenants.market import services as market_services
from tests.marketplace.helpers import checkout, make_product, sub_orders
from tests.marketplace.helpers import make_vendor as marketplace_vendor
from tests.payments.helpers import SEPAY_KEY, create_intent, post_sepay, sepay_payload, transfers
from tests.tenants.heritage.helpers import heritage_records
from tests.tenants.onestop.conftest import online_dossier, procedure, vn
from tests.tenants.market.helpers import make_market, make_vendor

# Route parameters that are not record ids: one valid value each.
FIXED = {"action": "deactivate", "size": "a4", "kind": "png"}
# Record kinds the sweep does not make yet (their routes are listed, not silently passed).
NOT_SWEPT_PARAMS = {"document_id", "day_off_id", "code", "token", "name"}
SWEPT_PARAMS = {"notice_id", "user_id", "market_id", "vendor_id", "public_id", "key_id", "procedure_id", "dossier_id",
                "product_id", "sale_id", "sub_order_id", "transfer_id", "claim_id",
                "relic_id", "artefact_id", "stele_id", "festival_id", "board_id"}


@pytest.fixture
def b_records(app, make, monkeypatch):
    a, b = make.tenant("xa-a", "Xã A"), make.tenant("xa-b", "Xã B")
    make.user("admin@a.vn", "commune_admin", a)
    make.user("officer@a.vn", "officer", a)
    a_vendor = make_vendor(app, a)
    b_officer = make.user("officer@b.vn", "officer", b)
    notice = make.notice(b, "Thông báo của B", published=False)
    market_id, _stalls = make_market(app, b)
    b_vendor = make_vendor(app, b)
    with app.app_context(), tenant_context(b):
        account = create_account("Phí", "970415", "113000583", "UBND XA B")
        key, _secret = create_api_key(account)
        db.session.commit()
        intent = create_intent(account, 30_000)
    # A transfer into B's account that matches nothing: it waits in B's inbox.
    monkeypatch.setitem(app.config, "SEPAY_API_KEY", SEPAY_KEY)
    assert post_sepay(app.test_client(), sepay_payload("113000583", "CHUYEN TIEN", 10_000,
                                                       gateway="VietinBank")).status_code < 300
    unmatched = [t for t in transfers(app) if t["tenant_id"] == b.id]
    assert len(unmatched) == 1
    with app.app_context(), tenant_context(b):
        proc = procedure()
        dossier = online_dossier(proc, vn(2026, 11, 30, 9, 0))
        db.session.commit()
        ids = {"transfer_id": unmatched[0]["id"], "notice_id": notice.id,
               "user_id": b_officer.id, "market_id": market_id, "vendor_id": b_vendor.id,
               "public_id": intent.public_id, "key_id": key.id, "procedure_id": proc.id, "dossier_id": dossier.id}
    shop = marketplace_vendor(app, b, "Gốm của B")
    ids["product_id"] = make_product(app, b, shop)
    ids["sub_order_id"] = sub_orders(app, checkout(app, [(ids["product_id"], 1)]))[0]["id"]
    with app.app_context(), tenant_context(b):
        ids["sale_id"] = market_services.record_cash_sale(b_vendor.id, "20000").id
        db.session.commit()
    ids.update(heritage_records(app, b))
    with app.app_context(), tenant_context(b):  # a confirmation by hand of B (the inbox settles it)
        from app.auth.models import User
        from app.payments.bank.reconciliation import confirm_by_hand

        ids["claim_id"] = confirm_by_hand(intent.public_id, 30_000, db.session.get(User, b_officer.id)).id
        db.session.commit()
    return a, ids, a_vendor.email


def _sweepable_rules(app):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/c/<tenant_slug>/"):
            continue
        params = rule.arguments - {"tenant_slug"}
        if params & NOT_SWEPT_PARAMS or not params - set(FIXED):
            continue  # not sweepable yet, or no record id at all
        yield rule


@pytest.mark.parametrize("who", ["admin@a.vn", "officer@a.vn", "vendor"])
def test_a_user_of_commune_a_gets_404_for_every_record_of_commune_b(app, client, b_records, who):
    a, ids, vendor_email = b_records
    login(client, vendor_email if who == "vendor" else who)
    token = csrf_token(client, "/account/password")
    asked, wrong, walked = 0, [], set()
    for rule in _sweepable_rules(app):
        values = {"tenant_slug": a.slug, **{p: ids.get(p, FIXED.get(p)) for p in rule.arguments - {"tenant_slug"}}}
        if any(v is None for v in values.values()):
            continue
        with app.test_request_context():
            url = app.url_for(rule.endpoint, **values)
        walked |= rule.arguments & SWEPT_PARAMS
        allowed = {404, 405} | ({403} if who == "vendor" else set())
        for method in ("GET", "POST"):
            response = client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
            asked += 1
            if response.status_code not in allowed:
                wrong.append((method, url, response.status_code))
    assert asked >= 20 and walked == SWEPT_PARAMS  # the sweep really walked routes of every record kind it made
    assert wrong == []


def test_every_id_taking_commune_route_is_swept_or_named(app):
    """A new kind of record in a commune route must join the sweep (b_records) or NOT_SWEPT_PARAMS, knowingly."""
    known = set(FIXED) | NOT_SWEPT_PARAMS | SWEPT_PARAMS
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/c/<tenant_slug>/"):
            assert rule.arguments - {"tenant_slug"} <= known, rule.rule
