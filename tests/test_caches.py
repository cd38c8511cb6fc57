"""The three in-process caches (cachetools): bounded, the least recently used first out, and the district's trend
for its time only."""

from __future__ import annotations

from datetime import date, timedelta

import pytest


@pytest.mark.parametrize("make_cache", ["response", "qr_versions"])
def test_a_full_cache_lets_the_least_recently_used_go_first(make_cache):
    from app.cache import _Store
    from app.payments.views_public import _VersionCache

    cache = _Store(2) if make_cache == "response" else _VersionCache(size=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    cache.clear()
    assert cache.get("a") is None


def test_the_district_trends_are_kept_for_their_time_and_bounded(app, monkeypatch):
    from app.district import queries

    computed = []
    monkeypatch.setattr(queries, "_monthly_trend", lambda ids, end, months, history=None: computed.append(end) or [end])
    monkeypatch.setitem(app.config, "DISTRICT_TREND_SECONDS", 600)
    clock = [1_000.0]
    monkeypatch.setattr(queries.time, "monotonic", lambda: clock[0])
    with app.app_context():
        queries.kept_trends().clear()
        days = [date(2026, 1, 1) + timedelta(days=n) for n in range(queries.KEPT_TRENDS + 1)]
        for day in days:
            queries.monthly_trend([1], day)
        assert len(queries.kept_trends()) == queries.KEPT_TRENDS  # the oldest went out
        queries.monthly_trend([1], days[-1])
        assert len(computed) == len(days)  # the newest was kept
        queries.monthly_trend([1], days[0])
        assert len(computed) == len(days) + 1  # the first, pushed out, is computed again
        clock[0] += 601
        queries.monthly_trend([1], days[-1])
        assert len(computed) == len(days) + 2  # ten minutes on: computed again
        monkeypatch.setitem(app.config, "DISTRICT_TREND_SECONDS", 0)
        queries.monthly_trend([1], days[-1])
        queries.monthly_trend([1], days[-1])
        assert len(computed) == len(days) + 4  # nothing kept when keeping is off
        queries.kept_trends().clear()
