"""Helpers for the tests of the district figures providers (docs/decisions.md, "Second read, #17 session")."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta


def record_builds(monkeypatch, queries) -> list[bool]:
    """Empty the providers' built statements (``app.district.figures._STATEMENTS``) and record each build of
    ``queries._district_statement`` (the ``by_month`` asked): built once per shape, the list ends as ``[False, True]``."""
    from app.district import figures

    monkeypatch.setattr(figures, "_STATEMENTS", {})
    built: list[bool] = []
    real = queries._district_statement
    monkeypatch.setattr(queries, "_district_statement", lambda by_month: built.append(by_month) or real(by_month))
    return built


def month_periods(monthly: dict, start: date, end: date) -> Iterator[tuple[date, dict, date, date]]:
    """For a provider's ``district_monthly(start, end)``: each month, its figures, and the days of the period it
    covers (from its first day or ``start``, to its last day or ``end``), to compare with the period's figures."""
    for month, per_commune in monthly.items():
        last = min(((month.replace(day=28) + timedelta(days=4)).replace(day=1)) - timedelta(days=1), end)
        yield month, per_commune, max(month, start), last
