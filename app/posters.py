"""Printable sheets with a QR code (a relic's board; the market's stall poster has the same shape): lines of text
above and below a QR, laid out once in millimetres and rendered as PDF (fpdf2), PNG (Pillow) or SVG.

The fonts are DejaVu Sans, subset to Latin and Vietnamese and shipped in ``app/fonts`` (Bitstream Vera licence), so a
fresh clone prints Vietnamese without fonts installed on the machine. docs/decisions.md, "Heritage".
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import segno
from PIL import Image, ImageDraw, ImageFont

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"

PAPER = {"a3": (297.0, 420.0), "a4": (210.0, 297.0), "a5": (148.0, 210.0), "a6": (105.0, 148.0)}  # mm, portrait
KINDS = ("pdf", "png", "svg")
MIMETYPES = {"pdf": "application/pdf", "png": "image/png", "svg": "image/svg+xml"}
PNG_DPI = 150
RED = (179, 38, 30)
INK = (28, 27, 31)
GREY = (80, 80, 80)


@dataclass(frozen=True)
class Line:
    text: str
    size_mm: float  # the font size in millimetres on the sheet's reference width; scaled for other papers
    bold: bool = False
    color: tuple[int, int, int] = INK


@dataclass(frozen=True)
class Sheet:
    title: str
    qr_text: str
    above: tuple[Line, ...]
    below: tuple[Line, ...]
    reference_width: float = 210.0  # the paper width (mm) the line sizes are given for
    accent: tuple[int, int, int] = RED


def qr(text: str) -> segno.QRCode:
    return segno.make_qr(text, error="m")  # never a Micro QR: phone cameras and bank apps cannot read those


def _layout(sheet: Sheet, width: float, height: float) -> tuple[list[tuple[Line, float]], float, float, float]:
    """(lines with their baseline y, qr size, qr top, scale): one geometry for all three formats, in mm."""
    k = width / sheet.reference_width
    margin = 14 * k
    scaled = lambda line: Line(line.text, line.size_mm * k, line.bold, line.color)  # noqa: E731
    placed, y = [], margin
    for line in map(scaled, sheet.above):
        y += line.size_mm * 1.45
        placed.append((line, y))
    below = [scaled(line) for line in sheet.below]
    below_height = sum(line.size_mm * 1.45 for line in below)
    qr_top = y + 6 * k
    qr_size = min(width - 2 * margin, height - margin - below_height - 8 * k - qr_top)
    y = qr_top + qr_size + 3 * k
    for line in below:
        y += line.size_mm * 1.45
        placed.append((line, y))
    return placed, qr_size, qr_top, k


def _fit(text: str, size: float, width: float, measure) -> float:
    """Shrink a line's size until it fits the printable width."""
    while size > 1.5 and measure(text, size) > width:
        size *= 0.93
    return size


def render_pdf(sheet: Sheet, paper: str) -> bytes:
    width, height = PAPER[paper]
    from fpdf import FPDF  # here, not at import: fpdf2 and fontTools are ~20 MB of every worker's memory

    pdf = FPDF(orientation="P", unit="mm", format=(width, height))
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.add_font("DejaVu", "", str(FONT_REGULAR))
    pdf.add_font("DejaVu", "B", str(FONT_BOLD))
    pdf.set_title(sheet.title)
    pdf.add_page()
    lines, qr_size, qr_top, k = _layout(sheet, width, height)
    pt_per_mm = 72 / 25.4

    def measure(text, size_mm, bold):
        pdf.set_font("DejaVu", "B" if bold else "", size_mm * pt_per_mm)
        return pdf.get_string_width(text)

    for line, baseline in lines:
        size_mm = _fit(line.text, line.size_mm, width - 28 * k, lambda t, s, b=line.bold: measure(t, s, b))
        pdf.set_font("DejaVu", "B" if line.bold else "", size_mm * pt_per_mm)
        pdf.set_text_color(*line.color)
        pdf.text((width - pdf.get_string_width(line.text)) / 2, baseline, line.text)
    buf = io.BytesIO()
    qr(sheet.qr_text).save(buf, kind="png", scale=20, border=4)
    buf.seek(0)
    pdf.image(buf, x=(width - qr_size) / 2, y=qr_top, w=qr_size, h=qr_size)
    pdf.set_draw_color(*sheet.accent)
    pdf.set_line_width(1.2 * k)
    pdf.rect(6 * k, 6 * k, width - 12 * k, height - 12 * k)
    return bytes(pdf.output())


