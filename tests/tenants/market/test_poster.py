"""The stall QR poster: A5 and A6, PDF, PNG and SVG; its QR decodes (zxing-cpp) to a static VietQR for the vendor's
own account, from the PNG and from the PDF rendered to an image (pypdfium2)."""

from __future__ import annotations

import io
import re

import pypdfium2
import pytest
import zxingcpp
from PIL import Image

from app.payments import vietqr
from tests.conftest import login
from tests.tenants.market.helpers import make_market, make_vendor


@pytest.fixture
def vendor(app, client, make):
    tenant = make.tenant("trau-quy", "Trâu Quỳ")
    _, stalls = make_market(app, tenant)
    info = make_vendor(app, tenant, stall_id=stalls[0], account_number="113366668888", name="Rau sạch Hường")
    login(client, info.email)
    return info


def assert_static_payload_for(text: str, vendor) -> None:
    decoded = vietqr.decode(text)
    assert (decoded.bin, decoded.account) == (vendor.bank_bin, vendor.account_number)
    assert decoded.initiation == "11"  # static: the shopper types the amount
    assert decoded.amount is None and decoded.memo is None


def decode(image: Image.Image) -> list[str]:
    return [found.text for found in zxingcpp.read_barcodes(image)]


@pytest.mark.parametrize("size, pixels", [("a5", (1165, 1654)), ("a6", (827, 1165))])
def test_the_png_poster_is_a_print_size_and_its_qr_is_static_for_the_vendors_account(client, vendor, size, pixels):
    response = client.get(f"/c/trau-quy/market/me/poster/{size}.png?stall={vendor.stall_id}")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert "attachment" in response.headers["Content-Disposition"]
    image = Image.open(io.BytesIO(response.data))
    assert image.size == pixels  # 200 dpi
    [text] = decode(image)
    assert_static_payload_for(text, vendor)


@pytest.mark.parametrize("size, points", [("a5", (419.5, 595.3)), ("a6", (297.6, 419.5))])
def test_the_pdf_poster_is_one_page_of_its_size_and_its_qr_decodes_once_rendered(client, vendor, size, points):
    response = client.get(f"/c/trau-quy/market/me/poster/{size}.pdf?stall={vendor.stall_id}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    document = pypdfium2.PdfDocument(response.data)
    assert len(document) == 1
    page = document[0]
    assert (round(page.get_width(), 1), round(page.get_height(), 1)) == points
    text = page.get_textpage().get_text_range()
    assert "Rau sạch Hường" in text and "Sạp A01 · Chợ Trâu Quỳ" in text and "VietinBank" in text
    assert "113366668888" in text and "NGUYEN THI HUONG" in text
    [payload] = decode(page.render(scale=2).to_pil())
    assert_static_payload_for(payload, vendor)


def test_the_svg_poster_names_the_stall_and_holds_the_qr(client, vendor):
    response = client.get(f"/c/trau-quy/market/me/poster/a5.svg?stall={vendor.stall_id}")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert 'width="148.0mm" height="210.0mm"' in svg
    for words in ("Rau sạch Hường", "Sạp A01 · Chợ Trâu Quỳ", "VietinBank", "113366668888", "NGUYEN THI HUONG"):
        assert words in svg
    assert re.search(r"<path[^>]+d=\"M", svg)  # the QR modules, as vector


def test_unknown_sizes_and_kinds_are_404(client, vendor):
    for path in ("a4.pdf", "a5.gif", "a5.PDF"):
        assert client.get(f"/c/trau-quy/market/me/poster/{path}").status_code == 404


def test_the_poster_page_lists_every_download(client, vendor):
    page = client.get("/c/trau-quy/market/me/poster").get_data(as_text=True)
    for size in ("a5", "a6"):
        for kind in ("pdf", "png", "svg"):
            assert f"/c/trau-quy/market/me/poster/{size}.{kind}?stall={vendor.stall_id}" in page


def test_without_a_bank_account_there_is_no_poster_but_a_message(app, client, vendor):
    from app.extensions import db
    from tenants.vendors import payments
    from tenants.scoping import tenant_context

    with app.app_context(), tenant_context(vendor.tenant_id):
        payments.close_vendor_accounts(vendor.id)
        db.session.commit()
    response = client.get("/c/trau-quy/market/me/poster/a5.pdf")
    assert response.status_code == 302 and response.headers["Location"].endswith("/c/trau-quy/market/me/poster")
    page = client.get("/c/trau-quy/market/me/poster", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "/me/poster/a5.pdf" not in page
