"""Every route, asked the wrong things by the wrong people, answers 4xx (or a redirect), never 500."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_token, login

SAMPLE_VALUES = {
    "tenant_slug": "xa-a",
    "user_id": 999999,
    "notice_id": 999999,
    "transfer_id": 999999,
    "key_id": 999999,
    "public_id": "pi_doesnotexist00000000000",
    "kind": "png",
    "code": "en",
    "action": "deactivate",
    "filename": "site.css",
    "path": "nothing/here",
    "commune_slug": "xa-a",
    "slug": "nothing",
    "vendor_slug": "nobody",
    "product_id": 999999,
    "name": "abc",
    "size": "thumb",
    "sub_order_id": 999999,
    "market_id": 999999,
    "stall_id": 999999,
    "vendor_id": 999999,
    "sale_id": 999999,
    "token": "not-a-token",
    "dossier_id": 999999,
    "document_id": 999999,
    "procedure_id": 999999,
    "day_off_id": 999999,
    "relic_id": 999999,
    "artefact_id": 999999,
    "stele_id": 999999,
    "festival_id": 999999,
    "board_id": 999999,
    "charge": "ch_999999",
    "claim_id": 999999,
}
# No control characters: a NUL anywhere is refused before any view (tests/security/test_bounded_input.py sweeps
# every route with them); this garbage must reach the views' own validation.
GARBAGE = {
    "email": "' OR 1=1 --", "password": "x" * 300, "name": "\u202e\ufeff", "amount": "-1e309", "note": "😀" * 600,
    "title": "", "body": "<script>alert(1)</script>", "tenant": "not-a-number", "payment": "pi_\u202e",
    "phone": "+84" + "9" * 40, "account": "abc", "current_password": "", "new_password": "short", "confirm": "x",
    "metadata[a][b][c]": "1", "amount[]": "1", "currency": "vnd", "limit": "-5", "starting_after": "pi_\u202e",
}


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        values = {arg: SAMPLE_VALUES[arg] for arg in rule.arguments}
        path = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, path


@pytest.mark.parametrize("who", [None, "officer@a.vn", "district@gialam.demo"])
def test_no_route_answers_500(app, client, make, who, monkeypatch):
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    a = make.tenant("xa-a", "A")
    make.user("officer@a.vn", "officer", a)
    make.user("district@gialam.demo", "district_admin")
    if who:
        login(client, who)
    token = csrf_token(client, "/account/password" if who else "/login")
    failures, seen = [], set()
    for method, path in _routes(app):
        if path == "/logout":
            continue  # would end the session the rest of the sweep needs
        for data in ({**GARBAGE, "csrf_token": token}, GARBAGE, None):
            response = client.open(path, method=method, data=data,
                                   headers={"Authorization": "Bearer sk_test_garbage", "Idempotency-Key": "k\x01"})
            seen.add(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{method} {path} -> {response.status_code}")
            if method == "GET":
                break
    assert failures == []
    assert {200, 400, 404} <= seen  # the sweep reached real pages, validation and refusals, not just one wall
