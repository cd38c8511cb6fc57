"""The heritage pages run a fixed number of SQL queries whatever how many records they show (no N+1)."""

from __future__ import annotations

import pytest

from tests.conftest import count_queries, data_statements, login
from tests.tenants.heritage.helpers import make_artefact, make_board, make_festival, make_relic, make_stele


def _queries(app, client, path: str) -> int:
    app.extensions["response_cache"].clear()
    with count_queries(app) as statements:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(data_statements(statements))


def _grow(app, tenant, relic_id: int, start: int) -> None:
    for n in range(start, start + 4):
        make_artefact(app, tenant, relic_id, number=f"BT-{n:03d}")
        make_stele(app, tenant, relic_id, title=f"Bia số {n}")
        make_festival(app, tenant, relic_id, month=1 + n % 12)
        make_board(app, tenant, relic_id)
        make_relic(app, tenant, name=f"Miếu {n}", kind="mieu")


@pytest.mark.parametrize("staff, path", [
    (False, "/c/bat-trang/heritage/"),
    (False, "/c/bat-trang/heritage/relics/{relic}"),
    (False, "/c/bat-trang/heritage/figures"),
    (False, "/api/c/bat-trang/heritage/stats"),
    (True, "/c/bat-trang/heritage/staff/"),
    (True, "/c/bat-trang/heritage/staff/relics/{relic}"),
    (True, "/c/bat-trang/heritage/staff/boards"),
])
def test_a_page_runs_as_many_queries_with_more_records(app, client, commune, staff, path):
    relic_id = make_relic(app, commune)
    _grow(app, commune, relic_id, 1)
    if staff:
        login(client, "officer@bt.vn")
    path = path.format(relic=relic_id)
    few = _queries(app, client, path)
    _grow(app, commune, relic_id, 10)
    assert _queries(app, client, path) == few
