"""Bank-notification receivers (/webhooks/sepay, /webhooks/casso, /webhooks/payos) end to end: signature, parsing,
confirm_transfer, the provider's expected answer, and nothing stored on refusal.

The helpers (accounts, intents, signed notifications, database reads) are in tests/payments/helpers.py; the fixtures
(bank_secrets, commune, account, intent) in tests/payments/conftest.py.
"""

from __future__ import annotations

import json
import time

import pytest

from app.payments.bank.payos import sign_payos
from tests.payments.helpers import (
    ACCOUNT_A,
    ACCOUNT_B,
    PAYOS_KEY,
    SEPAY_KEY,
    SEPAY_SECRET,
    casso_body,
    event_types,
    intent_state,
    make_account,
    make_intent,
    mangle,
    payos_body,
    post_casso,
    post_payos,
    post_sepay,
    sepay_payload,
    sepay_request,
    transfer_count,
    transfers,
)

pytestmark = pytest.mark.usefixtures("bank_secrets")


def assert_nothing_stored(app, intent):
    assert transfer_count(app) == 0
    assert intent_state(app, intent.public_id) == {
        "status": "requires_action", "amount_received": 0, "flag": None, "cancellation_reason": None}
    assert event_types(app, intent.public_id) == ["payment_intent.created", "payment_intent.requires_action"]


def assert_paid_once(app, intent, provider: str):
    assert intent_state(app, intent.public_id)["status"] == "succeeded"
    assert intent_state(app, intent.public_id)["amount_received"] == intent.amount
    assert event_types(app, intent.public_id).count("payment_intent.succeeded") == 1
    stored = transfers(app)
    assert len(stored) == 1
    assert stored[0]["provider"] == provider and stored[0]["status"] == "matched"
    assert stored[0]["tenant_id"] == intent.tenant_id and stored[0]["intent_id"] == intent.id


# --- each provider: a signed notification pays the intent -------------------------------------------------------

@pytest.mark.parametrize("auth,key", [("apikey", SEPAY_KEY), ("hmac", SEPAY_SECRET)])
def test_sepay_signed_notification_pays_the_intent(app, client, intent, auth, key):
    response = post_sepay(client, sepay_payload(ACCOUNT_A, mangle(intent.reference_code), 150_000),
                          auth=auth, key=key)
    assert response.status_code == 200
    assert response.get_json() == {"success": True}
    assert_paid_once(app, intent, "sepay")
    assert event_types(app, intent.public_id)[-1] == "payment_intent.succeeded"


def test_casso_signed_notification_pays_the_intent(app, client, intent):
    response = post_casso(client, casso_body(ACCOUNT_A, mangle(intent.reference_code, "glued"), 150_000))
    assert response.status_code == 200
    assert response.get_json() == {"success": True}
    assert_paid_once(app, intent, "casso")


def test_payos_signed_notification_pays_the_intent(app, client, intent):
    response = post_payos(client, payos_body(ACCOUNT_A, mangle(intent.reference_code, "lower"), 150_000))
    assert response.status_code == 200
    assert response.get_json() == {"success": True}
    assert_paid_once(app, intent, "payos")


def test_casso_list_of_transactions_records_each(app, client, account, intent):
    other = make_intent(app, account, 20_000)
    first, second = casso_body(ACCOUNT_A, intent.reference_code, 150_000), casso_body(ACCOUNT_A, other.reference_code, 20_000)
    body = {"error": 0, "data": [first["data"], second["data"]]}
    assert post_casso(client, body).status_code == 200
    assert intent_state(app, intent.public_id)["status"] == "succeeded"
    assert intent_state(app, other.public_id)["status"] == "succeeded"
    assert transfer_count(app) == 2


def test_casso_list_with_one_malformed_item_is_refused_whole_and_records_nothing(app, client, account, intent):
    """A 400 is not retried: recording the good items before the bad one would lose those after it for good."""
    good, bad = casso_body(ACCOUNT_A, intent.reference_code, 150_000), casso_body(ACCOUNT_A, "x", 20_000)
    bad["data"]["id"] = "9" * 101  # longer than a transaction id can be
    body = {"error": 0, "data": [good["data"], bad["data"], casso_body(ACCOUNT_A, "y", 5_000)["data"]]}
    assert post_casso(client, body).status_code == 400
    assert_nothing_stored(app, intent)


