"""A board's QR opens the relic's page and counts the scan: once per visit and per board, with nothing kept about
who scanned (a number per board and day; the visit is a cookie holding only board ids)."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from tenants.heritage.models import BoardScan
from tenants.scoping import all_tenants
from tests.tenants.heritage.helpers import make_board, make_relic


def scans(app) -> list[tuple[int, int]]:
    with app.app_context(), all_tenants():
        return [(row.board_id, row.scans) for row in db.session.scalars(select(BoardScan).order_by(BoardScan.board_id))]


def test_a_scan_opens_the_relic_page_and_is_counted_once_per_visit(app, client, commune):
    relic_id = make_relic(app, commune)
    board_id = make_board(app, commune, relic_id)
    first = client.get(f"/c/bat-trang/heritage/q/{board_id}")
    assert first.status_code == 302
    assert first.headers["Location"].endswith(f"/c/bat-trang/heritage/relics/{relic_id}")
    assert first.headers["Cache-Control"] == "no-store"
    assert scans(app) == [(board_id, 1)]
    page = client.get(first.headers["Location"])
    assert page.status_code == 200 and "Đình Giang Cao" in page.get_data(as_text=True)
    client.get(f"/c/bat-trang/heritage/q/{board_id}")  # the same visit scans again
    assert scans(app) == [(board_id, 1)]


def test_another_visit_and_another_board_each_count(app, client, commune):
    relic_id = make_relic(app, commune)
    board_a, board_b = make_board(app, commune, relic_id), make_board(app, commune, relic_id)
    client.get(f"/c/bat-trang/heritage/q/{board_a}")
    client.get(f"/c/bat-trang/heritage/q/{board_b}")
    app.test_client().get(f"/c/bat-trang/heritage/q/{board_a}")  # another phone
    assert scans(app) == [(board_a, 2), (board_b, 1)]


def test_the_visit_cookie_holds_board_ids_only_and_ends_with_the_visit(app, client, commune):
    relic_id = make_relic(app, commune)
    board_id = make_board(app, commune, relic_id)
    response = client.get(f"/c/bat-trang/heritage/q/{board_id}")
    [cookie] = response.headers.getlist("Set-Cookie")
    assert cookie.startswith(f"heritage_visit={board_id};")
    assert "Max-Age=1800" in cookie and "HttpOnly" in cookie and "Path=/c/bat-trang/heritage/" in cookie
    assert "session=" not in cookie  # no session, no identifier: the count alone is kept


def test_a_visit_that_is_over_counts_again(app, client, commune):
    relic_id = make_relic(app, commune)
    board_id = make_board(app, commune, relic_id)
    client.get(f"/c/bat-trang/heritage/q/{board_id}")
    client.delete_cookie("heritage_visit", path="/c/bat-trang/heritage/")  # the browser dropped it after 30 min
    client.get(f"/c/bat-trang/heritage/q/{board_id}")
    assert scans(app) == [(board_id, 2)]


def test_a_malformed_visit_cookie_is_ignored(app, client, commune):
    relic_id = make_relic(app, commune)
    board_id = make_board(app, commune, relic_id)
    client.set_cookie("heritage_visit", "x.\x00.99999999999", path="/c/bat-trang/heritage/")
    assert client.get(f"/c/bat-trang/heritage/q/{board_id}").status_code == 302
    assert scans(app) == [(board_id, 1)]


def test_an_unknown_board_or_another_communes_board_is_404_and_counts_nothing(app, client, make, commune):
    other = make.tenant("kieu-ky", "Kiêu Kỵ")
    board_id = make_board(app, other, make_relic(app, other))
    assert client.get(f"/c/bat-trang/heritage/q/{board_id}").status_code == 404
    assert client.get("/c/bat-trang/heritage/q/999999").status_code == 404
    assert scans(app) == []


def test_a_board_of_an_unpublished_relic_counts_nothing(app, client, commune):
    board_id = make_board(app, commune, make_relic(app, commune, published=False))
    assert client.get(f"/c/bat-trang/heritage/q/{board_id}").status_code == 404
    assert scans(app) == []
