"""Scans of one board at once (PostgreSQL only: SQLite serialises writers): 8 phones scanning a board for the first
time today, through the live server, are 8 scans; none is lost to the day's first row being inserted twice."""

from __future__ import annotations

import urllib.request

import pytest
from sqlalchemy import select

from app.extensions import db
from tenants.heritage.models import BoardScan
from tenants.scoping import tenant_context
from tests.payments.test_concurrency import THREADS, _all_at_once
from tests.tenants.heritage.helpers import make_board, make_relic


@pytest.fixture(autouse=True)
def _postgres_only(is_postgres):
    if not is_postgres:
        pytest.skip("concurrency tests need PostgreSQL (set TEST_DATABASE_URL)")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _scan(url: str) -> int:
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        return opener.open(url, timeout=30).status
    except urllib.error.HTTPError as err:
        return err.code


def test_eight_first_scans_of_the_day_at_once_are_eight_scans(app, live_server, commune):
    board_id = make_board(app, commune, make_relic(app, commune))
    url = f"{live_server}/c/bat-trang/heritage/q/{board_id}"
    results = _all_at_once([lambda: _scan(url)] * THREADS)
    assert results == [302] * THREADS
    with app.app_context(), tenant_context(commune):
        assert [row.scans for row in db.session.scalars(select(BoardScan))] == [THREADS]
