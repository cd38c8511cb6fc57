"""A relic's printable board: A4 and A3, PDF, PNG and SVG; its QR decodes (zxing-cpp) to the board's scan address
on PUBLIC_BASE_URL, which opens the relic's page; from the PNG, and from the PDF rendered to an image (pypdfium2)."""

from __future__ import annotations

import io

import pypdfium2
import pytest
import zxingcpp
from PIL import Image

from tests.conftest import login
from tests.tenants.heritage.helpers import make_board, make_relic

BASE = "https://dichvu.gialam.example"


@pytest.fixture
def board(app, client, commune, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", BASE)
    relic_id = make_relic(app, commune)
    board_id = make_board(app, commune, relic_id, number=7)
    login(client, "officer@bt.vn")
    return relic_id, board_id


def decode(image: Image.Image) -> list[str]:
    return [found.text for found in zxingcpp.read_barcodes(image)]


def opens_the_relic_page(app, url: str, board_id: int, relic_id: int) -> None:
    assert url == f"{BASE}/c/bat-trang/heritage/q/{board_id}"
    response = app.test_client().get(url.removeprefix(BASE))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/c/bat-trang/heritage/relics/{relic_id}")


@pytest.mark.parametrize("size, pixels", [("a4", (1240, 1754)), ("a3", (1754, 2480))])
def test_the_png_board_is_a_print_size_and_its_qr_opens_the_relic_page(app, client, board, size, pixels):
    relic_id, board_id = board
    response = client.get(f"/c/bat-trang/heritage/staff/boards/{board_id}/{size}.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert 'filename="bang-qr-007-' in response.headers["Content-Disposition"]
    image = Image.open(io.BytesIO(response.data))
    assert image.size == pixels  # 150 dpi
    [url] = decode(image)
    opens_the_relic_page(app, url, board_id, relic_id)


@pytest.mark.parametrize("size, points", [("a4", (595.3, 841.9)), ("a3", (841.9, 1190.6))])
def test_the_pdf_board_is_one_page_of_its_size_and_its_qr_decodes_once_rendered(app, client, board, size, points):
    relic_id, board_id = board
    response = client.get(f"/c/bat-trang/heritage/staff/boards/{board_id}/{size}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    document = pypdfium2.PdfDocument(response.data)
    assert len(document) == 1
    page = document[0]
    assert (round(page.get_width(), 1), round(page.get_height(), 1)) == points
    text = page.get_textpage().get_text_range()
    assert "Đình Giang Cao" in text and "Bảng số 007" in text and "nghe thuyết minh" in text
    assert "Di tích cấp Quốc gia" in text
    [url] = decode(page.render(scale=1.5).to_pil())
    opens_the_relic_page(app, url, board_id, relic_id)


def test_the_svg_board_names_the_relic_and_holds_the_qr(client, board):
    _relic_id, board_id = board
    response = client.get(f"/c/bat-trang/heritage/staff/boards/{board_id}/a4.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert 'width="210.0mm" height="297.0mm"' in svg
    assert "Đình Giang Cao" in svg and "Bảng số 007" in svg and "<path" in svg


def test_a_board_without_narration_does_not_promise_an_audio_guide(app, client, board, commune):
    relic_id, _board_id = board
    quiet = make_board(app, commune, relic_id, number=8, narration=False)
    text = client.get(f"/c/bat-trang/heritage/staff/boards/{quiet}/a4.svg").get_data(as_text=True)
    assert "thuyết minh" not in text and "Quét mã để xem giới thiệu di tích" in text


def test_unknown_sizes_and_kinds_are_404(client, board):
    _relic_id, board_id = board
    for path in ("a5.pdf", "a4.gif", "A4.pdf"):
        assert client.get(f"/c/bat-trang/heritage/staff/boards/{board_id}/{path}").status_code == 404


def test_visitors_cannot_download_boards(app, commune, board):
    _relic_id, board_id = board
    response = app.test_client().get(f"/c/bat-trang/heritage/staff/boards/{board_id}/a4.png")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
