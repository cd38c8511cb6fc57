"""The office's pages and the citizen's: isolation between communes, personal data behind the ID number, ratings,
search that folds Vietnamese, uploads checked by content, the receipt's QR, the rate limit on look-ups."""

from __future__ import annotations

import base64
import io
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from tenants.onestop import services
from tenants.onestop.models import Dossier, DossierDocument, Rating
from tenants.scoping import tenant_context
from tests.conftest import csrf_token, login
from tests.tenants.onestop.conftest import PDF, counter_dossier, procedure, procedure_id, vn


@pytest.fixture
def dossier(app, commune, officer):
    """A received dossier of Bát Tràng with one scanned document: (id, code, document id)."""
    with app.app_context(), tenant_context(commune):
        d = counter_dossier(officer, procedure(), vn(2026, 3, 2, 9, 0))
        doc = services.add_document(d, "cccd.pdf", PDF)
        db.session.commit()
        return d.id, d.code, doc.id


def post(client, path, data=None, **kwargs):
    token = csrf_token(client, "/account/password")
    return client.post(path, data={**(data or {}), "csrf_token": token}, **kwargs)


def test_an_officer_of_another_commune_gets_404_for_everything(client, make, dossier):
    dossier_id, code, document_id = dossier
    other = make.tenant("kieu-ky", "Kiêu Kỵ")
    make.user("officer@kieuky.vn", "officer", other)
    login(client, "officer@kieuky.vn")
    base = f"/c/bat-trang/onestop/d/{dossier_id}"
    for path in (base, f"{base}/documents/{document_id}", f"{base}/sheet", f"{base}/receipt"):
        assert client.get(path).status_code == 404, path
    # through their own commune's URLs, by id: the dossier does not exist there
    mine = f"/c/kieu-ky/onestop/d/{dossier_id}"
    for path in (mine, f"{mine}/documents/{document_id}", f"{mine}/sheet", f"{mine}/receipt"):
        assert client.get(path).status_code == 404, path
    assert post(client, f"{mine}/act/process").status_code == 404
    assert "onestop/d/" not in client.get(f"/c/kieu-ky/onestop/?q={code}").get_data(as_text=True)


def test_documents_are_served_to_the_commune_staff_only(client, dossier):
    dossier_id, _code, document_id = dossier
    path = f"/c/bat-trang/onestop/d/{dossier_id}/documents/{document_id}"
    assert client.get(path).status_code == 302  # to the sign-in page
    login(client, "officer@battrang.vn")
    response = client.get(path)
    assert response.status_code == 200 and response.data == PDF and response.mimetype == "application/pdf"


def test_uploads_are_checked_by_content_and_size(app, client, commune, dossier):
    dossier_id, _code, _doc = dossier
    login(client, "officer@battrang.vn")
    url = f"/c/bat-trang/onestop/d/{dossier_id}/documents"
    fake = post(client, url, {"file": (io.BytesIO(b"<html>not a pdf</html>"), "giay-to.pdf")},
                content_type="multipart/form-data", follow_redirects=True)
    assert "PDF, PNG" in fake.get_data(as_text=True)
    big = post(client, url, {"file": (io.BytesIO(PDF + b"0" * services.MAX_DOCUMENT_BYTES), "lon.pdf")},
               content_type="multipart/form-data", follow_redirects=True)
    assert "10 MB" in big.get_data(as_text=True)
    with app.app_context(), tenant_context(commune):
        assert len(db.session.scalars(select(DossierDocument)).all()) == 1


def test_the_public_page_shows_no_personal_details_without_the_id_number(client, dossier):
    _id, code, _doc = dossier
    page = client.get(f"/c/bat-trang/onestop/lookup/{code}").get_data(as_text=True)
    assert code in page and "Được tiếp nhận" in page
    assert "Nguyễn Văn An" not in page and "001090012345" not in page and "0912345678" not in page
    token = csrf_token(client, f"/c/bat-trang/onestop/lookup/{code}")
    wrong = client.post(f"/c/bat-trang/onestop/lookup/{code}", data={"id_number": "001090099999", "csrf_token": token})
    assert "Nguyễn Văn An" not in wrong.get_data(as_text=True)
    right = client.post(f"/c/bat-trang/onestop/lookup/{code}", data={"id_number": "001090012345", "csrf_token": token})
    assert "Nguyễn Văn An" in right.get_data(as_text=True)


