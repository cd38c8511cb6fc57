"""What the district pages read: the period asked for, every commune side by side, the totals, the monthly trend.

A fixed number of queries whatever the number of communes: one for the communes, one call per registered provider
(each an aggregate grouped by tenant_id), and one per provider per month for the trend.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta

from cachetools import TTLCache
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, text

from app import bounds
from app.district import figures
from app.extensions import db
from app.formatting import format_date, to_local
from app.clock import utcnow
from tenants import lineage
from tenants.models import Tenant

DEFAULT_DAYS = 30
MAX_DAYS = 366 * 5
TREND_MONTHS = 12


def today() -> date:
    return to_local(utcnow()).date()


def period(args) -> tuple[date, date]:
    """(start, end), both included, from ``?from=YYYY-MM-DD&to=YYYY-MM-DD``; by default the last 30 days.

    ``ValidationError`` (400) for a date that is malformed, does not exist or is out of app/bounds.py's years, a
    start after the end, or a period of more than five years."""
    return bounds.period(args, today=today(), max_days=MAX_DAYS, default_days=DEFAULT_DAYS)


@dataclass
class CommuneFigures:
    tenant: Tenant
    values: dict[str, int]
    score: figures.Score
    rank: int | None = None
    includes: list[Tenant] | None = None  # units that ended during the period: their history is in these figures
    merged_on: list[date] | None = None  # the day each of ``includes`` merged into this one

    @property
    def history_note(self) -> str | None:
        """"includes the history of Kim Lan, Văn Đức, merged on 01/01/2025" (None when it holds only its own)."""
        if not self.includes:
            return None
        days = ", ".join(dict.fromkeys(format_date(day) for day in self.merged_on or ()))
        return _("includes the history of %(units)s, merged on %(day)s",
                 units=", ".join(t.name for t in self.includes), day=days)

    def as_json(self) -> dict:
        return {
            "slug": self.tenant.slug,
            "code": self.tenant.code,
            "name": self.tenant.name,
            "kind": self.tenant.kind,
            **self.values,
            "score": self.score.value,
            "rank": self.rank,
            # The records a merged unit's successor received carry their history with them: its figures for any
            # period include them, and say so (tenants/lineage.py, docs/decisions.md "Lineage").
            "includes_history_of": [t.slug for t in self.includes or ()],
            "history_note": self.history_note,
        }


@dataclass
class DistrictFigures:
    start: date
    end: date
    keys: list[str]
    communes: list[CommuneFigures]  # in the order of their codes
    totals: dict[str, int]
    history: lineage.History | None = None  # the lineage the figures were attributed with (the trend reuses it)

    @property
    def ranking(self) -> list[CommuneFigures]:
        return sorted(self.communes, key=lambda c: (c.rank is None, c.rank or 0, c.tenant.code))

    def as_json(self) -> dict:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "communes": [c.as_json() for c in self.communes],
            "totals": self.totals,
        }


def active_communes() -> list[Tenant]:
    return list(db.session.scalars(select(Tenant).where(Tenant.status == "active").order_by(Tenant.code, Tenant.id)))


def _without_jit() -> None:
    """PostgreSQL's JIT compiler, for the rest of this transaction, off: it compiles the district's aggregates
    (a cost estimate in the hundreds of thousands) in 0.1-0.8 s on every request, more than they take to run from
    their indexes (bench/README.md, "Scale data"). A set_config like the tenant's, local to the transaction."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT set_config('jit', 'off', true)"))


