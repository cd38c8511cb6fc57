"""``GET /api/products``: the published catalogue as JSON, the same search and filters as the pages."""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _

from app.cache import cached_for_visitors
from marketplace import api_bp, queries
from marketplace.statuses import category
from marketplace.views_public import SHOWN
from tenants.queries import get_by_slug
from tenants.resolution import moved_commune_filter


def _bad(message: str):
    response = jsonify(error={"status": 400, "message": message})
    response.status_code = 400
    return response


def _positive(name: str, default: int, maximum: int):
    value = request.args.get(name)
    if value is None or value == "":
        return default
    if not value.isdecimal() or not value.isascii() or len(value) > 6 or not 1 <= int(value) <= maximum:
        return None
    return int(value)


@api_bp.get("/products")
@cached_for_visitors(*SHOWN, without_query=True)  # the catalogue's first page; a query is rendered (unbounded keys)
def products():
    q = request.args.get("q", "")
    if len(q) > 100:
        return _bad(_("q is too long (100 characters at most)."))
    page = _positive("page", 1, 100_000)
    if page is None:
        return _bad(_("page must be a whole number of at least 1."))
    per_page = _positive("per_page", 24, queries.MAX_PER_PAGE)
    if per_page is None:
        return _bad(_("per_page must be a whole number from 1 to %(max)s.", max=queries.MAX_PER_PAGE))
    cat = request.args.get("category") or None
    if cat is not None and category(cat) is None:
        return _bad(_("Unknown category: %(value)s.", value=cat[:40]))
    if (moved := moved_commune_filter()) is not None:
        return moved  # a closed commune's filter: the same question of its successor
    commune = request.args.get("commune") or None
    if commune is not None and (len(commune) > 80 or "\x00" in commune or get_by_slug(commune) is None):
        return _bad(_("Unknown commune: %(value)s.", value=commune[:40]))
    result = queries.public_search(q=q, commune=commune, category=cat, sort="relevance" if q else "newest",
                                   page=page, per_page=per_page)
    response = jsonify(
        items=[{"id": p.id, "slug": p.slug, "name": p.name, "price": p.price, "unit": p.unit,
                "stock": max(p.available, 0), "vendor": p.vendor_name, "commune": p.commune_slug,
                "category": p.category, "ocop_stars": p.ocop_stars} for p in result.items],
        total=result.total, page=page, per_page=per_page,
    )
    response.headers["Cache-Control"] = "public, max-age=60"
    return response
