"""A commune's desk and home page are composed from the tiles the domains register (tenants/tiles.py): each domain's
figures, charts and links, for the roles the tile names, read in the commune shown."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from tenants import tiles
from tenants.notices.models import Notice
from tests.conftest import login


@pytest.fixture
def communes(make):
    a, b = make.tenant("xa-a", "Xã A"), make.tenant("xa-b", "Xã B")
    make.user("admin@a.vn", "commune_admin", a)
    make.user("officer@a.vn", "officer", a)
    make.user("district@gialam.vn", "district_admin")
    for title in ("Một", "Hai"):
        make.notice(a, title)
    make.notice(b, "Ba")
    return a, b


@pytest.fixture
def a_domain_tile():
    """What a new domain adds in its own package: a figure read in the commune, a chart and a link, for admins."""

    def read():
        count = db.session.scalar(select(func.count()).select_from(Notice))  # scoped to the desk's commune
        return [tiles.Figure("Made-up count", count, testid="made-up-count"),
                tiles.Chart("Made-up chart", [("01/01", 5, "5"), ("02/01", 7, "7")], testid="made-up-chart")]

    tiles.on_desk(tiles.DeskTile("made_up", order=35, roles=("commune_admin",), read=read,
                                 links=(tiles.Link("Made-up domain", "notices.index", testid="made-up-link"),)))
    tiles.on_home(tiles.HomeTile("made_up", order=5, links=(tiles.Link("Made-up page", "notices.index",
                                                                        testid="made-up-public"),)))
    yield
    tiles.remove("made_up")


def figure(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>([^<]*)<', html)
    assert match, testid
    return match.group(1).strip()


def links(html: str) -> list[str]:
    actions = html.split('<div class="actions">', 1)[1].split("</div>", 1)[0]
    return re.findall(r'<a class="button[^"]*" href="([^"]+)"', actions)


def test_the_desk_shows_each_domains_tile_in_order(client, communes):
    login(client, "admin@a.vn")
    html = client.get("/c/xa-a/desk").get_data(as_text=True)
    assert links(html) == ["/c/xa-a/onestop/", "/c/xa-a/payments/", "/c/xa-a/payments/inbox", "/c/xa-a/notices/",
                           "/c/xa-a/market/", "/c/xa-a/heritage/staff/", "/c/xa-a/staff", "/c/xa-a/"]
    assert figure(html, "received-today") == "0 ₫"
    assert 'data-testid="desk-chart"' in html
    stats = re.findall(r'<span class="stat-value"[^>]*>([^<]*)</span><span class="stat-label">([^<]*)<', html)
    assert [label for _value, label in stats] == ["Đã nhận hôm nay", "Giao dịch đang chờ trong hộp đối soát",
                                                 "Thay đổi nơi nhận tiền (tài khoản nhận, khóa API, webhook) trong "
                                                 "14 ngày qua", "Thông báo gần đây", "Di tích", "Bảng QR tại di tích",
                                                 "Tài khoản cán bộ"]
    assert dict((label, value) for value, label in stats)["Thông báo gần đây"] == "2"  # A's two, not B's
    assert dict((label, value) for value, label in stats)["Tài khoản cán bộ"] == "2"


def test_an_officer_sees_every_tile_but_the_admins_ones(client, communes):
    login(client, "officer@a.vn")
    html = client.get("/c/xa-a/desk").get_data(as_text=True)
    assert "/c/xa-a/staff" not in links(html) and 'data-testid="staff-link"' not in html
    assert "/c/xa-a/onestop/" in links(html)


def test_a_tile_registered_by_a_domain_appears_for_its_roles_read_in_the_commune(app, client, communes,
                                                                               a_domain_tile):
    login(client, "admin@a.vn")
    html = client.get("/c/xa-a/desk").get_data(as_text=True)
    assert figure(html, "made-up-count") == "2"
    assert 'data-testid="made-up-chart"' in html and "Made-up chart" in html
    assert links(html).index("/c/xa-a/notices/") < links(html).index("/c/xa-a/market/")
    assert 'data-testid="made-up-link"' in html
    officer = app.test_client()
    login(officer, "officer@a.vn")  # the tile is for commune admins
    assert "made-up" not in officer.get("/c/xa-a/desk").get_data(as_text=True)
    district_admin = app.test_client()
    login(district_admin, "district@gialam.vn")  # district admins see every tile, of the commune they open
    district = district_admin.get("/c/xa-b/desk").get_data(as_text=True)
    assert figure(district, "made-up-count") == "1"


def test_a_removed_tile_is_gone(client, communes, a_domain_tile):
    tiles.remove("made_up")
    login(client, "admin@a.vn")
    assert "made-up" not in client.get("/c/xa-a/desk").get_data(as_text=True)


def test_the_home_page_shows_the_domains_links_and_sections(client, communes, a_domain_tile):
    html = client.get("/c/xa-a/").get_data(as_text=True)
    hero = html.split('<p class="actions">', 1)[1].split("</p>", 1)[0]
    assert re.findall(r'href="([^"]+)"', hero) == [
        "/c/xa-a/notices/", "/c/xa-a/onestop/procedures", "/c/xa-a/onestop/submit", "/c/xa-a/onestop/lookup",
        "/c/xa-a/onestop/figures", "/c/xa-a/heritage/"]
    notices = html.split("<h2>Thông báo</h2>", 1)[1]
    assert "Một" in notices and "Hai" in notices and "Ba" not in notices