def district_figures(start: date, end: date) -> DistrictFigures:
    """The units in force at the period's end (before a reorganisation: the units as they were; across one: its
    successors, each saying whose history it holds), each record counted under the unit the lineage leads it to
    (docs/decisions.md, "Figures that stay true"): the totals of any past period are the same before and after."""
    _without_jit()
    # (a unit marked merged by hand, with no last day, is no longer listed, as before #18)
    communes = [t for t in lineage.in_force(end) if t.status == "active" or t.valid_until is not None]
    history = lineage.history()
    values = figures.collect([t.id for t in communes], start, end, history)
    keys = figures.registered_keys()
    merged = history.merged_into(start, end)
    ended = {t.id: t for t in db.session.scalars(select(Tenant).where(
        Tenant.id.in_({p for pairs in merged.values() for p, _day in pairs})))} if merged else {}
    rows = [CommuneFigures(t, values[t.id], figures.score(values[t.id]),
                           includes=[ended[p] for p, _day in merged.get(t.id, ())],
                           merged_on=[day for _p, day in merged.get(t.id, ())]) for t in communes]
    scored = sorted((r for r in rows if r.score.value is not None), key=lambda r: (-r.score.value, r.tenant.code))
    for position, row in enumerate(scored, start=1):
        row.rank = position
    totals = {key: sum(r.values[key] for r in rows) for key in keys}
    return DistrictFigures(start, end, keys, rows, totals, history)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


_TREND_LOCK = threading.Lock()  # cachetools' caches are not thread-safe
KEPT_TRENDS = 32  # a handful of periods and communes' sets: never grows without bound


def kept_trends() -> TTLCache:
    """This app's kept trends, (communes, end, months) -> rows, each for ``DISTRICT_TREND_SECONDS``."""
    seconds = current_app.config.get("DISTRICT_TREND_SECONDS", 0)
    kept = current_app.extensions.get("district_trends")
    if kept is None or kept.ttl != seconds:
        kept = TTLCache(maxsize=KEPT_TRENDS, ttl=seconds, timer=lambda: time.monotonic())
        current_app.extensions["district_trends"] = kept
    return kept


def monthly_trend(tenant_ids, end: date, months: int = TREND_MONTHS,
                  history: lineage.History | None = None) -> list[tuple[date, dict[str, int]]]:
    """The totals of the communes ``tenant_ids`` per calendar month, for the ``months`` months ending with ``end``'s
    month (that month counted up to ``end``): one query per provider that answers by month, else one per provider
    per month; never one per commune.

    Kept per worker for ``DISTRICT_TREND_SECONDS`` (a year of every commune's records is seconds of work at national
    scale; a trend chart a few minutes old is what a leader's overview can afford, the period's figures are live)."""
    if not current_app.config.get("DISTRICT_TREND_SECONDS", 0):
        return _monthly_trend(tenant_ids, end, months, history)
    key, kept = (frozenset(tenant_ids), end, months), kept_trends()
    with _TREND_LOCK:
        rows = kept.get(key)
    if rows is None:
        rows = _monthly_trend(tenant_ids, end, months, history)
        with _TREND_LOCK:
            kept[key] = rows
    return rows


def _monthly_trend(tenant_ids, end: date, months: int,
                   history: lineage.History | None = None) -> list[tuple[date, dict[str, int]]]:
    """Each record counted for the units ``tenant_ids`` under the unit the lineage leads it to at ``end`` (as
    ``district_figures``, whose ``history`` the dashboard passes on)."""
    _without_jit()
    history = history if history is not None else lineage.history()
    tenant_ids = set(tenant_ids)
    first = _month_start(end)
    for _i in range(months - 1):
        first = _month_start(first - timedelta(days=1))
    month_starts = []
    month = first
    while month <= end:
        month_starts.append(month)
        month = _next_month(month)
    totals = {m: {} for m in month_starts}
    for provider in figures.providers():
        if provider.monthly is not None:  # one query for every month
            by_month = provider.monthly(first, end) or {}
        else:  # one call per month
            by_month = {m: provider.compute(m, min(_next_month(m) - timedelta(days=1), end)) or {}
                        for m in month_starts}
        for m in month_starts:
            computed = by_month.get(m, {})
            for key in provider.keys:
                totals[m][key] = sum(int(v.get(key, 0) or 0) for tid, v in figures.attribute(computed, history, end)
                                     if tid in tenant_ids)
    return [(m, totals[m]) for m in month_starts]