def test_the_json_api_gives_personal_details_only_with_the_id_number(client, dossier):
    _id, code, _doc = dossier
    plain = client.get(f"/api/dossiers/{code}").get_json()
    assert plain["status"] == "received" and plain["due_at"].startswith("2026-03-05T02:00")
    assert [h["action"] for h in plain["history"]] == ["submit", "receive"]
    assert "applicant" not in plain and "Nguyễn" not in str(plain)
    full = client.get(f"/api/dossiers/{code}", headers={"X-Applicant-Id": "001090012345"}).get_json()
    assert full["applicant"]["name"] == "Nguyễn Văn An"
    assert client.get("/api/dossiers/00000-000000-0000").status_code == 404


def test_the_applicant_rates_with_the_id_number_and_changes_it_credited_to_the_officer(app, client, commune,
                                                                                      officer, dossier):
    dossier_id, code, _doc = dossier
    url = f"/c/bat-trang/onestop/lookup/{code}/rate"
    token = csrf_token(client, f"/c/bat-trang/onestop/lookup/{code}")
    client.post(url, data={"level": "very_satisfied", "id_number": "001090012345", "csrf_token": token})
    refused = client.post(url, data={"level": "unsatisfied", "reason": " ", "id_number": "001090012345",
                                     "csrf_token": token}, follow_redirects=True)
    assert "Tell us why" in refused.get_data(as_text=True) or "không hài lòng" in refused.get_data(as_text=True)
    client.post(url, data={"level": "unsatisfied", "reason": "Chờ lâu", "id_number": "001090012345",
                           "csrf_token": token})
    with app.app_context(), tenant_context(commune):
        [rating] = db.session.scalars(select(Rating)).all()
        assert (rating.level, rating.reason, rating.officer_id) == ("unsatisfied", "Chờ lâu", officer.id)


def test_the_counter_qr_credits_the_officer_of_the_counter_who_worked_on_the_dossier(app, client, make, commune,
                                                                                    officer, dossier):
    from tenants.onestop import proof

    _id, code, _doc = dossier
    colleague = make.user("colleague@battrang.vn", "officer", commune)
    with app.test_request_context():
        officers_url = f"/c/bat-trang/onestop/rate/{proof.counter_token(commune.id, officer.id)}"
        colleagues_url = f"/c/bat-trang/onestop/rate/{proof.counter_token(commune.id, colleague.id)}"
    token = csrf_token(client, colleagues_url)
    # the colleague never touched this dossier: their counter QR credits the officer who served it
    client.post(colleagues_url, data={"code": code, "id_number": "001090012345", "level": "satisfied",
                                      "csrf_token": token})
    with app.app_context(), tenant_context(commune):
        assert db.session.scalar(select(Rating.officer_id)) == officer.id
    with app.app_context(), tenant_context(commune):  # the colleague takes a step of the dossier
        d = db.session.get(Dossier, _id)
        services.process(d, colleague)
        db.session.commit()
    client.post(colleagues_url, data={"code": code, "id_number": "001090012345", "level": "satisfied",
                                      "csrf_token": token})
    with app.app_context(), tenant_context(commune):
        assert db.session.scalar(select(Rating.officer_id)) == colleague.id
    client.post(officers_url, data={"code": code, "id_number": "001090012345", "level": "satisfied",
                                    "csrf_token": token})
    with app.app_context(), tenant_context(commune):
        assert db.session.scalar(select(Rating.officer_id)) == officer.id


def test_search_folds_vietnamese(app, client, commune, officer):
    with app.app_context(), tenant_context(commune):
        proc = procedure()
        counter_dossier(officer, proc, vn(2026, 3, 2, 9, 0), name="Nguyễn Văn An")
        counter_dossier(officer, proc, vn(2026, 3, 2, 9, 5), name="Lê Thị Đào")
        db.session.commit()
    login(client, "officer@battrang.vn")
    page = client.get("/c/bat-trang/onestop/?q=nguyen van an").get_data(as_text=True)
    assert "Nguyễn Văn An" in page and "Lê Thị Đào" not in page
    assert "Lê Thị Đào" in client.get("/c/bat-trang/onestop/?q=DAO").get_data(as_text=True)


