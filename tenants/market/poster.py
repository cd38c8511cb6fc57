"""The stall QR poster: a static VietQR to the vendor's own account with the business name, stall, market and bank,
laid out for printing on A5 or A6, as PDF (fpdf2), PNG (Pillow) or SVG.

The words are printed in Vietnamese with a short English line, whatever the vendor's interface language: the poster
is read by shoppers at the stall. The fonts are DejaVu Sans, subset to Latin and Vietnamese (app/fonts).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from xml.sax.saxutils import escape

import segno
from PIL import Image, ImageDraw, ImageFont

from app.posters import FONT_BOLD, FONT_REGULAR  # the fonts live in the core (app/fonts)

SIZES = {"a5": (148.0, 210.0), "a6": (105.0, 148.0)}  # millimetres, portrait
KINDS = ("pdf", "png", "svg")
MIMETYPES = {"pdf": "application/pdf", "png": "image/png", "svg": "image/svg+xml"}
PNG_DPI = 200
RED = (179, 38, 30)
INK = (28, 27, 31)
GREY = (80, 80, 80)


@dataclass(frozen=True)
class PosterContent:
    payload: str  # the static VietQR
    business_name: str
    stall_line: str  # "Sạp A12 · Chợ Trâu Quỳ" (or the market alone, or empty)
    bank_name: str
    account_number: str
    holder_name: str


@dataclass(frozen=True)
class _Line:
    text: str
    size_mm: float  # cap height-ish: the font size in millimetres
    bold: bool = False
    color: tuple[int, int, int] = INK


def _layout(content: PosterContent, width: float, height: float) -> tuple[list[tuple[_Line, float]], float, float]:
    """(lines with their baseline y in mm, qr size in mm, qr top in mm): the same geometry for all three formats."""
    k = width / 148.0  # A5 is the reference; A6 scales down
    margin = 10 * k
    top = [
        _Line("QUÉT MÃ ĐỂ THANH TOÁN", 7.0 * k, True, RED),
        _Line("Scan to pay · VietQR / NAPAS 247", 3.6 * k, False, GREY),
        _Line(content.business_name, 6.0 * k, True),
    ]
    if content.stall_line:
        top.append(_Line(content.stall_line, 4.4 * k))
    bottom = [
        _Line(content.bank_name, 4.8 * k, True),
        _Line(content.account_number, 5.2 * k, True),
        _Line(content.holder_name, 4.4 * k),
        _Line("Nhập số tiền trong ứng dụng ngân hàng · Enter the amount in your bank app", 2.6 * k, False, GREY),
    ]
    placed, y = [], margin
    for line in top:
        y += line.size_mm * 1.45
        placed.append((line, y))
    bottom_height = sum(line.size_mm * 1.45 for line in bottom)
    qr_top = y + 5 * k
    qr_size = min(width - 2 * margin, height - margin - bottom_height - 6 * k - qr_top)
    y = qr_top + qr_size + 2 * k
    for line in bottom:
        y += line.size_mm * 1.45
        placed.append((line, y))
    return placed, qr_size, qr_top


def _qr(payload: str) -> segno.QRCode:
    return segno.make_qr(payload, error="m")  # never a Micro QR: bank apps cannot read those


def _fit(text: str, size: float, width: float, measure) -> float:
    """Shrink a line's size until it fits the printable width."""
    while size > 1.5 and measure(text, size) > width:
        size *= 0.93
    return size


def render_pdf(content: PosterContent, size: str) -> bytes:
    width, height = SIZES[size]
    from fpdf import FPDF  # here, not at import: fpdf2 and fontTools are ~20 MB of every worker's memory

    pdf = FPDF(orientation="P", unit="mm", format=(width, height))
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.add_font("DejaVu", "", str(FONT_REGULAR))
    pdf.add_font("DejaVu", "B", str(FONT_BOLD))
    pdf.set_title(f"VietQR · {content.business_name}")
    pdf.add_page()
    lines, qr_size, qr_top = _layout(content, width, height)
    margin = 10 * width / 148.0
    pt_per_mm = 72 / 25.4

    def measure(text, size_mm, bold):
        pdf.set_font("DejaVu", "B" if bold else "", size_mm * pt_per_mm)
        return pdf.get_string_width(text)

    for line, baseline in lines:
        size_mm = _fit(line.text, line.size_mm, width - 2 * margin, lambda t, s, b=line.bold: measure(t, s, b))
        pdf.set_font("DejaVu", "B" if line.bold else "", size_mm * pt_per_mm)
        pdf.set_text_color(*line.color)
        pdf.text((width - pdf.get_string_width(line.text)) / 2, baseline, line.text)
    buf = io.BytesIO()
    _qr(content.payload).save(buf, kind="png", scale=20, border=4)
    buf.seek(0)
    pdf.image(buf, x=(width - qr_size) / 2, y=qr_top, w=qr_size, h=qr_size)
    pdf.set_draw_color(*RED)
    pdf.set_line_width(0.8 * width / 148.0)
    pdf.rect(4 * width / 148.0, 4 * width / 148.0, width - 8 * width / 148.0, height - 8 * width / 148.0)
    return bytes(pdf.output())