def render_png(sheet: Sheet, paper: str, dpi: int = PNG_DPI) -> bytes:
    width, height = PAPER[paper]
    px = dpi / 25.4
    image = Image.new("RGB", (round(width * px), round(height * px)), "white")
    draw = ImageDraw.Draw(image)
    lines, qr_size, qr_top, k = _layout(sheet, width, height)

    def font(size_mm, bold):
        return ImageFont.truetype(str(FONT_BOLD if bold else FONT_REGULAR), max(int(size_mm * px), 6))

    for line, baseline in lines:
        size_mm = _fit(line.text, line.size_mm, width - 28 * k,
                       lambda t, s, b=line.bold: draw.textlength(t, font=font(s, b)) / px)
        draw.text((width * px / 2, baseline * px), line.text, font=font(size_mm, line.bold), fill=line.color,
                  anchor="ms")
    code = qr(sheet.qr_text)
    modules = code.symbol_size(scale=1, border=4)[0]
    scale = max(int(qr_size * px) // modules, 1)
    buf = io.BytesIO()
    code.save(buf, kind="png", scale=scale, border=4)
    qr_image = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    image.paste(qr_image, (round((width * px - qr_image.width) / 2), round(qr_top * px)))
    inset = 6 * k * px
    draw.rectangle((inset, inset, image.width - inset, image.height - inset), outline=sheet.accent,
                   width=max(int(1.2 * k * px), 1))
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi), optimize=True)
    return out.getvalue()


def render_svg(sheet: Sheet, paper: str) -> bytes:
    width, height = PAPER[paper]
    lines, qr_size, qr_top, k = _layout(sheet, width, height)
    code = qr(sheet.qr_text)
    modules = code.symbol_size(scale=1, border=4)[0]
    buf = io.BytesIO()
    code.save(buf, kind="svg", xmldecl=False, svgns=True, omitsize=True, scale=1, border=4)
    qr_svg = buf.getvalue().decode()
    qr_svg = qr_svg.replace("<svg ", f'<svg x="{(width - qr_size) / 2:.2f}" y="{qr_top:.2f}" '
                                     f'width="{qr_size:.2f}" height="{qr_size:.2f}" ', 1)
    if "viewBox" not in qr_svg:
        qr_svg = qr_svg.replace("<svg ", f'<svg viewBox="0 0 {modules} {modules}" ', 1)
    printable = width - 28 * k
    texts = []
    for line, baseline in lines:
        squeeze = (f' textLength="{printable:.2f}" lengthAdjust="spacingAndGlyphs"'
                   if len(line.text) * line.size_mm * 0.6 > printable else "")
        texts.append(
            f'<text x="{width / 2:.2f}" y="{baseline:.2f}" font-size="{line.size_mm:.2f}" '
            f'font-weight="{"bold" if line.bold else "normal"}" fill="rgb{line.color}" text-anchor="middle"{squeeze}>'
            f"{escape(line.text)}</text>")
    inset = 6 * k
    doc = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}mm" height="{height}mm" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Arial, sans-serif">'
        f"<title>{escape(sheet.title)}</title>"
        f'<rect width="{width}" height="{height}" fill="#fff"/>'
        f'<rect x="{inset:.2f}" y="{inset:.2f}" width="{width - 2 * inset:.2f}" height="{height - 2 * inset:.2f}" '
        f'fill="none" stroke="rgb{sheet.accent}" stroke-width="{1.2 * k:.2f}"/>'
        + "".join(texts) + qr_svg + "</svg>"
    )
    return doc.encode("utf-8")


RENDERERS = {"pdf": render_pdf, "png": render_png, "svg": render_svg}


def render(sheet: Sheet, paper: str, kind: str) -> bytes:
    return RENDERERS[kind](sheet, paper)
