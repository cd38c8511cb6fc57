"""A relic's printable QR board (A4 or A3; PDF, PNG or SVG) on the core's QR sheet (app/posters.py).

The QR holds the board's scan address built from ``PUBLIC_BASE_URL`` (the link leaves the site on paper: it must
name the public host whatever host the staff member used), which counts the scan and opens the relic's page. The
words are Vietnamese with an English line whatever the staff member's interface language: visitors read them.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale

from app import posters
from app.links import public_base_url
from tenants.heritage.kinds import RANKINGS, RELIC_KINDS, label

PAPERS = ("a4", "a3")
KINDS = posters.KINDS
MIMETYPES = posters.MIMETYPES
ACCENT = (122, 62, 24)  # lacquer brown, the colour of the boards at the district's relics
GREY = posters.GREY


def scan_url(tenant_slug: str, board_id: int) -> str:
    """The address a board's QR holds: the scan counter, which opens the relic's page."""
    path = current_app.url_map.bind("localhost").build("heritage.scan", {"tenant_slug": tenant_slug,
                                                                         "board_id": board_id})
    return public_base_url() + path


def sheet(board, relic, tenant) -> posters.Sheet:
    with force_locale("vi"):
        kind = label(RELIC_KINDS, relic.kind).split(" (")[0]
        ranking = label(RANKINGS, relic.ranking) if relic.ranking != "none" else ""
    url = scan_url(tenant.slug, board.id)
    above = (
        posters.Line("DI TÍCH LỊCH SỬ – VĂN HÓA", 7.0, True, ACCENT),
        posters.Line("Historic and cultural site", 4.2, False, GREY),
        posters.Line(relic.name, 11.0, True),
        posters.Line(" · ".join(part for part in (kind, ranking) if part), 5.0),
        posters.Line(f"{tenant.display_name}, {tenant.district_name}, {tenant.province_name}", 4.4, False, GREY),
    )
    if board.narration:
        invitation = ("Quét mã để xem giới thiệu và nghe thuyết minh",
                      "Scan for the story and the audio guide · Tiếng Việt · English")
    else:
        invitation = ("Quét mã để xem giới thiệu di tích", "Scan for the story of this site · Tiếng Việt · English")
    below = (
        posters.Line(invitation[0], 5.6, True),
        posters.Line(invitation[1], 4.0, False, GREY),
        posters.Line(f"Bảng số {board.number:03d}", 5.0, True, ACCENT),
        posters.Line(url, 3.2, False, GREY),
    )
    return posters.Sheet(title=f"{relic.name} · Bảng số {board.number:03d}", qr_text=url, above=above, below=below,
                         accent=ACCENT)


def render(board, relic, tenant, paper: str, kind: str) -> bytes:
    return posters.render(sheet(board, relic, tenant), paper, kind)
