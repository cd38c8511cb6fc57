"""The applicant's own pages, behind the proof of being the applicant (the secret of the receipt's link or the ID
number, online.prove): the receipt of an online dossier (page and PDF, Mẫu 01), supplements sent online, the
electronic result, the fee receipt; and, for anyone, the look-up by code from the landing page and the fee receipt's
verification page. On ``lookup_bp``: rate-limited per address like every look-up by code."""

from __future__ import annotations

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app import audit, posters, storage
from app.errors import NotFound, back_to
from app.formatting import format_vnd
from app.uploads import upload_limit
from tenants.onestop import online, payments, queries, receipts, services
from tenants.onestop.forms import SupplementForm
from tenants.onestop.views_public import dossier_path, lookup_bp, public_dossier_url, qr_data_uri


def _proven_dossier(code: str):
    """The dossier, for its applicant only: 403 without the proof (the page itself asks for it)."""
    found = queries.get_by_code(online.canonical_code(code))
    if not online.proven(found, request.args.get("k")):
        abort(403)
    return found


def _private_file(data: bytes, mimetype: str, filename: str, *, attachment: bool = False) -> Response:
    """A file of the applicant's own (a PDF made here, or their result as stored): never cached by a shared cache,
    named for the browser; a stored upload is downloaded, sandboxed, never shown inline as a page of this site."""
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'{"attachment" if attachment else "inline"}; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    if attachment:
        response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _proven_fee_receipt(code: str):
    """The applicant's dossier and its fee receipt (404 while there is none)."""
    found = _proven_dossier(code)
    receipt = receipts.receipt_of(found.id)
    if receipt is None:
        raise NotFound(_("No fee receipt yet."))
    return found, receipt


def _local(value) -> str:
    from app.clock import as_utc
    from app.formatting import to_local

    return to_local(as_utc(value)).strftime("%H:%M %d/%m/%Y") if value else ""


@lookup_bp.route("/lookup")
def lookup_anywhere():
    """The landing page's box: a dossier of any commune from its code, typed with or without dashes or spaces."""
    code = online.canonical_code(request.args.get("code", ""))
    found = queries.find_by_code_anywhere(code) if code else None
    if found is None:
        return render_template("onestop/lookup.html", code=request.args.get("code", ""), missing=bool(code),
                               anywhere=True), (404 if code else 200)
    return redirect(dossier_path(found))


@lookup_bp.route("/c/<tenant_slug>/onestop/lookup/<code>/receipt")
def receipt(code: str):
    """The receipt of an online dossier (Mẫu 01's content): what was attached, the appointment, the next step."""
    found = _proven_dossier(code)
    return render_template("onestop/online_receipt.html", d=found, documents=queries.documents(found.id),
                           due=online.expected_due(found), public_url=public_dossier_url(found),
                           qr=qr_data_uri(public_dossier_url(found)))


@lookup_bp.route("/c/<tenant_slug>/onestop/lookup/<code>/receipt.pdf")
def receipt_pdf(code: str):
    found = _proven_dossier(code)
    url = public_dossier_url(found)
    due = online.expected_due(found)
    procedure = found.procedure
    files = ", ".join(doc.filename for doc in queries.documents(found.id)) or "–"
    line = posters.Line
    sheet = posters.Sheet(
        title=f"Giấy tiếp nhận hồ sơ {found.code}", qr_text=url,
        above=(line(f"{g.tenant.display_name.upper()} · BỘ PHẬN MỘT CỬA", 4.2, True),
               line("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ (Mẫu 01)", 5.0, True, posters.RED),
               line(f"Mã hồ sơ: {found.code}", 5.0, True),
               line(f"Người nộp: {found.applicant_name} · CCCD: {found.applicant_id_number}", 3.6),
               line(f"Điện thoại: {found.applicant_phone or '–'} · E-mail: {found.applicant_email or '–'}", 3.6),
               line(f"Thủ tục: {procedure.name}", 3.6),
               line(f"Giấy tờ yêu cầu: {procedure.required_documents or '–'}", 3.2),
               line(f"Tệp đã nộp: {files}", 3.2),
               line(f"Nộp trực tuyến lúc: {_local(found.submitted_at)}", 3.6),
               line(f"Hẹn trả kết quả (dự kiến): {_local(due) or '–'}", 3.6, True),
               line(f"Lệ phí: {format_vnd(procedure.fee) if procedure.fee else 'Miễn phí'}", 3.6)),
        below=(line("Quét mã để theo dõi hồ sơ, bổ sung giấy tờ và nhận kết quả điện tử", 3.4),),
    )
    return _private_file(posters.render_pdf(sheet, "a4"), "application/pdf", f"bien-nhan-{found.code}.pdf")


