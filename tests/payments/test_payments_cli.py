"""flask payments create-account / create-key / expire."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from app.extensions import db
from app.payments.accounts import create_account
from app.clock import utcnow
from tests.payments.helpers import create_intent
from app.payments.models import PaymentAccount, PaymentIntent
from tenants.scoping import all_tenants, tenant_context


def test_create_key_prints_the_secret_and_nothing_else_and_the_key_works(app, runner, client, make):
    make.tenant("bat-trang")
    made = runner.invoke(args=["payments", "create-account", "--tenant", "bat-trang", "--bin", "970415",
                               "--account", "113000583", "--holder", "UBND XA BAT TRANG"])
    assert made.exit_code == 0, made.output
    assert made.stdout == ""  # the account line goes to stderr: stdout stays for the key

    result = runner.invoke(args=["payments", "create-key", "--tenant", "bat-trang"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert result.stdout == secret + "\n"
    assert re.fullmatch(r"sk_test_[A-Za-z0-9]{40,}", secret)

    listed = client.get("/v1/payment_intents", headers={"Authorization": f"Bearer {secret}"})
    assert listed.status_code == 200 and listed.get_json()["object"] == "list"
    second = runner.invoke(args=["payments", "create-key", "--tenant", "bat-trang"]).stdout.strip()
    assert second != secret  # a new key every time


def test_create_key_for_another_account_uses_that_account(app, runner, make):
    """``--account <id>``: a key for a vendor's account, say, instead of the commune's."""
    tenant = make.tenant("bat-trang")
    with app.app_context(), tenant_context(tenant):
        create_account("Phí", "970415", "113000583", "UBND XA BAT TRANG")
        vendor_account = create_account("Gốm Minh Hải", "970436", "0011004455667", "NGUYEN MINH HAI",
                                        owner_kind="vendor")
        db.session.commit()
    secret = runner.invoke(args=["payments", "create-key", "--tenant", "bat-trang", "--account",
                                 str(vendor_account.id)]).stdout.strip()
    from app.payments.accounts import authenticate_api_key

    with app.app_context():
        assert authenticate_api_key(secret).account_id == vendor_account.id


def test_create_key_refuses_clearly_and_prints_no_key(app, runner, make):
    make.tenant("bat-trang")
    no_account = runner.invoke(args=["payments", "create-key", "--tenant", "bat-trang"])
    assert no_account.exit_code != 0 and "create-account" in no_account.output and "sk_" not in no_account.stdout
    unknown = runner.invoke(args=["payments", "create-key", "--tenant", "nowhere"])
    assert unknown.exit_code != 0 and "No commune with slug 'nowhere'" in unknown.output


def test_create_account_refuses_bad_bank_details_and_creates_nothing(app, runner, make):
    make.tenant("bat-trang")
    for bin_, account in (("123456", "113000583"), ("970415", "11-30-00"), ("970415", "1" * 20)):
        result = runner.invoke(args=["payments", "create-account", "--tenant", "bat-trang", "--bin", bin_,
                                     "--account", account, "--holder", "UBND"])
        assert result.exit_code != 0 and "Error:" in result.output
    with app.app_context(), all_tenants():
        assert db.session.scalars(select(PaymentAccount)).all() == []


def test_expire_cancels_overdue_intents_only(app, runner, make):
    tenant = make.tenant("bat-trang")
    with app.app_context(), tenant_context(tenant):
        account = create_account("Phí", "970415", "113000583", "UBND XA BAT TRANG")
        overdue, fresh = create_intent(account, 20_000), create_intent(account, 30_000)
        db.session.execute(update(PaymentIntent).where(PaymentIntent.id == overdue.id)
                           .values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    result = runner.invoke(args=["payments", "expire"])
    assert result.exit_code == 0, result.output
    assert "1 payment intents expired." in result.output
    with app.app_context(), all_tenants():
        states = dict(db.session.execute(select(PaymentIntent.id, PaymentIntent.status)).all())
        reason = db.session.scalar(select(PaymentIntent.cancellation_reason).where(PaymentIntent.id == overdue.id))
    assert states == {overdue.id: "canceled", fresh.id: "requires_action"}
    assert reason == "abandoned"
