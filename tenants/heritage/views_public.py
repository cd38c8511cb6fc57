"""The heritage pages for everyone: the commune's relics, a relic's page (phone-first, Vietnamese and English, with
its audio guide and 360° photo), the scan address a board's QR holds, pictures and recordings, and the figures
(a page and ``GET /api/c/<slug>/heritage/stats``).

A scan is counted once per visit and per board without storing who scanned: the count is a number per board and
day, and the visit is a cookie of this browser holding only the numbers of the boards it scanned in the last
``VISIT_SECONDS`` (no identifier, no IP address kept). docs/decisions.md, "Heritage".
"""

from __future__ import annotations

from flask import Response, abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user

from app import images, storage
from app.auth.access import is_commune_staff
from app.cache import cached_for_visitors
from tenants.heritage import api_bp, bp, pictures, queries, services
from tenants.heritage.kinds import DOCUMENT_KINDS, LANGUAGES, RANKINGS, RELIC_KINDS
from tenants.heritage.models import Artefact, AudioGuide, Board, BoardScan, Festival, Relic, Stele

VISIT_COOKIE = "heritage_visit"
VISIT_SECONDS = 30 * 60  # a visit: the boards this browser scanned in the last half hour
MAX_REMEMBERED = 40  # boards remembered in one visit (a cookie stays small)
# What the public pages show; their cached copies are dropped when a commit writes one of these (app/cache.py).
SHOWN = (Relic, Festival, Artefact, Stele, AudioGuide)
FIGURES_SHOWN = (Relic, Artefact, Stele, Board, BoardScan)


def _visible(relic: Relic) -> bool:
    return relic.published or is_commune_staff(current_user, g.tenant.id)


def _visible_relic(relic_id: int) -> Relic:
    relic = services.get_relic(relic_id)  # NotFound (404) for another commune's relic
    if not _visible(relic):
        abort(404)
    return relic


def _language() -> str:
    language = str(get_locale())
    return language if language in LANGUAGES else "vi"


@bp.route("/")
@cached_for_visitors(*SHOWN)
def index():
    return render_template("heritage/index.html", rows=queries.register(published_only=True),
                           kinds=RELIC_KINDS, rankings=RANKINGS, language=_language(),
                           is_staff=is_commune_staff(current_user, g.tenant.id))


@bp.route("/relics/<int:relic_id>")
@cached_for_visitors(*SHOWN)
def relic_page(relic_id: int):
    relic = _visible_relic(relic_id)
    page = queries.relic_page(relic)
    language = _language()
    return render_template("heritage/relic.html", page=page, relic=relic, language=language,
                           kinds=RELIC_KINDS, rankings=RANKINGS, document_kinds=DOCUMENT_KINDS,
                           audio=page.audio.get(language), today=queries.today())


def _seen_boards() -> set[int]:
    """The boards this visit already scanned, from the visit cookie (anything malformed is ignored)."""
    raw = request.cookies.get(VISIT_COOKIE, "")
    return {int(part) for part in raw.split(".")[:MAX_REMEMBERED] if part.isascii() and part.isdigit()
            and len(part) < 10}


