"""The header on one line on a 360 px phone, for every role (#19): the account's links (password, language, sign out)
sit in a ``<details>`` menu that the keyboard opens and closes; one "desk" entry per person."""

from __future__ import annotations

import pytest

from tests.e2e.axe import assert_accessible
from tests.e2e.test_security_journeys import sign_in
from tests.marketplace.helpers import make_vendor as marketplace_vendor
from tests.marketplace.helpers import make_vendor_user
from tests.tenants.market.helpers import make_vendor

pytestmark = pytest.mark.e2e
PHONE = {"width": 360, "height": 740}

ONE_LINE = """() => {
  const bar = document.querySelector('header.topbar');
  const style = getComputedStyle(bar);
  const items = [bar.querySelector('.brand'), ...bar.querySelectorAll('.topnav > *')]
    .filter(el => el.getClientRects().length);
  const tallest = Math.max(...items.map(el => el.getBoundingClientRect().height));
  const tops = items.map(el => Math.round(el.getBoundingClientRect().top + el.getBoundingClientRect().height / 2));
  return {height: bar.getBoundingClientRect().height,
          line: tallest + parseFloat(style.paddingTop) + parseFloat(style.paddingBottom),
          middles: tops, right: Math.max(...items.map(el => el.getBoundingClientRect().right)),
          scroll: document.scrollingElement.scrollWidth};
}"""


def assert_one_line(page) -> None:
    got = page.evaluate(ONE_LINE)
    assert got["height"] <= got["line"] + 1, got  # no second row
    assert max(got["middles"]) - min(got["middles"]) <= 2, got  # every item on the same line
    assert got["right"] <= PHONE["width"] and got["scroll"] <= PHONE["width"], got  # and nothing pushed off screen


@pytest.fixture
def people(app, make):
    """A town with the longest kind of name, and a person of each signed-in role: {role: email}."""
    town = make.tenant("trau-quy", "Trâu Quỳ", kind="thị trấn")
    make.user("officer@trau-quy.vn", "officer", town, name="Nguyễn Văn Cán Bộ")
    vendor = make_vendor(app, town)
    shop = marketplace_vendor(app, town, "Gốm Trâu Quỳ")
    make_vendor_user(app, town, shop, "producer@trau-quy.vn")
    return town, {"vendor": vendor.email, "producer": "producer@trau-quy.vn", "officer": "officer@trau-quy.vn"}


@pytest.mark.parametrize("role", ["vendor", "producer", "officer", "shopper"])
def test_the_header_is_one_line_at_360_px(browser_page, people, role):
    town, emails = people
    page = browser_page
    page.set_viewport_size(PHONE)
    if role == "shopper":
        page.goto(f"/c/{town.slug}/")  # a commune's page: its name is in the header too
    else:
        sign_in(page, emails[role])
        page.wait_for_url(lambda url: "/login" not in url)
        desks = page.locator("[data-testid=my-desk], [data-testid=my-shop]")
        assert desks.count() == 1  # one way to one's own pages
    page.screenshot(path=f"/tmp/e2e_header_360_{role}.png")
    assert_one_line(page)
    assert_accessible(page, context="header.topbar")
    assert page.js_errors == []


def test_the_account_menu_opens_and_closes_by_keyboard(browser_page, people):
    _town, emails = people
    page = browser_page
    page.set_viewport_size(PHONE)
    sign_in(page, emails["vendor"])
    page.wait_for_url(lambda url: "/login" not in url)
    logout = page.get_by_test_id("logout")
    assert not logout.is_visible()  # folded away: the header stays one line
    toggle = page.get_by_test_id("account-menu-toggle")
    toggle.focus()
    page.keyboard.press("Enter")
    assert logout.is_visible() and page.get_by_test_id("lang-en").is_visible()
    assert page.get_by_test_id("account-menu").evaluate("d => d.open")
    box = page.get_by_test_id("account-menu-panel").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box  # the open menu fits the screen
    page.screenshot(path="/tmp/e2e_header_360_menu_open.png")
    assert_accessible(page, context="header.topbar")
    page.keyboard.press("Escape")  # closes, and the focus goes back to the toggle
    assert not logout.is_visible()
    assert page.evaluate("document.activeElement.dataset.testid") == "account-menu-toggle"
    page.keyboard.press("Space")
    page.get_by_test_id("logout").click()
    page.wait_for_url("**/")
    assert page.get_by_test_id("login-link").is_visible()
    assert page.js_errors == []


@pytest.mark.parametrize("width", [480, 720, 800, 1024, 1366])
def test_the_header_stays_one_line_between_a_phone_and_a_desktop(browser_page, people, width):
    """A tablet or a half-screen window: the officer's longest labels still fit on one line, nothing off screen."""
    town, emails = people
    page = browser_page
    page.set_viewport_size({"width": width, "height": 800})
    sign_in(page, emails["officer"])
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(f"/c/{town.slug}/")
    got = page.evaluate(ONE_LINE)
    assert got["height"] <= got["line"] + 1, got
    assert max(got["middles"]) - min(got["middles"]) <= 2, got
    assert got["right"] <= width and got["scroll"] <= width, got