def test_an_officer_receives_a_dossier_for_a_citizen_and_the_receipt_qr_opens_its_public_page(app, client, commune,
                                                                                          officer):
    import zxingcpp
    from PIL import Image

    with app.app_context(), tenant_context(commune):
        proc_id = procedure(name="Chứng thực bản sao", time_unit="hours", time_amount=2, fee=10_000).id
        db.session.commit()
    login(client, "officer@battrang.vn")
    response = post(client, "/c/bat-trang/onestop/new", {
        "procedure_id": proc_id, "applicant_name": "Phạm Minh Châu", "applicant_id_number": "001190054321",
        "applicant_phone": "0987654321", "channel": "counter", "files": (io.BytesIO(PDF), "so-ho-khau.pdf"),
    }, content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context(), tenant_context(commune):
        d = db.session.scalar(select(Dossier))
        assert (d.status, d.applicant_name_folded, d.officer_id) == ("received", "pham minh chau", officer.id)
    receipt = client.get(f"/c/bat-trang/onestop/d/{d.id}/receipt").get_data(as_text=True)
    assert d.code in receipt and "Phạm Minh Châu" in receipt
    png = base64.b64decode(re.search(r'src="data:image/png;base64,([^"]+)" alt="[^"]*" width="132"', receipt).group(1))
    [decoded] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    # the QR carries the look-up secret: whoever holds the slip sees the applicant's details; the code alone not
    assert decoded.text.startswith(f"http://localhost/c/bat-trang/onestop/lookup/{d.code}?k=")
    stranger = app.test_client()
    public = stranger.get(decoded.text.replace("http://localhost", "")).get_data(as_text=True)
    assert d.code in public and "Được tiếp nhận" in public and "Phạm Minh Châu" in public
    assert "Phạm Minh Châu" not in app.test_client().get(f"/c/bat-trang/onestop/lookup/{d.code}").get_data(as_text=True)


def test_lookups_by_code_are_rate_limited(app, client, monkeypatch, dossier):
    _id, code, _doc = dossier
    monkeypatch.setitem(app.config, "ONESTOP_LOOKUP_RATE_LIMIT", "3 per minute")
    answers = [client.get(f"/api/dossiers/{code}").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    # one budget for every look-up route: switching from the API to the page does not reset it
    assert client.get(f"/c/bat-trang/onestop/lookup/{code}").status_code == 429


def test_a_look_up_page_costs_one_rate_limit_call_and_no_headers_but_refusals_and_the_api_keep_them(
        app, client, monkeypatch, dossier):
    """The look-up is counted on every request (one call to the limit's storage: one Redis round trip in
    production); the X-RateLimit-* headers, two more calls, only on the JSON API and on a 429."""
    from app.extensions import limiter

    _id, code, _doc = dossier
    monkeypatch.setitem(app.config, "ONESTOP_LOOKUP_RATE_LIMIT", "3 per minute")
    calls, depth = [], [0]

    def counted(name, method):
        def call(*args, **kwargs):  # the limiter's calls, not the storage's own calls inside them
            if not depth[0]:
                calls.append(name)
            depth[0] += 1
            try:
                return method(*args, **kwargs)
            finally:
                depth[0] -= 1
        return call

    for name in ("incr", "get", "get_expiry"):
        monkeypatch.setattr(limiter.storage, name, counted(name, getattr(limiter.storage, name)))
    page = client.get(f"/c/bat-trang/onestop/lookup/{code}")
    assert page.status_code == 200 and calls == ["incr"]
    assert "X-RateLimit-Remaining" not in page.headers
    api = client.get(f"/api/dossiers/{code}")
    assert api.status_code == 200 and api.headers["X-RateLimit-Remaining"] == "1"
    client.get(f"/c/bat-trang/onestop/lookup/{code}")  # the third of three
    refused = client.get(f"/c/bat-trang/onestop/lookup/{code}")
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert refused.headers["X-RateLimit-Remaining"] == "0"


def test_the_public_page_reads_the_dossier_without_its_officer(app, client, dossier):
    from tests.conftest import count_queries, data_statements

    _id, code, _doc = dossier
    client.get(f"/c/bat-trang/onestop/lookup/{code}")
    with count_queries(app) as statements:
        page = client.get(f"/c/bat-trang/onestop/lookup/{code}")
    assert page.status_code == 200
    read = data_statements(statements)
    assert not [s for s in read if "memberships" in s or "FROM users" in s or "JOIN users" in s]
    assert len(read) == 3  # the commune, the dossier (with its procedure), its history (a rating: the applicant's)


def test_a_citizen_submits_online_and_waits_for_reception(app, client, commune):
    with app.app_context(), tenant_context(commune):
        proc_id = procedure(online=True).id
        db.session.commit()
    token = csrf_token(client, "/c/bat-trang/onestop/submit")
    response = client.post("/c/bat-trang/onestop/submit", data={
        "procedure_id": proc_id, "applicant_name": "Đỗ Thu Hà", "applicant_id_number": "001300011122",
        "applicant_phone": "0911000111", "csrf_token": token})
    assert response.status_code == 302
    with app.app_context(), tenant_context(commune):
        d = db.session.scalar(select(Dossier))
        assert (d.status, d.channel, d.received_at, d.officer_id) == ("registered", "online", None, None)
    bad = client.post("/c/bat-trang/onestop/submit", data={"procedure_id": proc_id, "applicant_name": "X",
                                                             "applicant_id_number": "12", "csrf_token": token})
    assert bad.status_code == 400


def test_an_officers_counter_qr_opens_the_rating_page_that_credits_them(app, client, commune, officer):
    import zxingcpp
    from PIL import Image

    login(client, "officer@battrang.vn")
    queue = client.get("/c/bat-trang/onestop/").get_data(as_text=True)
    assert f"/c/bat-trang/onestop/officers/{officer.id}/qr" in queue
    page = client.get(f"/c/bat-trang/onestop/officers/{officer.id}/qr").get_data(as_text=True)
    png = base64.b64decode(re.search(r'src="data:image/png;base64,([^"]+)"', page).group(1))
    [decoded] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert decoded.text.startswith("http://localhost/c/bat-trang/onestop/rate/")
    token = decoded.text.rsplit("/", 1)[1]
    assert token != str(officer.id)  # signed: it names no officer that anyone could edit
    assert "Trần Thị Bình" in client.get(decoded.text.replace("http://localhost", "")).get_data(as_text=True)


def test_the_officer_actions_and_slips_through_the_pages(app, client, commune, dossier):
    dossier_id, code, _doc = dossier
    login(client, "officer@battrang.vn")
    base = f"/c/bat-trang/onestop/d/{dossier_id}"
    illegal = post(client, f"{base}/act/return_result", follow_redirects=True)
    assert "không thể thực hiện" in illegal.get_data(as_text=True)
    slip = post(client, f"{base}/act/request_documents", {"reason": "Bản sao giấy khai sinh"}, follow_redirects=True)
    text = slip.get_data(as_text=True)
    assert "PHIẾU YÊU CẦU BỔ SUNG" in text and "Bản sao giấy khai sinh" in text
    post(client, f"{base}/act/process")
    apology = post(client, f"{base}/apology", {"reason": "Chờ xác minh", "new_date": "2099-03-20",
                                               "new_time": "16:00"}, follow_redirects=True).get_data(as_text=True)
    assert "ít nhất một ngày làm việc" in apology  # the dossier (due in March 2026) is already past its due time
    with app.app_context(), tenant_context(commune):
        d = db.session.scalar(select(Dossier))
        assert (d.status, d.supplement_requests, d.apology_at) == ("processing", 1, None)
    no_file = post(client, f"{base}/result", {}, follow_redirects=True).get_data(as_text=True)
    assert "Đính kèm tệp kết quả" in no_file
    done = post(client, f"{base}/result", {"file": (io.BytesIO(PDF), "kq.pdf")}, content_type="multipart/form-data",
                follow_redirects=True).get_data(as_text=True)
    assert "Đã xử lý xong" in done
    sheet = client.get(f"{base}/sheet").get_data(as_text=True)
    assert "Yêu cầu bổ sung giấy tờ" in sheet and "Trễ hạn" in sheet  # finished long after March 2026


def test_an_apology_with_a_new_appointment_prints_its_slip(app, client, commune, officer):
    from datetime import timedelta

    from app.formatting import to_local

    with app.app_context(), tenant_context(commune):
        d = counter_dossier(officer, procedure(time_amount=5), services.utcnow())
        db.session.commit()
        new_due = to_local(d.due_at + timedelta(days=14))
    login(client, "officer@battrang.vn")
    page = post(client, f"/c/bat-trang/onestop/d/{d.id}/apology",
                {"reason": "Chờ xác minh của công an xã", "new_date": new_due.date().isoformat(), "new_time": "16:00"},
                follow_redirects=True).get_data(as_text=True)
    assert "PHIẾU XIN LỖI" in page and "Chờ xác minh của công an xã" in page
    assert f"16:00 {new_due:%d/%m/%Y}" in page


def test_a_dossier_refused_at_the_counter_is_numbered_recorded_and_gets_its_slip(app, client, commune, officer):
    with app.app_context(), tenant_context(commune):
        proc_id = procedure(name="Đăng ký kết hôn").id
        db.session.commit()
    login(client, "officer@battrang.vn")
    applicant = {"procedure_id": proc_id, "applicant_name": "Lê Văn Tám", "applicant_id_number": "001190054321",
                 "applicant_phone": "0987654321", "channel": "counter", "decision": "refuse"}
    no_reason = post(client, "/c/bat-trang/onestop/new", {**applicant, "reason": "  "})
    assert no_reason.status_code == 400 and "Nêu lý do từ chối" in no_reason.get_data(as_text=True)
    with app.app_context(), tenant_context(commune):
        assert db.session.scalar(select(Dossier)) is None  # nothing recorded by a refusal without its reason
    slip = post(client, "/c/bat-trang/onestop/new", {**applicant, "reason": "Hai bên chưa đủ tuổi kết hôn"},
                follow_redirects=True).get_data(as_text=True)
    assert "Mẫu 03" in slip and "Hai bên chưa đủ tuổi kết hôn" in slip
    with app.app_context(), tenant_context(commune):
        d = db.session.scalar(select(Dossier))
        assert (d.status, d.channel, d.received_at, d.due_at, d.officer_id) == ("refused", "counter", None, None,
                                                                               officer.id)
        assert d.code in slip and d.finished_at is not None
        assert [e.action for e in services.queries.events(d.id)] == ["submit", "refuse"]


def test_refusing_an_online_dossier_prints_the_refusal_slip(app, client, commune, officer):
    from tests.tenants.onestop.conftest import online_dossier

    with app.app_context(), tenant_context(commune):
        d = online_dossier(procedure(), vn(2026, 3, 2, 9, 0))
        db.session.commit()
    login(client, "officer@battrang.vn")
    refused = post(client, f"/c/bat-trang/onestop/d/{d.id}/act/refuse", {"reason": ""}, follow_redirects=True)
    assert "Nêu lý do từ chối" in refused.get_data(as_text=True)
    slip = post(client, f"/c/bat-trang/onestop/d/{d.id}/act/refuse", {"reason": "Không thuộc thẩm quyền của xã"},
                follow_redirects=True).get_data(as_text=True)
    assert "Mẫu 03" in slip and "Không thuộc thẩm quyền của xã" in slip


# --- the forms: each refusal at its field, what was typed kept, nothing recorded --------------------------------

def test_intake_shows_each_refusal_at_its_field_and_records_nothing(app, client, commune, officer):
    from tests.conftest import field_error

    proc_id = procedure_id(app, commune)
    login(client, "officer@battrang.vn")
    good = {"procedure_id": proc_id, "applicant_name": "Phạm Minh Châu", "applicant_id_number": "001190054321",
            "channel": "counter"}
    cases = [({"applicant_name": "  "}, "applicant_name", "Enter the applicant's name."),
             ({"applicant_id_number": "12345"}, "applicant_id_number",
              "The ID number has 12 digits (citizen ID) or 9 (old ID card)."),
             ({"applicant_email": "an@"}, "applicant_email", "Enter a valid e-mail address."),
             ({"sets": "hai"}, "sets", "Enter a whole number of at least 0."),
             ({"sets": "21"}, "sets", "The number of sets is between 1 and 20."),
             ({"procedure_id": "x"}, "procedure_id", "Enter a whole number of at least 0."),
             ({"request_note": "x" * 2001}, "request_note", "The request is too long (2000 characters at most)."),
             ({"decision": "refuse", "reason": ""}, "reason", "Say why the dossier is refused.")]
    for change, name, message in cases:
        response = post(client, "/c/bat-trang/onestop/new?lang=en", {**good, **change})
        assert response.status_code == 400, name
        assert field_error(response, name) == message, name
    kept = post(client, "/c/bat-trang/onestop/new?lang=en", {**good, "applicant_id_number": "12"})
    assert 'value="Phạm Minh Châu"' in kept.get_data(as_text=True)
    with app.app_context(), tenant_context(commune):
        assert db.session.scalar(select(Dossier)) is None


def test_another_communes_procedure_by_form_is_404(app, client, make, commune, officer):
    other = make.tenant("kieu-ky", "Kiêu Kỵ")
    theirs = procedure_id(app, other)
    login(client, "officer@battrang.vn")
    response = post(client, "/c/bat-trang/onestop/new", {
        "procedure_id": theirs, "applicant_name": "Phạm Minh Châu", "applicant_id_number": "001190054321"})
    assert response.status_code == 404
    with app.app_context(), tenant_context(other):
        assert db.session.scalar(select(Dossier)) is None


def test_the_online_form_shows_its_refusals_at_their_fields(app, client, commune):
    from tests.conftest import field_error

    proc_id = procedure_id(app, commune, online=True)
    token = csrf_token(client, "/c/bat-trang/onestop/submit")
    bad = client.post("/c/bat-trang/onestop/submit?lang=en", data={
        "procedure_id": proc_id, "applicant_name": "Đỗ Thu Hà", "applicant_id_number": "001300011122",
        "applicant_phone": "số của tôi", "csrf_token": token})
    assert bad.status_code == 400
    assert field_error(bad, "applicant_phone") == "Enter a phone number of digits only."
    assert 'value="Đỗ Thu Hà"' in bad.get_data(as_text=True)
    fake = client.post("/c/bat-trang/onestop/submit?lang=en", data={
        "procedure_id": proc_id, "applicant_name": "Đỗ Thu Hà", "applicant_id_number": "001300011122",
        "applicant_phone": "0912345678",
        "files": (io.BytesIO(b"<html>"), "giay.pdf"), "csrf_token": token}, content_type="multipart/form-data")
    assert fake.status_code == 400
    assert field_error(fake, "files") == "giay.pdf: Only PDF, PNG and JPEG files are accepted."
    with app.app_context(), tenant_context(commune):
        assert db.session.scalar(select(Dossier)) is None


def test_the_counter_rating_form_shows_a_wrong_code_and_a_missing_reason_at_their_fields(app, client, commune,
                                                                                        officer, dossier):
    from tests.conftest import field_error

    _id, code, _doc = dossier
    url = f"/c/bat-trang/onestop/rate/{officer.id}"  # a counter QR printed before the signed tokens
    token = csrf_token(client, url)
    wrong = client.post(f"{url}?lang=en", data={"code": "00000-000000-0000", "level": "satisfied",
                                                "csrf_token": token})
    assert wrong.status_code == 400 and field_error(wrong, "code") == "No dossier has this code."
    unexplained = client.post(f"{url}?lang=en", data={"code": code, "level": "unsatisfied",
                                                      "id_number": "001090012345", "csrf_token": token})
    assert unexplained.status_code == 400
    assert field_error(unexplained, "reason") == "Tell us why you are not satisfied."
    with app.app_context(), tenant_context(commune):
        assert db.session.scalar(select(Rating)) is None


def test_a_form_posted_with_no_file_chosen_is_received_without_documents(app, client, commune, officer):
    """What a browser sends for a file input left empty: a part with no name and no bytes."""
    proc_id = procedure_id(app, commune, online=True)
    login(client, "officer@battrang.vn")
    response = post(client, "/c/bat-trang/onestop/new", {
        "procedure_id": proc_id, "applicant_name": "Phạm Minh Châu", "applicant_id_number": "001190054321",
        "channel": "counter", "files": (io.BytesIO(b""), "")}, content_type="multipart/form-data")
    assert response.status_code == 302
    online = client.post("/c/bat-trang/onestop/submit", data={
        "procedure_id": proc_id, "applicant_name": "Đỗ Thu Hà", "applicant_id_number": "001300011122",
        "applicant_phone": "0912345678",
        "files": (io.BytesIO(b""), ""), "csrf_token": csrf_token(client, "/c/bat-trang/onestop/submit")},
        content_type="multipart/form-data")
    assert online.status_code == 302
    with app.app_context(), tenant_context(commune):
        assert [d.status for d in db.session.scalars(select(Dossier).order_by(Dossier.id))] == ["received",
                                                                                               "registered"]
        assert db.session.scalar(select(DossierDocument)) is None


def test_the_procedures_are_listed_for_citizens_and_the_former_address_leads_there(app, client, commune):
    procedure_id(app, commune, name="Đăng ký khai sinh", fee=0)
    procedure_id(app, commune, name="Chứng thực chữ ký", fee=10_000, active=False)
    page = client.get("/c/bat-trang/onestop/procedures").get_data(as_text=True)
    assert "Đăng ký khai sinh" in page and "Chứng thực chữ ký" not in page  # no longer offered
    former = client.get("/c/bat-trang/onestop/catalogue")
    assert former.status_code == 301 and former.headers["Location"] == "/c/bat-trang/onestop/procedures"
