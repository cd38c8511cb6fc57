"""What the district pages read: the period asked for, every commune side by side, the totals, the monthly trend.

A fixed number of queries whatever the number of communes: one for the communes, one call per registered provider
(each an aggregate grouped by tenant_id), and one per provider per month for the trend.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
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
    merged = history.merged_during(start, end)
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
TREND_WAIT_SECONDS = 30.0  # how long a worker waits for another's computation of the same trend before doing it
_TREND_POLL_SECONDS = 0.1
log = logging.getLogger(__name__)


def kept_trends() -> TTLCache:
    """This app's kept trends, (communes, end, months) -> rows, each for ``DISTRICT_TREND_SECONDS`` (used when no
    Redis is configured: then each worker keeps its own)."""
    seconds = current_app.config.get("DISTRICT_TREND_SECONDS", 0)
    kept = current_app.extensions.get("district_trends")
    if kept is None or kept.ttl != seconds:
        kept = TTLCache(maxsize=KEPT_TRENDS, ttl=seconds, timer=lambda: time.monotonic())
        current_app.extensions["district_trends"] = kept
    return kept


def shared_trends():
    """The Redis client the workers share the trends through (the cache's Redis: ``CACHE_REDIS_URL`` or a redis://
    ``RATELIMIT_STORAGE_URI``), or None without one. One client per app."""
    from app.cache import shared_redis_url

    if "district_trend_redis" not in current_app.extensions:
        url = shared_redis_url(current_app.config)
        client = None
        if url:
            import redis

            from app.redis_health import client_options

            client = redis.Redis.from_url(url, **client_options(current_app.config, url))
        current_app.extensions["district_trend_redis"] = client
    return current_app.extensions["district_trend_redis"]


def _trend_key(tenant_ids, end: date, months: int) -> str:
    ids = ",".join(str(i) for i in sorted(set(tenant_ids)))
    digest = hashlib.sha256(ids.encode()).hexdigest()[:24]
    return f"{current_app.config.get('CACHE_KEY_PREFIX', 'gialam:')}district-trend:{digest}:{end.isoformat()}:{months}"


def _dump_trend(rows) -> str:
    return json.dumps([[month.isoformat(), totals] for month, totals in rows])


def _load_trend(raw) -> list[tuple[date, dict[str, int]]]:
    return [(date.fromisoformat(month), totals) for month, totals in json.loads(raw)]


def monthly_trend(tenant_ids, end: date, months: int = TREND_MONTHS,
                  history: lineage.History | None = None) -> list[tuple[date, dict[str, int]]]:
    """The totals of the communes ``tenant_ids`` per calendar month, for the ``months`` months ending with ``end``'s
    month (that month counted up to ``end``): one query per provider that answers by month, else one per provider
    per month; never one per commune.

    Kept for ``DISTRICT_TREND_SECONDS`` (a year of every commune's records is seconds of work at national scale; a
    trend chart a few minutes old is what a leader's overview can afford, the period's figures are live). With a
    Redis (the cache's), one computation serves every worker of every server (``_shared_trend``); without one, each
    worker keeps its own."""
    seconds = current_app.config.get("DISTRICT_TREND_SECONDS", 0)
    if not seconds:
        return _monthly_trend(tenant_ids, end, months, history)
    client = shared_trends()
    if client is not None:
        try:
            return _shared_trend(client, tenant_ids, end, months, seconds, history)
        except Exception as error:  # Redis down or refusing: the trend is computed here, never a 500 for it
            log.warning("district trend: Redis unavailable (%s); computed in this worker", error)
    key, kept = (frozenset(tenant_ids), end, months), kept_trends()
    with _TREND_LOCK:
        rows = kept.get(key)
    if rows is None:
        rows = _monthly_trend(tenant_ids, end, months, history)
        with _TREND_LOCK:
            kept[key] = rows
    return rows


def _shared_trend(client, tenant_ids, end: date, months: int, seconds: int,
                  history: lineage.History | None = None) -> list[tuple[date, dict[str, int]]]:
    """The trend from Redis, or computed by one worker while the others wait for it: the first to miss takes a lock
    (``SET NX``, expiring after ``TREND_WAIT_SECONDS``), computes, stores the answer for ``seconds`` and lets go; the
    others poll for the answer and compute it themselves only if none came within ``TREND_WAIT_SECONDS`` (the
    computing worker died or is that slow). An answer is never older than ``seconds`` (it expires in Redis)."""
    key = _trend_key(tenant_ids, end, months)
    raw = client.get(key)
    if raw is not None:
        return _load_trend(raw)
    lock = f"{key}:computing"
    token = secrets.token_hex(8)
    deadline = time.monotonic() + TREND_WAIT_SECONDS
    while not client.set(lock, token, nx=True, ex=max(1, int(TREND_WAIT_SECONDS))):
        time.sleep(_TREND_POLL_SECONDS)
        raw = client.get(key)
        if raw is not None:
            return _load_trend(raw)
        if time.monotonic() >= deadline:
            return _monthly_trend(tenant_ids, end, months, history)
    raw = client.get(key)  # computed and stored between our miss and our lock
    if raw is not None:
        return _load_trend(raw)
    try:
        rows = _monthly_trend(tenant_ids, end, months, history)
    except BaseException:
        _let_go(client, lock, token)
        raise
    try:  # Redis failing now must not make the caller compute it a second time
        client.set(key, _dump_trend(rows), ex=seconds)
    except Exception as error:
        log.warning("district trend: not stored in Redis (%s)", error)
    _let_go(client, lock, token)
    return rows


def _let_go(client, lock: str, token: str) -> None:
    """Delete the lock if it is still ours (not expired and taken by another worker meanwhile)."""
    try:
        if client.get(lock) == token.encode():
            client.delete(lock)
    except Exception as error:  # it expires by itself
        log.warning("district trend: lock not released (%s)", error)


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
