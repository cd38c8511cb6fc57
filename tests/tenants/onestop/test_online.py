"""The full-process online service (#23): the catalogue, the form (several files kept across an error, a way to reach
the applicant, the day's quotas, #16 item 3), the citizen's receipt and secret link, supplements, the electronic
result and the fee receipt behind the proof, the look-up by code as typed from anywhere (#19 item 10)."""

from __future__ import annotations

import base64
import io
import re
from datetime import timezone

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from app.errors import ValidationError
from app.extensions import db
from tenants.onestop import online, receipts, services
from tenants.onestop.models import Dossier, DossierDocument, DossierEvent, FeeReceipt
from tenants.scoping import tenant_context
from tests.conftest import csrf_token, field_error, login
from tests.tenants.onestop.conftest import PDF, PNG, counter_dossier, online_dossier, procedure, procedure_id, vn

SUBMIT = "/c/bat-trang/onestop/submit"


def form(proc_id, **values):
    return {"procedure_id": proc_id, "applicant_name": "Đỗ Thu Hà", "applicant_id_number": "001300011122",
            "applicant_phone": "0912345678", "applicant_email": "ha@example.vn", **values}


def qr_text(page: str, width: str = "132") -> str:
    png = base64.b64decode(re.search(rf'src="data:image/png;base64,([^"]+)" alt="[^"]*" width="{width}"',
                                     page).group(1))
    [decoded] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return decoded.text.replace("http://localhost", "")


def only_dossier(app, commune) -> Dossier:
    with app.app_context(), tenant_context(commune):
        d = db.session.scalar(select(Dossier))
        db.session.expunge_all()
        return d


# --- the catalogue ---------------------------------------------------------------------------------------------

def test_each_procedure_has_a_page_with_its_documents_fee_or_free_online_level_and_a_start_button(app, client,
                                                                                                    commune):
    free = procedure_id(app, commune, name="Xác nhận tình trạng hôn nhân", fee=0,
                        required_documents="Tờ khai theo mẫu\nCăn cước công dân")
    counter_only = procedure_id(app, commune, name="Đăng ký khai sinh", online=False)
    listing = client.get("/c/bat-trang/onestop/procedures?lang=vi").get_data(as_text=True)
    assert f"/c/bat-trang/onestop/procedures/{free}" in listing and "Miễn phí" in listing and "· 0 ₫" not in listing
    assert "Trực tuyến toàn trình" in listing and "Chỉ tại Bộ phận Một cửa" in listing
    page = client.get(f"/c/bat-trang/onestop/procedures/{free}?lang=vi").get_data(as_text=True)
    assert "<li>Tờ khai theo mẫu</li>" in page and "<li>Căn cước công dân</li>" in page
    assert "Miễn phí" in page and f'href="/c/bat-trang/onestop/submit?procedure={free}"' in page
    assert 'data-testid="start"' not in client.get(f"/c/bat-trang/onestop/procedures/{counter_only}").get_data(
        as_text=True)
    started = client.get(f"{SUBMIT}?procedure={free}").get_data(as_text=True)
    assert 'data-testid="submit-required"' in started and "Căn cước công dân" in started


# --- the form ---------------------------------------------------------------------------------------------------

def test_chosen_files_are_kept_across_an_error_shown_at_its_field_and_all_are_attached(app, client, commune):
    proc_id = procedure_id(app, commune)
    token = csrf_token(client, SUBMIT)
    photo = PNG + b"\x00" * 3_400_000  # a 3.4 MB photo of the ID card
    bad = client.post(f"{SUBMIT}?lang=en", data={**form(proc_id, applicant_id_number="0013"), "csrf_token": token,
                                                 "files": [(io.BytesIO(photo), "cccd.png"),
                                                           (io.BytesIO(PDF), "to-khai.pdf")]},
                      content_type="multipart/form-data")
    assert bad.status_code == 400
    assert field_error(bad, "applicant_id_number") == "The ID number has 12 digits (citizen ID) or 9 (old ID card)."
    page = bad.get_data(as_text=True)
    kept = re.findall(r'name="pending" value="([^"]+)" checked', page)
    assert len(kept) == 2 and "cccd.png" in page and "to-khai.pdf" in page
    assert only_dossier(app, commune) is None
    good = client.post(SUBMIT, data={**form(proc_id), "csrf_token": token, "pending": kept},
                       content_type="multipart/form-data")
    assert good.status_code == 302 and "/receipt?k=" in good.headers["Location"]
    with app.app_context(), tenant_context(commune):
        docs = db.session.scalars(select(DossierDocument).order_by(DossierDocument.id)).all()
        assert [(d.filename, d.size) for d in docs] == [("cccd.png", len(photo)), ("to-khai.pdf", len(PDF))]


