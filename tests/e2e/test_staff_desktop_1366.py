"""Staff pages on a 1366x768 desktop (#19): the officer's control sheet fits the screen (no page scrolling
sideways), and a table that still has to scroll is reached by the keyboard; the district chart's labels stay the
size of the body text at 1366 and 1920 px."""

from __future__ import annotations

import pytest

from app.extensions import db
from tenants.onestop import services
from tenants.scoping import tenant_context
from tests.e2e.axe import assert_accessible
from tests.e2e.test_security_journeys import sign_in
from tests.tenants.onestop.conftest import counter_dossier, procedure, vn

pytestmark = pytest.mark.e2e
DESKTOP = {"width": 1366, "height": 768}
LONG_ITEMS = ("Bản sao có chứng thực Giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài sản khác gắn liền "
              "với đất; Giấy xác nhận tình trạng hôn nhân; Sơ đồ vị trí thửa đất có xác nhận của trưởng thôn")

PAGE_FITS = "() => document.scrollingElement.scrollWidth <= window.innerWidth"


def tab_reaches(page, selector: str, presses: int = 80) -> bool:
    """Whether pressing Tab from the top of the page puts the focus on the element ``selector`` names."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement === document.querySelector(s)", selector):
            return True
    return False


@pytest.fixture
def dossier_pages(app, make):
    """An officer, and a dossier whose control sheet has long steps (documents asked for, a long name): its two
    pages."""
    commune = make.tenant("bat-trang", "Bát Tràng")
    officer = make.user("officer@battrang.vn", "officer", commune,
                        name="Nguyễn Thị Phương Thảo Hoàng Minh Khuê Trần Ngọc Bích")
    with app.app_context(), tenant_context(commune):
        proc = procedure(name="Cấp giấy phép xây dựng nhà ở riêng lẻ tại nông thôn thuộc khu vực có quy hoạch")
        dossier = counter_dossier(officer, proc, vn(2026, 11, 30, 9, 0))
        services.request_documents(dossier, db.session.merge(officer), LONG_ITEMS, now=vn(2026, 11, 30, 10, 0))
        db.session.commit()
        dossier_id = dossier.id
    prefix = f"/c/{commune.slug}/onestop/d/{dossier_id}"
    return [f"{prefix}/sheet", prefix]


def test_the_control_sheet_fits_1366_px_and_its_table_is_reached_by_keyboard(browser_page, dossier_pages):
    page = browser_page
    page.set_viewport_size(DESKTOP)
    sign_in(page, "officer@battrang.vn")
    page.wait_for_url(lambda url: "/login" not in url)
    for url in dossier_pages:
        page.goto(url)
        page.screenshot(path=f"/tmp/e2e_control_sheet_1366_{url.rsplit('/', 1)[-1]}.png", full_page=True)
        assert page.evaluate(PAGE_FITS), url  # no sideways scrolling of the page
        sheet = page.get_by_test_id("control-sheet")
        assert LONG_ITEMS[:40] in sheet.inner_text()
        wrap = "[data-testid=control-sheet-wrap]"
        box = page.locator(wrap).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= DESKTOP["width"], box
        if page.locator(wrap).evaluate("w => w.scrollWidth > w.clientWidth"):  # scrolls: the keyboard gets there
            assert tab_reaches(page, wrap), url
        for cell in sheet.locator("td").all():  # every cell of the sheet is on the screen
            cell_box = cell.bounding_box()
            assert cell_box["x"] + cell_box["width"] <= box["x"] + box["width"] + 1, (url, cell.inner_text())
        assert_accessible(page)
    assert page.js_errors == []


def test_a_scrolling_table_on_the_control_sheet_is_reached_by_keyboard(browser_page, dossier_pages):
    """A window narrower than the sheet (a zoomed desktop): the sheet's box scrolls and Tab reaches it."""
    page = browser_page
    page.set_viewport_size({"width": 800, "height": 768})
    sign_in(page, "officer@battrang.vn")
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(dossier_pages[0])
    page.get_by_test_id("control-sheet").evaluate("t => { t.style.minWidth = '1200px'; }")  # wider than the window
    page.evaluate("window.dispatchEvent(new Event('resize'))")
    page.wait_for_function("() => document.querySelector('[data-testid=control-sheet-wrap]').tabIndex === 0")
    assert page.evaluate(PAGE_FITS)
    assert tab_reaches(page, "[data-testid=control-sheet-wrap]")
    assert_accessible(page)


CHART_TEXT = """() => {
  const body = parseFloat(getComputedStyle(document.body).fontSize);
  return [...document.querySelectorAll('figure.chart svg text')].map(text => {
    const svg = text.ownerSVGElement;
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    return {cls: text.getAttribute('class'), text: text.textContent,
            ratio: parseFloat(getComputedStyle(text).fontSize) * scale / body};
  });
}"""


@pytest.mark.parametrize("width", [1366, 1920])
def test_the_district_charts_labels_stay_the_size_of_the_text_on_a_desktop(app, browser_page, make, width):
    """The SVG is drawn in 360 units and scales with its box: capped, its labels read at the body text's size (they
    used to grow with the page, to about three times it at 1920 px)."""
    make.tenant("bat-trang", name="Bát Tràng")
    make.tenant("kieu-ky", name="Kiêu Kỵ")
    make.user("district@gialam.demo", "district_admin")
    page = browser_page
    page.set_viewport_size({"width": width, "height": 1000})
    sign_in(page, "district@gialam.demo")
    page.wait_for_url("**/district/")
    assert page.get_by_test_id("district-chart").is_visible()
    texts = page.evaluate(CHART_TEXT)
    labels = [t for t in texts if t["cls"] in ("chart-label", "chart-value")]
    assert labels, texts
    for text in labels:  # a commune's name and its figure: the body text's size, give or take a little
        assert 0.85 <= text["ratio"] <= 1.2, text
    for text in texts:  # axis ticks are smaller, never larger
        assert 0.7 <= text["ratio"] <= 1.2, text
    assert page.evaluate(PAGE_FITS)
