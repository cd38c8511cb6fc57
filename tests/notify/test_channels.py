"""The channels against local servers speaking the providers' formats: a real SMTP server (aiosmtpd), eSMS.vn's
brand-name API and Zalo ZNS, their error answers retried with backoff then reported; SMS text limits; the local
outbox page; secrets stored encrypted and never shown."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app import notify
from app.extensions import db
from app.notify import sms
from app.notify.models import NotifySecret
from tenants.scoping import tenant_context
from tests.notify.conftest import drain, messages


@pytest.fixture
def commune(make):
    return make.tenant("bat-trang", "Bát Tràng")


def _enqueue(app, commune, subject="dossier:1", *, channel="email", phone="0912345678", email="an@example.vn",
             locale="vi", title="Hồ sơ 1 đã có kết quả", body="Hồ sơ của bạn đã có kết quả."):
    with app.app_context(), tenant_context(commune):
        notify.subscribe(subject, phone=phone, email=email, channel=channel, locale=locale)
        message = notify.send(subject, "result_ready", lambda _l: notify.Text(
            title=title, body=body, link="https://x.example.vn/h/1", reason="test",
            zns_template="tpl-1", zns_data={"ma_ho_so": "1"}))
        db.session.commit()
        return message.id


def test_email_goes_through_a_real_smtp_server_with_plain_text_message_id_and_unsubscribe(app, commune, smtp):
    _enqueue(app, commune)
    assert drain(app) == 1
    [mail] = smtp.accepted
    assert mail["To"] == "an@example.vn" and "no-reply@battrang.example.vn" in mail["From"]
    assert mail["Subject"] == "Hồ sơ 1 đã có kết quả"
    assert mail.get_content_type() == "text/plain" and "Hồ sơ của bạn đã có kết quả." in mail.get_content()
    assert mail["Message-ID"].startswith("<dossier.1.result_ready.") and "/thong-bao/" in mail["List-Unsubscribe"]
    [row] = messages(app)
    assert row["status"] == "sent" and row["attempts"] == 1 and row["provider_id"] == mail["Message-ID"]
    assert drain(app) == 0  # nothing left, nothing sent again


def test_an_smtp_refusal_is_retried_with_backoff_then_reported(app, commune, smtp):
    from app.notify.worker import BACKOFF, MAX_ATTEMPTS

    _enqueue(app, commune)
    smtp.refuse_next = 99
    now = datetime.now(timezone.utc)
    assert drain(app, now) == 1
    [row] = messages(app)
    assert row["status"] == "pending" and row["last_error"] == "SMTP 451" and row["attempts"] == 1
    assert drain(app, now) == 0  # not due before its backoff
    for attempt in range(2, MAX_ATTEMPTS + 1):
        now += BACKOFF[attempt - 2] + timedelta(seconds=1)
        assert drain(app, now) == 1
    [row] = messages(app)
    assert row["status"] == "failed" and row["attempts"] == MAX_ATTEMPTS and smtp.accepted == []
    assert len(smtp.arrived) == MAX_ATTEMPTS


def test_sms_through_esms_unaccented_with_the_key_as_request_id(app, commune, esms):
    _enqueue(app, commune, channel="sms")
    assert drain(app) == 1
    [request] = esms.requests
    assert request["Phone"] == "84912345678" and request["Brandname"] == "UBND BATTRANG"
    assert request["ApiKey"] == "api-key" and request["SecretKey"] == "secret-key" and request["SmsType"] == "2"
    assert request["IsUnicode"] == "0" and request["Content"].isascii()
    assert request["Content"].startswith("Ho so 1 da co ket qua: Ho so cua ban da co ket qua.")
    assert request["RequestId"].startswith("dossier:1:result_ready:") and len(request["RequestId"]) <= 50
    assert sms.segments(request["Content"]) <= sms.MAX_SEGMENTS
    [row] = messages(app)
    assert row["status"] == "sent" and row["provider_id"] == "sms-1"


def test_esms_error_answers_are_retried_then_reported(app, commune, esms):
    _enqueue(app, commune, channel="sms")
    esms.fail_next = [(200, {"CodeResult": "99", "ErrorMessage": "Unknown error"}), (500, {"Message": "down"})]
    now = datetime.now(timezone.utc)
    drain(app, now)
    assert messages(app)[0]["last_error"] == "eSMS CodeResult 99"
    drain(app, now + timedelta(minutes=1))
    assert messages(app)[0]["last_error"] == "eSMS: HTTP 500" and messages(app)[0]["status"] == "pending"
    drain(app, now + timedelta(minutes=5))
    [row] = messages(app)
    assert row["status"] == "sent" and row["attempts"] == 3 and len(esms.sent) == 1
    # every attempt carried the same RequestId: the provider could never text twice
    assert len({r["RequestId"] for r in esms.requests}) == 1


def test_zalo_zns_template_with_tracking_id_and_one_token_renewal(app, commune, zalo):
    _enqueue(app, commune, channel="zalo")
    zalo.token = "expired-elsewhere"  # the OA's token expired: -124, renewed once, sent
    assert drain(app) == 1
    [request] = zalo.requests
    assert request["phone"] == "84912345678" and request["template_id"] == "tpl-1"
    data = request["template_data"]
    assert data["ma_ho_so"] == "1" and data["ly_do"] == "test" and "/thong-bao/" in data["dung_nhan"]
    assert request["tracking_id"].startswith("dossier:1:")
    assert zalo.refreshes == [{"secret_key": "app-secret", "app_id": "app-1", "grant_type": "refresh_token",
                               "refresh_token": "refresh-1"}]
    [row] = messages(app)
    assert row["status"] == "sent" and row["provider_id"] == "zns-1"
    with app.app_context(), tenant_context(commune):  # the renewed token is kept, encrypted, for the commune
        from app.notify import secrets

        assert secrets.load("zalo")["access_token"] == "renewed-token"
        stored = db.session.scalar(select(NotifySecret.ciphertext))
        assert "renewed-token" not in stored and "app-secret" not in stored


def test_without_a_provider_development_writes_to_the_local_outbox_page(app, commune, client):
    _enqueue(app, commune, channel="sms", body="Hồ sơ của bạn đã có kết quả. " * 3)
    assert drain(app) == 1
    [row] = messages(app)
    assert row["status"] == "sent" and row["provider_id"] == "outbox"
    page = client.get("/dev/outbox")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "84912345678" in html and "Ho so cua ban da co ket qua" in html and "tin SMS" in html


def test_production_has_no_outbox_page_and_refuses_a_channel_without_provider(app, commune, client, monkeypatch):
    _enqueue(app, commune, channel="sms")
    monkeypatch.setitem(app.config, "PRODUCTION", True)
    monkeypatch.setitem(app.config, "TESTING", False)
    assert client.get("/dev/outbox").status_code == 404
    drain(app)
    [row] = messages(app)
    assert row["status"] == "failed" and row["last_error"] == "sms: no provider configured"


def test_a_communes_own_secret_is_stored_encrypted_and_never_shown(app, commune, runner, esms):
    result = runner.invoke(args=["notify", "set-secret", "--tenant", "bat-trang", "--provider", "sms"],
                           input="commune-key\ncommune-secret\nXA BATTRANG\n")
    assert result.exit_code == 0, result.output
    assert "commune-secret" not in result.output and "will not be shown again" in result.output
    with app.app_context(), tenant_context(commune):
        stored = db.session.scalar(select(NotifySecret.ciphertext))
    assert "commune-key" not in stored and "commune-secret" not in stored
    _enqueue(app, commune, channel="sms")
    drain(app)
    [request] = esms.requests  # the commune's brand name, not the platform's
    assert request["ApiKey"] == "commune-key" and request["Brandname"] == "XA BATTRANG"


@pytest.mark.parametrize("text, folded", [
    ("Hồ sơ đã có kết quả", "Ho so da co ket qua"),
    ("ĐƯỜNG Bát Tràng", "DUONG Bat Trang"),
    ("Phí 8.000 ₫", "Phi 8.000 ?"),
])
def test_sms_text_is_unaccented_gsm(text, folded):
    assert sms.unaccented(text) == folded and sms.is_gsm(sms.unaccented(text))


def test_sms_segments_and_fit():
    assert sms.segments("a" * 160) == 1 and sms.segments("a" * 161) == 2 and sms.segments("a" * 307) == 3
    assert sms.segments("ồ" * 70) == 1 and sms.segments("ồ" * 71) == 2  # UCS-2
    assert sms.length("[]") == 4  # GSM-7 extension characters count two
    long = sms.fit("Hồ sơ " * 200, 2)
    assert long.endswith("...") and sms.length(long) <= 306 and long.isascii()


def test_zns_parameters_are_cut_to_their_documented_limits():
    data = notify.zns_data({"ma_ho_so": "X" * 40, "so_tien": "9" * 25, "ghi_chu": "y" * 300}, "lý do", "https://s")
    assert len(data["ma_ho_so"]) == 30 and len(data["so_tien"]) == 20 and len(data["ghi_chu"]) == 200
    assert data["ly_do"] == "lý do" and data["dung_nhan"] == "https://s"


def test_a_long_sms_is_cut_in_its_words_never_in_its_links(app, commune):
    _enqueue(app, commune, channel="sms", body="Danh sách giấy tờ cần bổ sung rất dài. " * 30)
    [row] = messages(app)
    assert sms.segments(row["body"]) <= sms.MAX_SEGMENTS and row["body"].isascii()
    assert "... https://x.example.vn/h/1 Dung nhan tin: http" in row["body"]
    assert row["body"].split("/thong-bao/")[1].strip() and len(row["body"].split("/thong-bao/")[1]) == 43


def test_flask_notify_status_reports_the_failed_messages(app, commune, runner, monkeypatch):
    _enqueue(app, commune, channel="sms")
    monkeypatch.setitem(app.config, "PRODUCTION", True)  # no provider in production: failed at once
    drain(app)
    result = runner.invoke(args=["notify", "status"])
    assert result.exit_code == 0
    assert "failed    sms: 1" in result.output
    assert "failed #1 dossier:1 result_ready (sms): sms: no provider configured" in result.output
