"""QR images: what we render is read back by an independent decoder as exactly the payload, as a full-size QR
(banking apps cannot read Micro QR), and repeated requests come from the cache."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image

from app.payments import qr
from app.payments.vietqr import decode, encode

PAYLOAD = encode("970436", "1023456789", amount=1_250_000, memo="GL7K2 Thanh toán đơn hàng", bill_number="GL7K2")


def read_back(png: bytes) -> list[zxingcpp.Barcode]:
    return zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))


@pytest.fixture(autouse=True)
def empty_cache():
    qr.cache_clear()
    yield
    qr.cache_clear()


def test_png_reads_back_as_the_exact_payload():
    assert decode(PAYLOAD).memo == "GL7K2 Thanh toan don hang"
    png = qr.render_png(PAYLOAD)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    (barcode,) = read_back(png)
    assert barcode.text == PAYLOAD
    assert barcode.format == zxingcpp.BarcodeFormat.QRCode


def test_short_payload_is_still_a_full_qr_not_micro_qr():
    # segno.make would choose a Micro QR for this; bank apps could not scan it.
    (barcode,) = read_back(qr.render_png("12345"))
    assert barcode.format == zxingcpp.BarcodeFormat.QRCode
    assert barcode.format != zxingcpp.BarcodeFormat.MicroQRCode


def test_png_scale_changes_size():
    small = Image.open(io.BytesIO(qr.render_png(PAYLOAD, scale=2, border=4)))
    large = Image.open(io.BytesIO(qr.render_png(PAYLOAD, scale=8, border=4)))
    assert large.size[0] == 4 * small.size[0]


def test_svg_is_an_svg_document():
    svg = qr.render_svg(PAYLOAD)
    assert svg.startswith(b"<?xml") or svg.startswith(b"<svg")
    assert b"<svg" in svg and svg.rstrip().endswith(b"</svg>")


def test_pdf_is_a_pdf_document():
    pdf = qr.render_pdf(PAYLOAD)
    assert pdf.startswith(b"%PDF")
    assert b"%%EOF" in pdf[-32:]


@pytest.mark.parametrize(
    ("kind", "mimetype", "magic"),
    [("png", "image/png", b"\x89PNG"), ("svg", "image/svg+xml", b"<?xml"), ("pdf", "application/pdf", b"%PDF")],
)
def test_qr_image_returns_bytes_etag_and_mimetype(kind, mimetype, magic):
    data, etag, got_mimetype = qr.qr_image(PAYLOAD, kind)
    assert data.startswith(magic)
    assert got_mimetype == mimetype
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 10
    assert etag == qr.etag_for(PAYLOAD, kind)


def test_etag_differs_by_kind_and_payload():
    other = encode("970436", "1023456789", amount=1_250_001)
    etags = {qr.qr_image(p, k)[1] for p in (PAYLOAD, other) for k in ("png", "svg", "pdf")}
    assert len(etags) == 6


def test_second_call_is_served_from_cache():
    before = qr.cache_info()
    first = qr.qr_image(PAYLOAD, "png")
    second = qr.qr_image(PAYLOAD, "png")
    after = qr.cache_info()
    assert second[0] is first[0]
    assert after.misses == before.misses + 1
    assert after.hits == before.hits + 1
    assert first[0] == qr.render_png(PAYLOAD)  # the cache holds the default rendering


def test_cache_is_bounded():
    assert qr.cache_info().maxsize == 1024


@pytest.mark.parametrize("kind", ["jpg", "PNG", "", "svgz"])
def test_unknown_kind_is_refused(kind):
    with pytest.raises(ValueError, match="unknown image kind"):
        qr.qr_image(PAYLOAD, kind)


@pytest.mark.parametrize("payload", ["", "x" * 513, None])
def test_bad_payload_is_refused_before_caching(payload):
    with pytest.raises(ValueError, match="payload"):
        qr.qr_image(payload, "png")
    with pytest.raises(ValueError, match="payload"):
        qr.render_png(payload)
    assert qr.cache_info().currsize == 0


def test_payload_at_limit_is_accepted():
    assert qr.qr_image("x" * 512, "svg")[0].startswith(b"<?xml")


@pytest.mark.parametrize(("scale", "border"), [(0, 4), (65, 4), (8, -1), (8, 17), (2.5, 4), (True, 4)])
def test_bad_size_is_refused(scale, border):
    with pytest.raises(ValueError, match="scale|border"):
        qr.render_png(PAYLOAD, scale=scale, border=border)