def render_png(content: PosterContent, size: str, dpi: int = PNG_DPI) -> bytes:
    width, height = SIZES[size]
    px = dpi / 25.4
    image = Image.new("RGB", (round(width * px), round(height * px)), "white")
    draw = ImageDraw.Draw(image)
    lines, qr_size, qr_top = _layout(content, width, height)
    margin = 10 * width / 148.0

    def font(size_mm, bold):
        return ImageFont.truetype(str(FONT_BOLD if bold else FONT_REGULAR), max(int(size_mm * px), 6))

    for line, baseline in lines:
        size_mm = _fit(line.text, line.size_mm, width - 2 * margin,
                       lambda t, s, b=line.bold: draw.textlength(t, font=font(s, b)) / px)
        draw.text((width * px / 2, baseline * px), line.text, font=font(size_mm, line.bold), fill=line.color,
                  anchor="ms")
    code = _qr(content.payload)
    modules = code.symbol_size(scale=1, border=4)[0]
    scale = max(int(qr_size * px) // modules, 1)
    buf = io.BytesIO()
    code.save(buf, kind="png", scale=scale, border=4)
    qr_image = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    image.paste(qr_image, (round((width * px - qr_image.width) / 2), round(qr_top * px)))
    inset = 4 * width / 148.0 * px
    draw.rectangle((inset, inset, image.width - inset, image.height - inset), outline=RED,
                   width=max(int(0.8 * width / 148.0 * px), 1))
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi), optimize=True)
    return out.getvalue()


def render_svg(content: PosterContent, size: str) -> bytes:
    width, height = SIZES[size]
    lines, qr_size, qr_top = _layout(content, width, height)
    code = _qr(content.payload)
    modules = code.symbol_size(scale=1, border=4)[0]
    buf = io.BytesIO()
    code.save(buf, kind="svg", xmldecl=False, svgns=True, omitsize=True, scale=1, border=4)
    qr_svg = buf.getvalue().decode()
    qr_svg = qr_svg.replace("<svg ", f'<svg x="{(width - qr_size) / 2:.2f}" y="{qr_top:.2f}" '
                                     f'width="{qr_size:.2f}" height="{qr_size:.2f}" ', 1)
    if "viewBox" not in qr_svg:
        qr_svg = qr_svg.replace("<svg ", f'<svg viewBox="0 0 {modules} {modules}" ', 1)
    texts = []
    for line, baseline in lines:
        texts.append(
            f'<text x="{width / 2:.2f}" y="{baseline:.2f}" font-size="{line.size_mm:.2f}" '
            f'font-weight="{"bold" if line.bold else "normal"}" fill="rgb{line.color}" text-anchor="middle" '
            f'textLength="{width - 20 * width / 148.0:.2f}" lengthAdjust="spacingAndGlyphs">'
            f"{escape(line.text)}</text>"
            if len(line.text) * line.size_mm * 0.6 > width - 20 * width / 148.0 else
            f'<text x="{width / 2:.2f}" y="{baseline:.2f}" font-size="{line.size_mm:.2f}" '
            f'font-weight="{"bold" if line.bold else "normal"}" fill="rgb{line.color}" text-anchor="middle">'
            f"{escape(line.text)}</text>"
        )
    inset = 4 * width / 148.0
    doc = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}mm" height="{height}mm" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Arial, sans-serif">'
        f"<title>VietQR · {escape(content.business_name)}</title>"
        f'<rect width="{width}" height="{height}" fill="#fff"/>'
        f'<rect x="{inset}" y="{inset}" width="{width - 2 * inset}" height="{height - 2 * inset}" fill="none" '
        f'stroke="rgb{RED}" stroke-width="{0.8 * width / 148.0:.2f}"/>'
        + "".join(texts) + qr_svg + "</svg>"
    )
    return doc.encode("utf-8")


RENDERERS = {"pdf": render_pdf, "png": render_png, "svg": render_svg}


def render(content: PosterContent, size: str, kind: str) -> bytes:
    return RENDERERS[kind](content, size)