def test_a_forged_pending_token_names_no_file(app, client, commune):
    proc_id = procedure_id(app, commune)
    token = csrf_token(client, SUBMIT)
    response = client.post(SUBMIT, data={**form(proc_id), "csrf_token": token, "pending": ["onestop-pending/1/x"]},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context(), tenant_context(commune):
        assert db.session.scalar(select(DossierDocument)) is None


def test_online_the_applicant_gives_a_phone_or_an_e_mail(app, client, commune):
    proc_id = procedure_id(app, commune)
    token = csrf_token(client, SUBMIT)
    response = client.post(f"{SUBMIT}?lang=en", data={**form(proc_id, applicant_phone="", applicant_email=""),
                                                       "csrf_token": token})
    assert response.status_code == 400
    assert field_error(response, "applicant_phone") == (
        "Enter a phone number or an e-mail address, so that the office can reach you.")
    assert client.post(SUBMIT, data={**form(proc_id, applicant_phone=""), "csrf_token": token}).status_code == 302


def test_twelve_large_submissions_from_one_address_are_refused_past_the_day_quota(app, client, commune):
    """#16 item 3: twelve 9.5 MB dossiers from one address; the quota (40 MB a day per address) stops the fifth."""
    proc_id = procedure_id(app, commune)
    token = csrf_token(client, SUBMIT)
    big = PDF + b"0" * int(9.5 * 1024 * 1024)
    answers = [client.post(f"{SUBMIT}?lang=en", data={**form(proc_id), "csrf_token": token,
                                                       "files": (io.BytesIO(big), "scan.pdf")},
                           content_type="multipart/form-data") for _ in range(12)]
    assert [a.status_code for a in answers] == [302] * 4 + [429] * 8
    assert "as many dossiers as a day allows" in answers[-1].get_data(as_text=True)
    with app.app_context(), tenant_context(commune):
        assert db.session.query(Dossier).count() == 4
    # another address still may: the quota is per address (and, much larger, per commune)
    other = app.test_client()
    response = other.post(SUBMIT, data={**form(proc_id), "csrf_token": csrf_token(other, SUBMIT)},
                          environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert response.status_code == 302


def test_the_commune_quota_refuses_everyone_once_reached(app, client, commune, monkeypatch):
    monkeypatch.setitem(app.config, "ONESTOP_ONLINE_PER_COMMUNE_DAY", 2)
    proc_id = procedure_id(app, commune)
    answers = []
    for n in range(3):
        c = app.test_client()
        answers.append(c.post(f"{SUBMIT}?lang=en", data={**form(proc_id), "csrf_token": csrf_token(c, SUBMIT)},
                              environ_base={"REMOTE_ADDR": f"10.0.1.{n}"}).status_code)
    assert answers == [302, 302, 429]


# --- the receipt, the secret link, supplements, the result -------------------------------------------------------

@pytest.fixture
def sent(app, client, commune):
    """An online dossier sent through the form: (code, the receipt's path with its secret)."""
    proc_id = procedure_id(app, commune, fee=15_000, name="Xác nhận tình trạng hôn nhân")
    response = client.post(SUBMIT, data={**form(proc_id), "csrf_token": csrf_token(client, SUBMIT),
                                         "files": (io.BytesIO(PDF), "to-khai.pdf")},
                           content_type="multipart/form-data")
    path = response.headers["Location"]
    return re.search(r"lookup/([^/]+)/receipt", path).group(1), path


def test_the_receipt_lists_the_files_and_the_appointment_and_its_qr_is_the_way_back(app, client, sent):
    code, path = sent
    page = client.get(path + "&lang=vi").get_data(as_text=True)
    assert code in page and "to-khai.pdf" in page and "Mẫu 01" in page
    assert re.search(r'data-testid="receipt-due">\d\d:\d\d \d\d/\d\d/\d{4}', page)
    way_back = qr_text(page)
    assert way_back.startswith(f"/c/bat-trang/onestop/lookup/{code}?k=")
    stranger = app.test_client()
    assert "Đỗ Thu Hà" in stranger.get(way_back).get_data(as_text=True)
    pdf = client.get(f"/c/bat-trang/onestop/lookup/{code}/receipt.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Cache-Control"] == "private, no-store"
    assert pdf.headers["Content-Disposition"] == f'inline; filename="bien-nhan-{code}.pdf"'


def test_without_the_proof_the_receipt_result_and_supplement_are_refused(app, sent):
    code, path = sent
    stranger = app.test_client()
    base = f"/c/bat-trang/onestop/lookup/{code}"
    for url in (f"{base}/receipt", f"{base}/receipt?k=wrong", f"{base}/receipt.pdf", f"{base}/result",
                f"{base}/fee-receipt", f"{base}/fee-receipt.pdf"):
        assert stranger.get(url).status_code == 403, url
    page = stranger.get(base).get_data(as_text=True)
    assert "Đỗ Thu Hà" not in page and 'data-testid="supplement"' not in page
    # the ID number is a proof too, remembered for this browser
    token = csrf_token(stranger, base)
    assert "Đỗ Thu Hà" in stranger.post(base, data={"id_number": "001300011122", "csrf_token": token}).get_data(
        as_text=True)
    assert stranger.get(f"{base}/receipt").status_code == 200


def test_the_citizen_sends_the_requested_documents_and_the_officer_sees_a_supplement(app, client, commune,
                                                                                     officer, sent):
    code, path = sent
    client.get(path)  # proven in this browser
    with app.app_context(), tenant_context(commune):
        d = db.session.scalar(select(Dossier))
        services.receive(d, db.session.merge(officer))
        services.request_documents(d, db.session.merge(officer), "Bản sao giấy khai sinh")
        db.session.commit()
    base = f"/c/bat-trang/onestop/lookup/{code}"
    page = client.get(f"{base}?lang=vi").get_data(as_text=True)
    assert "Bản sao giấy khai sinh" in page and 'data-testid="supplement"' in page
    sent_files = client.post(f"{base}/supplement", data={
        "csrf_token": csrf_token(client, base), "files": [(io.BytesIO(PDF), "khai-sinh.pdf")]},
        content_type="multipart/form-data")
    assert sent_files.status_code == 302
    with app.app_context(), tenant_context(commune):
        doc = db.session.scalar(select(DossierDocument).where(DossierDocument.kind == "supplement"))
        assert doc.filename == "khai-sinh.pdf"
        event = db.session.scalars(select(DossierEvent).order_by(DossierEvent.id.desc())).first()
        assert (event.action, event.actor_label, event.to_status) == ("supplement", "Công dân", "awaiting_documents")
        d = db.session.scalar(select(Dossier))
        assert d.clock_paused_at is not None  # the officer resumes: the clock stays stopped until then
    login(client, "officer@battrang.vn")
    staff = client.get(f"/c/bat-trang/onestop/d/{d.id}?lang=en").get_data(as_text=True)
    assert re.search(r'khai-sinh.pdf</a> <span class="muted"><span class="badge" data-testid="supplement-doc">', staff)
    # once processing resumed, no more supplement online
    with app.app_context(), tenant_context(commune):
        services.process(db.session.scalar(select(Dossier)), db.session.merge(officer))
        db.session.commit()
    with app.app_context(), tenant_context(commune):
        with pytest.raises(ValidationError) as refused:
            online.add_supplement(db.session.scalar(select(Dossier)), [("x.pdf", PDF)])
        assert refused.value.field == "files"


def test_the_electronic_result_is_downloaded_by_the_applicant_and_every_download_recorded(app, client, commune,
                                                                                          officer, sent):
    from app.audit.models import AuditEntry

    code, path = sent
    client.get(path)
    with app.app_context(), tenant_context(commune):
        d = db.session.scalar(select(Dossier))
        o = db.session.merge(officer)
        services.receive(d, o)
        services.request_documents(d, o, "Bản sao giấy khai sinh")
        services.process(d, o)
        services.record_result(d, o, "ket-qua.pdf", PDF, "Đã ký số, có giá trị như bản giấy")
        db.session.commit()
    base = f"/c/bat-trang/onestop/lookup/{code}"
    page = client.get(f"{base}?lang=vi").get_data(as_text=True)
    assert "Đã ký số, có giá trị như bản giấy" in page and "Bản sao giấy khai sinh" not in page
    assert 'data-testid="result-download"' in page
    for _ in range(2):
        download = client.get(f"{base}/result")
        assert download.status_code == 200 and download.data == PDF
        assert download.headers["Content-Disposition"] == f'attachment; filename="ket-qua-{code}.pdf"'
        assert download.headers["Cache-Control"] == "private, no-store"
        assert download.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert app.test_client().get(f"{base}/result").status_code == 403
    with app.app_context(), tenant_context(commune):
        downloads = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "download")).all()
        assert len(downloads) == 2 and all(e.actor_kind == "public" for e in downloads)


