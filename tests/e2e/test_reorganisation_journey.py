"""After a merger, in a phone-sized browser: the merged unit's admin signs in and lands on the successor's desk with
the notice; the district reads the unit's lineage; an old address opens the successor's page (issue #18)."""

from __future__ import annotations

import json

import pytest

from app import transactions
from tenants.lineage import apply_plan, parse_plan
from tests.conftest import TEST_PASSWORD
from tests.e2e.axe import assert_accessible

pytestmark = pytest.mark.e2e

PLAN = {"key": "e2e-2025", "effective_date": "2025-01-01", "legal_basis": "Nghị quyết 1286/NQ-UBTVQH15",
        "lines": [{"predecessor": "dong-du", "successor": "bat-trang", "whole": True}]}


def test_a_merged_units_admin_lands_on_the_successor_and_the_district_reads_the_lineage(app, browser_page, make):
    dong_du = make.tenant("dong-du", name="Đông Dư")
    make.tenant("bat-trang", name="Bát Tràng")
    make.user("admin.dong-du@gialam.demo", "commune_admin", dong_du)
    make.user("district@gialam.demo", "district_admin")
    with app.app_context():
        transactions.run(lambda: apply_plan(parse_plan(json.dumps(PLAN).encode())))
    page = browser_page

    page.goto("/c/dong-du/")  # a printed address of the merged unit
    assert page.url.endswith("/c/bat-trang/")

    page.goto("/login")
    page.get_by_test_id("email").fill("admin.dong-du@gialam.demo")
    page.get_by_test_id("password").fill(TEST_PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url("**/c/bat-trang/desk")
    assert "Xã Đông Dư" in page.locator(".stat", has=page.get_by_test_id("lineage-notice")).inner_text()
    assert_accessible(page)
    page.context.clear_cookies()

    page.goto("/login")
    page.get_by_test_id("email").fill("district@gialam.demo")
    page.get_by_test_id("password").fill(TEST_PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url("**/district/")
    page.goto("/district/units/bat-trang/lineage")
    before = page.get_by_test_id("lineage-before").inner_text()
    assert "Xã Đông Dư" in before and "1286/NQ-UBTVQH15" in before and "01/01/2025" in before
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(page)