@lookup_bp.route("/c/<tenant_slug>/onestop/lookup/<code>/supplement", methods=["POST"])
@upload_limit(services.MAX_INTAKE_BYTES)
@back_to("onestop_lookup.dossier")
def supplement(code: str):
    found = _proven_dossier(code)
    form = SupplementForm().check()
    files = [(upload.filename, upload.read(services.MAX_DOCUMENT_BYTES + 1))
             for upload in (form.files.data or ()) if upload and upload.filename]
    found = services.lock_dossier(found.id)
    online.add_supplement(found, files)
    flash(_("Your documents were sent to the office."), "success")
    return redirect(url_for("onestop_lookup.dossier", code=found.code))


@lookup_bp.route("/c/<tenant_slug>/onestop/lookup/<code>/result")
def result(code: str):
    """The electronic result, to its applicant only; every download is recorded on the commune's audit trail."""
    found = _proven_dossier(code)
    if not online.result_available(found):
        raise NotFound(_("The result is not available."))
    document = next((d for d in queries.documents(found.id) if d.storage_key == found.result_file_key), None)
    if document is None:
        raise NotFound(_("The result is not available."))
    try:
        data = storage.load(document.storage_key)
    except FileNotFoundError:
        abort(404)
    audit.record("download", table="onestop_documents", record_id=document.id,
                 details={"dossier": found.id, "by": "applicant"})
    extension = document.storage_key.rsplit(".", 1)[-1]
    return _private_file(data, document.content_type, f"ket-qua-{found.code}.{extension}", attachment=True)


def _fee_receipt_page(found, receipt):
    url = payments.public_link("onestop_lookup.verify_fee_receipt", tenant_slug=g.tenant.slug,
                               token=receipt.verify_token)
    return {"d": found, "r": receipt, "number": receipts.number_label(receipt), "verify_url": url,
            "qr": qr_data_uri(url), "method": receipts.METHOD_LABELS[receipt.method]}


@lookup_bp.route("/c/<tenant_slug>/onestop/lookup/<code>/fee-receipt")
def fee_receipt(code: str):
    found, receipt = _proven_fee_receipt(code)
    return render_template("onestop/fee_receipt.html", **_fee_receipt_page(found, receipt))


@lookup_bp.route("/c/<tenant_slug>/onestop/lookup/<code>/fee-receipt.pdf")
def fee_receipt_pdf(code: str):
    found, receipt = _proven_fee_receipt(code)
    page = _fee_receipt_page(found, receipt)
    line = posters.Line
    sheet = posters.Sheet(
        title=f"Biên lai {receipt.series} {page['number']}", qr_text=page["verify_url"],
        above=(line(receipt.issuer_name.upper(), 4.2, True),
               line("BIÊN LAI THU PHÍ, LỆ PHÍ (điện tử)", 5.2, True, posters.RED),
               line(f"Mẫu số: {receipt.form_number} · Ký hiệu: {receipt.series} · Số: {page['number']}", 3.8, True),
               line(f"Mã số thuế đơn vị thu: {receipt.issuer_tax_code or '–'}", 3.4),
               line(f"Người nộp: {receipt.payer_name} · CCCD: {receipt.payer_id_number or '–'}", 3.6),
               line(f"Địa chỉ: {receipt.payer_address or '–'}", 3.4),
               line(receipt.fee_name, 3.4),
               line(f"Số tiền: {format_vnd(receipt.amount)}", 4.4, True),
               line(f"Hình thức thanh toán: {page['method']} {receipt.payment_reference}", 3.4),
               line(f"Thời điểm thu: {_local(receipt.paid_at)} · Lập: {_local(receipt.issued_at)}", 3.4)),
        below=(line("Quét mã để tra cứu, xác thực biên lai", 3.4),),
    )
    return _private_file(posters.render_pdf(sheet, "a5"), "application/pdf",
                         f"bien-lai-{receipt.series}-{page['number']}.pdf")


@lookup_bp.route("/c/<tenant_slug>/onestop/fee-receipts/<token>")
def verify_fee_receipt(token: str):
    """The receipt's QR opens this: anyone may check that the receipt exists as printed (no ID number shown)."""
    receipt = receipts.by_token(token)
    return render_template("onestop/fee_receipt_verify.html", r=receipt, number=receipts.number_label(receipt),
                           method=receipts.METHOD_LABELS[receipt.method], masked=receipts.masked_name(receipt))