# --- the fee receipt --------------------------------------------------------------------------------------------

def test_a_paid_fee_gets_a_receipt_numbered_in_the_communes_series_with_a_qr_to_its_verification(app, client,
                                                                                                 commune, officer):
    from tenants.services import set_tax_code

    with app.app_context(), tenant_context(commune):
        proc = procedure(fee=15_000)
        o = db.session.merge(officer)
        first, second = (counter_dossier(officer, proc, vn(2026, 3, 2, 9, n)) for n in range(2))
        # after the fixtures' objects are merged (they would write back the commune as they read it)
        with pytest.raises(ValidationError):  # not a tax code
            set_tax_code("bat-trang", "01005419")
        set_tax_code("bat-trang", "0100541999")  # flask tenants set-tax-code
        for d in (first, second):
            d.status = "awaiting_fee"  # the fee requested (the state machine's own tests cover the request)
            services.pay_cash(d, o, now=vn(2026, 3, 2, 10, 0))
        free = counter_dossier(officer, procedure(name="Miễn phí", fee=0), vn(2026, 3, 2, 9, 5))
        assert receipts.issue(free, "cash", "", vn(2026, 3, 2, 10, 0)) is None
        db.session.commit()
        numbers = [(r.series, r.number) for r in db.session.scalars(select(FeeReceipt).order_by(FeeReceipt.id))]
        assert numbers == [("BL-26E", 1), ("BL-26E", 2)]
        code = first.code
    base = f"/c/bat-trang/onestop/lookup/{code}"
    client.post(base, data={"id_number": "001090012345", "csrf_token": csrf_token(client, base)})
    page = client.get(f"{base}/fee-receipt?lang=vi").get_data(as_text=True)
    assert "BIÊN LAI THU PHÍ, LỆ PHÍ" in page and "0000001" in page and "15.000 ₫" in page and "01BLP0-001" in page
    assert "Mã số thuế: 0100541999" in page  # the issuer's tax code, as the receipt rules require
    verify = qr_text(page)
    assert verify.startswith("/c/bat-trang/onestop/fee-receipts/")
    checked = app.test_client().get(verify).get_data(as_text=True)
    assert "0000001" in checked and "N. V. An" in checked and "001090012345" not in checked
    assert app.test_client().get("/c/bat-trang/onestop/fee-receipts/forged").status_code == 404
    pdf = client.get(f"{base}/fee-receipt.pdf")
    assert pdf.data.startswith(b"%PDF") and pdf.headers["Cache-Control"] == "private, no-store"
    assert pdf.headers["Content-Disposition"] == 'inline; filename="bien-lai-BL-26E-0000001.pdf"'
    assert app.test_client().get(f"{base}/fee-receipt.pdf").status_code == 403