# --- refusals: 401 / 400, never 500, nothing stored --------------------------------------------------------------

def _sepay_refusals(code):
    good = sepay_payload(ACCOUNT_A, code, 150_000)
    old = int(time.time()) - 600
    return {
        "no auth": (401, lambda c: post_sepay(c, good, auth="none")),
        "wrong api key": (401, lambda c: post_sepay(c, good, key="not-the-key")),
        "bearer scheme": (401, lambda c: c.post("/webhooks/sepay", data=json.dumps(good),
                                                headers={"Authorization": f"Bearer {SEPAY_KEY}"})),
        "hmac wrong secret": (401, lambda c: post_sepay(c, good, auth="hmac", key="other-secret")),
        "hmac stale timestamp": (401, lambda c: post_sepay(c, good, auth="hmac", key=SEPAY_SECRET, timestamp=old)),
        "hmac future timestamp": (401, lambda c: post_sepay(c, good, auth="hmac", key=SEPAY_SECRET,
                                                            timestamp=int(time.time()) + 900)),
        "hmac over another body": (401, lambda c: c.post(
            "/webhooks/sepay", data=json.dumps({**good, "transferAmount": 1_500_000}),
            headers=sepay_request(good, auth="hmac", key=SEPAY_SECRET)[1])),
        "malformed json": (400, lambda c: post_sepay(c, b'{"id": 1, "transferAmount": ')),
        "json array": (400, lambda c: post_sepay(c, b"[1, 2]")),
        "missing amount": (400, lambda c: post_sepay(c, {k: v for k, v in good.items() if k != "transferAmount"})),
        "missing id": (400, lambda c: post_sepay(c, {k: v for k, v in good.items() if k != "id"})),
        "missing transfer type": (400, lambda c: post_sepay(c, {k: v for k, v in good.items() if k != "transferType"})),
        "float amount": (400, lambda c: post_sepay(c, {**good, "transferAmount": 150000.5})),
        "string amount": (400, lambda c: post_sepay(c, {**good, "transferAmount": "150000"})),
        "negative amount": (400, lambda c: post_sepay(c, {**good, "transferAmount": -150000})),
        "absurd amount": (400, lambda c: post_sepay(c, {**good, "transferAmount": 10**20})),
        "overlong id": (400, lambda c: post_sepay(c, {**good, "id": "X" * 150})),
        "bad date": (400, lambda c: post_sepay(c, {**good, "transactionDate": "yesterday"})),
        "not utf-8": (400, lambda c: post_sepay(c, b'{"id": "\xff\xfe"}')),
    }


