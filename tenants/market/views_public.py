"""The market's public figures as JSON (the vendor's invitation page is tenants/vendors's)."""

from __future__ import annotations

from datetime import timedelta

from flask import g, request
from flask_babel import gettext as _

from app.cache import cached_for_visitors
from tenants.market import api_bp, queries
from tenants.resolution import answers_for_its_past
from tenants.market.models import Market, MarketSale, Stall
from tenants.vendors import payments as vendor_payments
from tenants.vendors.models import Vendor

MAX_STATS_DAYS = 366
# The public figures JSON is the same for every visitor: stored whole by the response cache (app/cache.py) until a
# commit writes what it counts (a sale, a vendor or its bank account, a market, a stall). The period ends today: just
# after midnight it can lag by up to RESPONSE_CACHE_SECONDS (10 minutes), the cache's bound on staleness.
SHOWN = (MarketSale, Vendor, *vendor_payments.ACCOUNT_MODELS, Market, Stall)  # what the public market figures count


@api_bp.route("/stats")
@cached_for_visitors(*SHOWN)
def stats():
    """The commune's public market figures: ``?days=N`` (1-366, default 30) up to today, or a past period
    ``?from=YYYY-MM-DD&to=YYYY-MM-DD`` (at most 366 days), for which a merged unit still answers (#18)."""
    from app import bounds
    from tenants.lineage import own_figures

    if request.args.get("from"):
        start, end = bounds.period(request.args, today=queries.today(), max_days=MAX_STATS_DAYS)  # bad: 400
    else:
        raw = request.args.get("days", "30")
        days = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 4 else 0
        if not 1 <= days <= MAX_STATS_DAYS:
            return {"error": {"status": 400, "message": _("days must be a whole number from 1 to 366.")}}, 400
        end = queries.today()
        start = end - timedelta(days=days - 1)
    own = own_figures(g.tenant, start, end)  # across a reorganisation (docs/decisions.md "Figures that stay true")
    with own.reading():
        shown = queries.public_stats(start, own.end, own)
    return {"commune": g.tenant.slug, **shown, **own.note}, 200, {
        "Cache-Control": "public, max-age=60", "Access-Control-Allow-Origin": "*"}


answers_for_its_past("market_api.stats")  # a merged unit's own past figures still answer (#18)