# --- the look-up by code ----------------------------------------------------------------------------------------

def test_the_landing_box_finds_any_communes_dossier_from_its_code_as_typed(app, client, make, commune, officer):
    with app.app_context(), tenant_context(commune):
        code = online_dossier(procedure(), vn(2026, 3, 2, 9, 0).astimezone(timezone.utc)).code
        db.session.commit()
    assert 'data-testid="landing-lookup"' in client.get("/").get_data(as_text=True)
    for typed in (code, code.replace("-", ""), code.replace("-", " "), f" {code.lower()} "):
        response = client.get("/lookup", query_string={"code": typed})
        assert response.status_code == 302 and response.headers["Location"].endswith(
            f"/c/bat-trang/onestop/lookup/{code}"), typed
    # from another commune's look-up box too
    make.tenant("kieu-ky", "Kiêu Kỵ")
    response = client.get("/c/kieu-ky/onestop/lookup", query_string={"code": code.replace("-", "")})
    assert response.headers["Location"].endswith(f"/c/bat-trang/onestop/lookup/{code}")
    assert client.get("/lookup", query_string={"code": "99999-999999-9999"}).status_code == 404
    page = client.get(f"/c/bat-trang/onestop/lookup/{code}").get_data(as_text=True)
    assert re.search(r'data-testid="timeline"><li><time datetime="[^"]+">09:00 02/03/2026</time>', page)