def _casso_refusals(code):
    good = casso_body(ACCOUNT_A, code, 150_000)
    now_ms = int(time.time() * 1000)
    missing_amount = {"error": 0, "data": {k: v for k, v in good["data"].items() if k != "amount"}}
    return {
        "no signature": (401, lambda c: post_casso(c, good, key=None)),
        "wrong key": (401, lambda c: post_casso(c, good, key="not-the-key")),
        "stale timestamp": (401, lambda c: post_casso(c, good, t_ms=now_ms - 10 * 60 * 1000)),
        "seconds not milliseconds": (401, lambda c: post_casso(c, good, t_ms=now_ms // 1000)),
        "malformed header": (401, lambda c: post_casso(c, good, header="sha512=abc")),
        "tampered amount": (401, lambda c: post_casso(
            c, good, raw=json.dumps({"error": 0, "data": {**good["data"], "amount": 9_999_999}}).encode())),
        "malformed json": (400, lambda c: post_casso(c, good, raw=b"{not json")),
        "missing amount": (400, lambda c: post_casso(c, missing_amount)),
        "error flag": (400, lambda c: post_casso(c, {**good, "error": 1})),
        "data not an object": (400, lambda c: post_casso(c, {"error": 0, "data": "x"})),
    }


def _payos_refusals(code):
    good = payos_body(ACCOUNT_A, code, 150_000)
    tampered = json.loads(json.dumps(good))
    tampered["data"]["amount"] = 1_500_000
    missing_amount = payos_body(ACCOUNT_A, code, 150_000, key=None)
    del missing_amount["data"]["amount"]
    from app.payments.bank.payos import sign_payos as _sign

    missing_amount["signature"] = _sign(missing_amount["data"], PAYOS_KEY)
    return {
        "wrong key": (401, lambda c: post_payos(c, payos_body(ACCOUNT_A, code, 150_000, key="not-the-key"))),
        "no signature": (401, lambda c: post_payos(c, payos_body(ACCOUNT_A, code, 150_000, key=None))),
        "tampered amount": (401, lambda c: post_payos(c, tampered)),
        "malformed json": (400, lambda c: post_payos(c, None, raw=b"{nope")),
        "not a success": (400, lambda c: post_payos(c, payos_body(ACCOUNT_A, code, 150_000, code="01"))),
        "missing amount": (400, lambda c: post_payos(c, missing_amount)),
        "data not an object": (400, lambda c: post_payos(c, {"code": "00", "data": [1], "signature": "ab"})),
    }


REFUSALS = {"sepay": _sepay_refusals, "casso": _casso_refusals, "payos": _payos_refusals}
CASES = [(provider, case) for provider, build in REFUSALS.items() for case in build("GLAAAAAAAA")]


@pytest.mark.parametrize("provider,case", CASES, ids=[f"{p}-{c}" for p, c in CASES])
def test_refused_notifications_store_nothing(app, client, intent, provider, case):
    expected, send = REFUSALS[provider](mangle(intent.reference_code))[case]
    response = send(client)
    assert response.status_code == expected, response.get_data(as_text=True)
    assert response.is_json and response.get_json()["success"] is False
    assert_nothing_stored(app, intent)


def test_a_body_above_the_size_limit_is_refused(app, client, intent):
    payload = sepay_payload(ACCOUNT_A, intent.reference_code + " " + "x" * 300_000, 150_000)
    response = post_sepay(client, payload)
    assert response.status_code == 413 and response.is_json
    assert_nothing_stored(app, intent)


def test_get_is_not_allowed(client):
    assert client.get("/webhooks/sepay").status_code == 405


def test_no_configured_secret_refuses_everything(app, client, intent, monkeypatch):
    for name in ("SEPAY_API_KEY", "SEPAY_WEBHOOK_SECRET", "CASSO_CHECKSUM_KEY", "PAYOS_CHECKSUM_KEY"):
        monkeypatch.setitem(app.config, name, None)
    assert post_sepay(client, sepay_payload(ACCOUNT_A, intent.reference_code, 150_000)).status_code == 401
    assert post_casso(client, casso_body(ACCOUNT_A, intent.reference_code, 150_000)).status_code == 401
    assert post_payos(client, payos_body(ACCOUNT_A, intent.reference_code, 150_000)).status_code == 401
    assert_nothing_stored(app, intent)


# --- duplicates and outgoing transfers ----------------------------------------------------------------------------

def test_sepay_duplicate_delivery_answers_success_and_changes_nothing(app, client, intent):
    payload = sepay_payload(ACCOUNT_A, mangle(intent.reference_code), 150_000, txn_id=92704)
    for _ in range(3):
        response = post_sepay(client, payload)
        assert response.status_code == 200 and response.get_json() == {"success": True}
    assert_paid_once(app, intent, "sepay")


def test_casso_duplicate_delivery_answers_success_and_changes_nothing(app, client, intent):
    body = casso_body(ACCOUNT_A, mangle(intent.reference_code, "glued"), 150_000, txn_id=555)
    assert post_casso(client, body).status_code == 200
    time.sleep(0.002)  # a retry is signed again, with a new timestamp
    response = post_casso(client, body)
    assert response.status_code == 200 and response.get_json() == {"success": True}
    assert_paid_once(app, intent, "casso")


def test_payos_duplicate_delivery_answers_success_and_changes_nothing(app, client, intent):
    body = payos_body(ACCOUNT_A, intent.reference_code, 150_000, reference="FT2407250001")
    assert post_payos(client, body).status_code == 200
    response = post_payos(client, body)
    assert response.status_code == 200 and response.get_json() == {"success": True}
    assert_paid_once(app, intent, "payos")


def test_same_transaction_id_from_two_providers_are_two_transfers(app, client, account, intent):
    other = make_intent(app, account, 150_000)
    assert post_sepay(client, sepay_payload(ACCOUNT_A, intent.reference_code, 150_000, txn_id=7)).status_code == 200
    assert post_casso(client, casso_body(ACCOUNT_A, other.reference_code, 150_000, txn_id=7)).status_code == 200
    assert transfer_count(app) == 2
    assert intent_state(app, other.public_id)["status"] == "succeeded"


def test_sepay_outgoing_transfer_is_recorded_as_outgoing(app, client, intent):
    response = post_sepay(client, sepay_payload(ACCOUNT_A, intent.reference_code, 150_000, transfer_type="out"))
    assert response.status_code == 200 and response.get_json() == {"success": True}
    [stored] = transfers(app)
    assert stored["status"] == "outgoing" and stored["intent_id"] is None
    assert intent_state(app, intent.public_id)["status"] == "requires_action"


def test_casso_negative_amount_is_outgoing(app, client, intent):
    assert post_casso(client, casso_body(ACCOUNT_A, intent.reference_code, -150_000)).status_code == 200
    [stored] = transfers(app)
    assert stored["status"] == "outgoing" and stored["amount"] == 150_000
    assert intent_state(app, intent.public_id)["amount_received"] == 0


def test_unmatched_notification_is_accepted_and_waits_in_the_inbox(app, client, account, commune):
    response = post_sepay(client, sepay_payload(ACCOUNT_A, "chuyen tien hoc phi chau Minh", 80_000))
    assert response.status_code == 200 and response.get_json() == {"success": True}
    [stored] = transfers(app)
    assert stored["status"] == "unmatched" and stored["tenant_id"] == commune.id


# --- per-account secrets ----------------------------------------------------------------------------------------

@pytest.fixture
def own_keys_account(app, make):
    """Commune B's account brings its own SePay, Casso and payOS secrets."""
    tenant = make.tenant("xa-kieu-ky", "Kiêu Kỵ")
    return make_account(app, tenant, ACCOUNT_B, sepay_api_key="b-sepay-key", sepay_webhook_secret="b-sepay-secret",
                        casso_checksum_key="b-casso-key", payos_checksum_key="b-payos-key")


def test_sepay_account_api_key_is_accepted_for_that_account(app, client, own_keys_account):
    intent_b = make_intent(app, own_keys_account, 90_000)
    response = post_sepay(client, sepay_payload(ACCOUNT_B, intent_b.reference_code, 90_000), key="b-sepay-key")
    assert response.status_code == 200
    assert_paid_once(app, intent_b, "sepay")


def test_sepay_account_hmac_secret_is_accepted_for_that_account(app, client, own_keys_account):
    intent_b = make_intent(app, own_keys_account, 90_000)
    response = post_sepay(client, sepay_payload(ACCOUNT_B, intent_b.reference_code, 90_000), auth="hmac",
                          key="b-sepay-secret")
    assert response.status_code == 200
    assert_paid_once(app, intent_b, "sepay")


def test_casso_account_key_is_accepted_for_that_account(app, client, own_keys_account):
    intent_b = make_intent(app, own_keys_account, 90_000)
    response = post_casso(client, casso_body(ACCOUNT_B, intent_b.reference_code, 90_000), key="b-casso-key")
    assert response.status_code == 200
    assert_paid_once(app, intent_b, "casso")


def test_payos_account_key_is_accepted_for_that_account(app, client, own_keys_account):
    intent_b = make_intent(app, own_keys_account, 90_000)
    response = post_payos(client, payos_body(ACCOUNT_B, intent_b.reference_code, 90_000, key="b-payos-key"))
    assert response.status_code == 200
    assert_paid_once(app, intent_b, "payos")


def test_the_configured_key_still_works_for_an_account_with_its_own(app, client, own_keys_account):
    intent_b = make_intent(app, own_keys_account, 90_000)
    assert post_sepay(client, sepay_payload(ACCOUNT_B, intent_b.reference_code, 90_000)).status_code == 200
    assert_paid_once(app, intent_b, "sepay")


def test_an_account_key_is_refused_for_another_account(app, client, intent, own_keys_account):
    """B's secrets cannot confirm transfers into A's account."""
    code = intent.reference_code
    assert post_sepay(client, sepay_payload(ACCOUNT_A, code, 150_000), key="b-sepay-key").status_code == 401
    assert post_sepay(client, sepay_payload(ACCOUNT_A, code, 150_000), auth="hmac",
                      key="b-sepay-secret").status_code == 401
    assert post_casso(client, casso_body(ACCOUNT_A, code, 150_000), key="b-casso-key").status_code == 401
    assert post_payos(client, payos_body(ACCOUNT_A, code, 150_000, key="b-payos-key")).status_code == 401
    assert post_sepay(client, sepay_payload(None, code, 150_000), key="b-sepay-key").status_code == 401
    assert_nothing_stored(app, intent)


def test_a_casso_batch_needs_a_key_valid_for_every_account(app, client, intent, own_keys_account):
    intent_b = make_intent(app, own_keys_account, 90_000)
    mixed = {"error": 0, "data": [casso_body(ACCOUNT_B, intent_b.reference_code, 90_000)["data"],
                                  casso_body(ACCOUNT_A, intent.reference_code, 150_000)["data"]]}
    assert post_casso(client, mixed, key="b-casso-key").status_code == 401
    assert transfer_count(app) == 0
    assert post_casso(client, mixed).status_code == 200  # the configured key covers both accounts
    assert transfer_count(app) == 2


# --- payOS's test notification, rate limit ---------------------------------------------------------------------

PAYOS_TEST_DATA = {
    "orderCode": 123, "amount": 3000, "description": "VQRIO123", "accountNumber": "12345678",
    "reference": "TF230204212323", "transactionDateTime": "2023-02-04 18:25:00", "currency": "VND",
    "paymentLinkId": "124c33293c43417ab7879e14c8d9eb18", "code": "00", "desc": "Thành công",
    "counterAccountBankId": "", "counterAccountBankName": "", "counterAccountName": "", "counterAccountNumber": "",
    "virtualAccountName": "", "virtualAccountNumber": "",
}


@pytest.mark.parametrize("key", [PAYOS_KEY, "some-other-key"])
def test_payos_test_notification_gets_200_and_is_not_stored(app, client, key):
    body = {"code": "00", "desc": "success", "success": True, "data": PAYOS_TEST_DATA,
            "signature": sign_payos(PAYOS_TEST_DATA, key)}
    response = post_payos(client, body)
    assert response.status_code == 200 and response.get_json() == {"success": True}
    assert transfer_count(app) == 0


def test_webhooks_are_rate_limited(app, client, intent, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_RATE_LIMIT", "2 per minute")
    payload = sepay_payload(ACCOUNT_A, intent.reference_code, 150_000, txn_id=1)
    assert post_sepay(client, payload).status_code == 200
    assert post_sepay(client, payload).status_code == 200
    response = post_sepay(client, payload)
    assert response.status_code == 429 and response.is_json
    assert_paid_once(app, intent, "sepay")


def test_a_database_failure_answers_503_so_the_provider_retries(app, client, intent, monkeypatch):
    import app.payments.bank.receivers as receivers

    def broken(txn):
        raise RuntimeError("database went away")

    monkeypatch.setattr(receivers, "confirm_transfer", broken)
    response = post_sepay(client, sepay_payload(ACCOUNT_A, intent.reference_code, 150_000))
    assert response.status_code == 503 and response.get_json()["success"] is False
    assert_nothing_stored(app, intent)