@bp.route("/q/<int:board_id>")
def scan(board_id: int):
    """A board's QR: count the scan (once per visit) and open the relic's page."""
    board = queries.board_for_scan(board_id)
    if board is None:
        abort(404)
    relic = _visible_relic(board.relic_id)
    seen = _seen_boards()
    if board.id not in seen:
        services.record_scan(board, queries.today())
        seen = {board.id, *sorted(seen)[-(MAX_REMEMBERED - 1):]}
    response = redirect(url_for("heritage.relic_page", relic_id=relic.id))
    response.set_cookie(VISIT_COOKIE, ".".join(str(n) for n in sorted(seen)), max_age=VISIT_SECONDS,
                        path=url_for("heritage.index"), httponly=True, samesite="Lax",
                        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    response.headers["Cache-Control"] = "no-store"
    return response


def _picture_response(record, owner_visible: bool, name: str, size: str, names) -> Response:
    if size not in images.SIZES or not images.is_name(name) or name not in names:
        abort(404)
    try:
        data = storage.load(images.key(pictures.AREA, record.tenant_id, pictures.owner_key(record), name, size))
    except FileNotFoundError:
        abort(404)
    response = Response(data, mimetype="image/jpeg")
    response.cache_control.max_age = 31536000  # names are content hashes: a found picture never changes
    if owner_visible:
        response.cache_control.public = True
        response.cache_control.immutable = True
    else:
        response.cache_control.private = True
    return response


@bp.route("/relics/<int:relic_id>/photos/<name>-<size>.jpg")
def relic_photo(relic_id: int, name: str, size: str):
    relic = _visible_relic(relic_id)
    names = [*(relic.photos or []), *([relic.panorama] if relic.panorama else [])]
    return _picture_response(relic, relic.published, name, size, names)


@bp.route("/artefacts/<int:artefact_id>/photos/<name>-<size>.jpg")
def artefact_photo(artefact_id: int, name: str, size: str):
    artefact = services.get_artefact(artefact_id)
    relic = _visible_relic(artefact.relic_id)
    return _picture_response(artefact, relic.published, name, size, artefact.photos or [])


@bp.route("/steles/<int:stele_id>/rubbings/<name>-<size>.jpg")
def rubbing(stele_id: int, name: str, size: str):
    stele = services.get_stele(stele_id)
    relic = _visible_relic(stele.relic_id)
    return _picture_response(stele, relic.published, name, size, stele.rubbings or [])


@bp.route("/relics/<int:relic_id>/audio")
def audio(relic_id: int):
    """The relic's recording in ``?lang=`` (vi, en), with byte ranges so the player can seek."""
    relic = _visible_relic(relic_id)
    guide = services.audio_guide(relic.id, request.args.get("lang", ""))
    if guide is None:
        abort(404)
    try:
        data = storage.load(services.audio_key(relic.tenant_id, relic.id, guide.name))
    except FileNotFoundError:
        abort(404)
    response = Response(data, mimetype=guide.mimetype)
    response.headers["Cache-Control"] = "public, max-age=3600" if relic.published else "private, no-store"
    return response.make_conditional(request.environ, accept_ranges=True, complete_length=len(data))


@bp.route("/figures")
@cached_for_visitors(*FIGURES_SHOWN)
def figures():
    data = queries.figures()
    chart = [(month.strftime("%m/%y"), count, f"{count:,}".replace(",", ".")) for month, count in data["scans_per_month"]]
    return render_template("heritage/figures.html", figures=data, chart=chart)


@api_bp.route("/stats")
@cached_for_visitors(*FIGURES_SHOWN)
def stats():
    """The commune's public heritage figures: totals and scans per month (no personal data exists to show)."""
    data = queries.figures()
    return {
        "commune": g.tenant.slug,
        **{key: data[key] for key in queries.FIGURE_KEYS},
        "scans_per_month": [{"month": month.strftime("%Y-%m"), "scans": count}
                            for month, count in data["scans_per_month"]],
    }, 200, {"Cache-Control": "public, max-age=60", "Access-Control-Allow-Origin": "*"}


@bp.app_template_filter("heritage_picture")
def picture_urls(name: str, record) -> tuple[str, str]:
    """(full, thumbnail) URLs of a relic's, an artefact's or a stele's picture ``name``."""
    if isinstance(record, Relic):
        endpoint, values = "heritage.relic_photo", {"relic_id": record.id}
    elif isinstance(record, Artefact):
        endpoint, values = "heritage.artefact_photo", {"artefact_id": record.id}
    else:
        endpoint, values = "heritage.rubbing", {"stele_id": record.id}
    return (url_for(endpoint, name=name, size="full", **values), url_for(endpoint, name=name, size="thumb", **values))