def test_canonical_code():
    assert online.canonical_code("10001 260302 0042") == "10001-260302-0042"
    assert online.canonical_code("10001.260302.00420") == "10001-260302-00420"
    assert online.canonical_code("abc") == "ABC"


def test_a_result_counts_as_digitised_only_when_the_citizen_can_download_it(app, client, commune, officer):
    from datetime import date, datetime, timedelta

    from tenants.onestop import queries

    now = datetime.now(timezone.utc)
    with app.app_context(), tenant_context(commune):
        proc = procedure()
        o = db.session.merge(officer)
        done, pending = (counter_dossier(officer, proc, now - timedelta(hours=2)) for _ in range(2))
        services.record_result(done, o, "ket-qua.pdf", PDF, "", now - timedelta(hours=1))
        pending.result_file_key = "onestop/draft.pdf"  # a file without a result the citizen can get
        db.session.flush()
        assert online.result_available(done) and not online.result_available(pending)
        today = date.today()
        figures = queries.figures(today - timedelta(days=2), today + timedelta(days=1), now)
        # of the results produced (one), the one the citizen can download: the draft file of a dossier still in
        # process is neither a result nor digitised (counted, it would make 2 of 1)
        assert figures["digitisation_rate"] == 1.0


def test_the_fee_payment_page_links_back_to_the_dossier(app, client, commune, officer):
    from app.payments.accounts import create_account
    from tenants.onestop import payments

    with app.app_context(), tenant_context(commune):
        create_account("Phí một cửa", "970415", "113000583", "UBND XA BAT TRANG")
        d = counter_dossier(officer, procedure(fee=15_000), vn(2026, 3, 2, 9, 0))
        services.request_fee(d, db.session.merge(officer))
        db.session.commit()
        intent, code = payments.fee_intent(d), d.code
        public_id = intent.public_id
    page = client.get(f"/pay/{public_id}").get_data(as_text=True)
    assert f'href="/c/bat-trang/onestop/lookup/{code}" data-testid="return-link"' in page


def test_files_of_forms_never_sent_again_are_swept_after_a_day(app, commune, monkeypatch):
    from datetime import datetime, timedelta

    from app import storage

    monkeypatch.setattr(online, "_last_sweep", {})
    with app.app_context():
        now = datetime.now(timezone.utc)
        old = f"{online.PENDING_PREFIX}/{commune.id}/{now - timedelta(hours=25):%Y%m%d%H}-abc.pdf"
        storage.save(old, PDF)
        fresh = online.keep_pending(commune.id, "to-khai.pdf", PDF)["key"]
        assert online.sweep_pending(commune.id, now) == 1
        assert not storage.exists(old) and storage.exists(fresh)
        storage.save(old, PDF)
        assert online.sweep_pending(commune.id, now + timedelta(minutes=30)) == 0  # once an hour at most
        assert online.sweep_pending(commune.id, now + timedelta(hours=2)) == 1
