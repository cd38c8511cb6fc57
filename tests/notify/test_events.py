"""Each event produces its message once, in the event's own transaction, in the person's language, with why it was
sent and how to stop, and links from PUBLIC_BASE_URL (issue #20)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app import transactions
from app.extensions import db
from app.formatting import VN_TZ
from app.payments.accounts import create_account
from tenants.onestop import services
from tenants.scoping import tenant_context
from tests.marketplace.helpers import checkout, make_product, make_vendor, sub_orders
from tests.notify.conftest import messages, subscriptions
from tests.payments.helpers import post_sepay, sepay_payload
from tests.tenants.onestop.conftest import PDF, counter_dossier, online_dossier, procedure

BASE = "https://dichvu.gialam.example.vn"


@pytest.fixture(autouse=True)
def _public_base(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", BASE)


@pytest.fixture
def commune(make):
    return make.tenant("bat-trang", "Bát Tràng")


@pytest.fixture
def officer(make, commune):
    return make.user("officer@battrang.vn", "officer", commune, name="Trần Thị Bình")


def test_every_step_of_a_dossier_is_told_once_with_the_appointment_the_pay_link_and_the_apology(
        app, commune, officer):
    with app.app_context(), tenant_context(commune):
        create_account("Phí", "970415", "113000583", "UBND XA BAT TRANG")
        proc = procedure(time_amount=5)
        dossier = counter_dossier(officer, proc, datetime.now(timezone.utc), phone="0912345678", email="")
        db.session.commit()
        dossier_id = dossier.id
        for action, values in (("request_documents", {"reason": "Bản sao CCCD"}), ("process", {}),
                               ("request_fee", {})):
            services.act(services.lock_dossier(dossier_id), action, db.session.merge(officer), **values)
            db.session.commit()
        d = services.lock_dossier(dossier_id)
        services.pay_cash(d, db.session.merge(officer))
        db.session.commit()
        d = services.lock_dossier(dossier_id)
        services.apologise(d, db.session.merge(officer), "Chờ xác minh", d.due_at.replace(tzinfo=timezone.utc)
                           + timedelta(days=3) if d.due_at.tzinfo is None else d.due_at + timedelta(days=3))
        db.session.commit()
        services.record_result(services.lock_dossier(dossier_id), db.session.merge(officer), "kq.pdf", PDF)
        db.session.commit()
        code, fee_intent_id = d.code, d.fee_intent_id
    sent = messages(app, subject=f"dossier:{dossier_id}")
    assert [m["event"] for m in sent] == ["received", "supplement_requested", "fee_requested", "late",
                                          "result_ready"]
    assert {m["channel"] for m in sent} == {"sms"} and {m["address"] for m in sent} == {"84912345678"}
    by_event = {m["event"]: m["body"] for m in sent}
    # SMS without diacritics, with the record's link and the stop link, both from PUBLIC_BASE_URL
    assert all(m["body"].isascii() for m in sent)
    assert f"Ho so {code} da duoc tiep nhan" in by_event["received"] and "Hen tra ket qua" in by_event["received"]
    assert "Ban sao CCCD" in by_event["supplement_requested"]
    assert "8.000" in by_event["fee_requested"] and f"{BASE}/pay/" in by_event["fee_requested"]
    assert "Cho xac minh" in by_event["late"]
    [token] = [s["token"] for s in subscriptions(app)]
    assert all(f"{BASE}/thong-bao/{token}" in m["body"] for m in sent)
    assert fee_intent_id is not None


def test_an_email_in_english_says_why_and_how_to_stop(app, commune, officer):
    from app import notify
    from tenants.onestop import notify as onestop_notify

    with app.app_context(), tenant_context(commune):
        dossier = online_dossier(procedure(), datetime.now(timezone.utc), email="an@example.vn")
        onestop_notify.choose(dossier, "email", locale="en")
        services.receive(dossier, db.session.merge(officer))
        db.session.commit()
        assert notify.subscription(f"dossier:{dossier.id}").channel == "email"
    [message] = messages(app, event="received")
    assert message["channel"] == "email" and message["address"] == "an@example.vn" and message["locale"] == "en"
    assert message["title"].startswith("Dossier ") and message["title"].endswith(" received")
    assert "Why you got this: you gave this contact with dossier" in message["body"]
    assert "To change the channel or stop these messages: " + BASE + "/thong-bao/" in message["body"]
    assert f"{BASE}/c/bat-trang/onestop/lookup/" in message["body"]


def test_a_refused_step_writes_no_message(app, commune, officer):
    with app.app_context(), tenant_context(commune):
        dossier = online_dossier(procedure(), datetime.now(timezone.utc))
        db.session.commit()
        with pytest.raises(services.IllegalTransition):
            services.record_result(services.lock_dossier(dossier.id), db.session.merge(officer), "kq.pdf", PDF)
        db.session.rollback()
        dossier_id = dossier.id

        def receive_then_fail():
            services.receive(services.lock_dossier(dossier_id), db.session.merge(officer))
            raise RuntimeError("the request failed after the step")

        with pytest.raises(RuntimeError):
            transactions.run(receive_then_fail)
    assert messages(app) == []  # the message goes with its event: both rolled back


def test_an_order_tells_each_producers_pay_link_then_each_part_paid_shipped_delivered_once(app, client, make):
    a, b = make.tenant("bat-trang", "Bát Tràng"), make.tenant("kim-lan", "Kim Lan")
    shop_a, shop_b = make_vendor(app, a, "Gốm Minh Long"), make_vendor(app, b, "Gốm Kim Lan")
    pa, pb = make_product(app, a, shop_a), make_product(app, b, shop_b, "Bát gốm", price=90_000)
    code = checkout(app, [(pa, 1), (pb, 2)], phone="0988777666")
    first, second = sub_orders(app, code)
    [placed] = messages(app, event="order_placed")
    assert placed["channel"] == "sms" and placed["address"] == "84988777666" and placed["tenant_id"] == a.id
    assert "Gom Minh Long" in placed["body"] and "250.000" in placed["body"]
    assert f"{BASE}/pay/{first['intent']}" in placed["body"]  # an SMS of at most 3 segments: the first link
    for _ in range(2):  # the bank's notification twice: told once
        assert post_sepay(client, sepay_payload(second["account_number"], f"thanh toan {second['reference']}",
                                                second["amount"], txn_id=4242)).status_code == 200
    from marketplace import services as shop

    with app.app_context(), tenant_context(b):
        for action in ("confirm", "ship", "deliver"):
            shop.act_on_sub_order(shop_b, second["id"], action)
            db.session.commit()
    events = [(m["event"], m["tenant_id"]) for m in messages(app)]
    assert events == [("order_placed", a.id), ("part_paid", a.id), ("shipped", a.id), ("delivered", a.id)]


def test_a_hold_about_to_end_is_told_once_however_often_the_worker_looks(app, make):
    from app.notify.worker import run_producers

    a = make.tenant("bat-trang", "Bát Tràng")
    product = make_product(app, a, make_vendor(app, a))
    code = checkout(app, [(product, 1)], hold=timedelta(minutes=30))
    [sub] = sub_orders(app, code)
    with app.app_context():
        now = datetime.now(timezone.utc)
        run_producers(now)  # 30 minutes left: nothing yet
        assert [m["event"] for m in messages(app)] == ["order_placed"]
        run_producers(now + timedelta(minutes=22))
        run_producers(now + timedelta(minutes=25))
    reminders = messages(app, event="hold_expiring")
    assert len(reminders) == 1 and f"/pay/{sub['intent']}" in reminders[0]["body"]


def test_staff_get_one_digest_a_day_of_dossiers_near_their_deadline(app, commune, officer):
    from app.notify.worker import run_producers

    with app.app_context(), tenant_context(commune):
        proc = procedure(time_amount=1)
        counter_dossier(officer, proc, datetime.now(timezone.utc), phone="", email="")
        db.session.commit()
    morning = datetime(2030, 1, 7, 8, 0, tzinfo=VN_TZ)  # long after: the dossier is late
    with app.app_context():
        run_producers(morning.replace(hour=6))  # before the digest's hour
        assert messages(app, event="deadline_digest") == []
        run_producers(morning)
        run_producers(morning + timedelta(hours=3))
        run_producers(morning + timedelta(days=1))
    digests = messages(app, event="deadline_digest")
    assert len(digests) == 2 and {d["address"] for d in digests} == {"officer@battrang.vn"}
    assert "1 dossiers due within two days" in digests[0]["title"] or "1 hồ sơ" in digests[0]["title"]


def test_staff_hear_of_transfers_waiting_in_the_reconciliation_inbox(app, client, make, monkeypatch):
    from app.notify.worker import run_producers

    tenant = make.tenant("bat-trang", "Bát Tràng")
    make.user("admin@battrang.vn", "commune_admin", tenant)
    with app.app_context(), tenant_context(tenant):
        create_account("Phí", "970415", "113000583", "UBND XA BAT TRANG")
        db.session.commit()
    assert post_sepay(client, sepay_payload("113000583", "CHUYEN TIEN", 10_000,
                                            gateway="VietinBank")).status_code < 300
    with app.app_context():
        run_producers(datetime(2030, 1, 7, 6, 0, tzinfo=VN_TZ))  # before the hour of the staff's daily messages
        assert messages(app, event="reconciliation_waiting") == []
        run_producers(datetime(2030, 1, 7, 9, 0, tzinfo=VN_TZ))
        run_producers(datetime(2030, 1, 7, 10, 0, tzinfo=VN_TZ))
    [waiting] = messages(app, event="reconciliation_waiting")
    assert waiting["address"] == "admin@battrang.vn" and "/c/bat-trang/payments/inbox" in waiting["body"]


def test_a_vendor_gets_the_daily_summary_only_after_asking(app, client, make):
    from app.notify.worker import run_producers
    from tenants.market import services as market
    from tests.conftest import login, post_form
    from tests.tenants.market.helpers import make_vendor as market_vendor

    tenant = make.tenant("bat-trang", "Bát Tràng")
    vendor = market_vendor(app, tenant)
    with app.app_context(), tenant_context(tenant):
        market.record_cash_sale(vendor.id, "20000")
        db.session.commit()
    evening = datetime.now(VN_TZ).replace(hour=21, minute=0)
    with app.app_context():
        run_producers(evening)
    assert messages(app, event="daily_summary") == []
    login(client, vendor.email)
    page = client.get("/c/bat-trang/market/me/messages")
    assert page.status_code == 200
    assert post_form(client, "/c/bat-trang/market/me/messages", {"channel": "sms"},
                     token_from="/c/bat-trang/market/me/messages").status_code == 302
    with app.app_context():
        run_producers(evening)
        run_producers(evening + timedelta(minutes=30))
    [summary] = messages(app, event="daily_summary")
    assert summary["channel"] == "sms" and "20.000" in summary["body"]


def test_the_dossier_page_names_each_message_in_the_readers_words(app, client, commune, officer):
    """Staff see which messages went out as words of their language, not the events' internal names (#19)."""
    from tests.conftest import login

    with app.app_context(), tenant_context(commune):
        create_account("Phí", "970415", "113000583", "UBND XA BAT TRANG")
        dossier = counter_dossier(officer, procedure(time_amount=5), datetime.now(timezone.utc), phone="0912345678",
                                  email="")
        db.session.commit()
        dossier_id = dossier.id
    login(client, officer.email)
    page = client.get(f"/c/bat-trang/onestop/d/{dossier_id}").get_data(as_text=True)
    row = page[page.index('data-testid="notify-row"'):]
    row = row[:row.index("</tr>")]
    assert "Đã tiếp nhận hồ sơ" in row and "SMS" in row and ">received<" not in row and ">sms<" not in row
    english = client.get(f"/c/bat-trang/onestop/d/{dossier_id}?lang=en").get_data(as_text=True)
    assert "Dossier received" in english and ">received<" not in english
