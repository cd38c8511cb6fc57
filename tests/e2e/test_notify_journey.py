"""Notifications in a browser (issue #20): a citizen submits a dossier online choosing SMS, the officer receives it,
the message appears on the local outbox page as it would arrive (unaccented, with the stop link), the citizen
follows the link on a phone and stops the messages; each page passes axe's WCAG 2.1 AA checks at 360 px."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from tenants.onestop import services, settings
from tenants.scoping import tenant_context
from tests.e2e.axe import assert_accessible

expect = pytest.importorskip("playwright.sync_api").expect
pytestmark = [pytest.mark.e2e]


def test_choose_sms_see_it_in_the_outbox_then_stop(app, browser_page, make):
    from app.notify.worker import deliver_due

    tenant = make.tenant("bat-trang", name="Bát Tràng")
    officer = make.user("officer.bat-trang@gialam.demo", "officer", tenant)
    with app.app_context(), tenant_context(tenant):
        settings.save_procedure(None, name="Cấp bản sao trích lục khai tử", sector="Hộ tịch", time_unit="days",
                                time_amount=3, same_day=False, fee=0, required_documents="Tờ khai", online=True)
        db.session.commit()
    page = browser_page
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto("/c/bat-trang/onestop/submit")
    select = page.locator("select[name=procedure_id]")
    select.select_option(select.locator("option").last.get_attribute("value"))
    page.get_by_test_id("applicant_name").fill("Nguyễn Văn An")
    page.get_by_test_id("applicant_id_number").fill("001090012345")
    page.get_by_test_id("applicant_phone").fill("0912345678")
    page.get_by_test_id("applicant_address").fill("Thôn 1, Bát Tràng")
    page.get_by_test_id("notify-sms").check()
    assert_accessible(page, context="[data-testid=notify-choice]")
    page.get_by_role("button", name=re.compile("Gửi")).click()
    page.wait_for_url(re.compile(r".*/onestop/lookup/.*"))

    with app.app_context(), tenant_context(tenant):
        dossier = db.session.scalars(db.select(services.Dossier)).one()
        services.receive(dossier, db.session.merge(officer))
        db.session.commit()
        deliver_due()

    page.goto("/dev/outbox")
    message = page.get_by_test_id("outbox-message").first
    expect(message).to_contain_text("84912345678")
    expect(message).to_contain_text("da duoc tiep nhan")
    assert_accessible(page)
    stop = re.search(r"https?://\S+/thong-bao/\S+", message.inner_text()).group(0)
    page.goto("/thong-bao/" + stop.rsplit("/thong-bao/", 1)[1])
    assert_accessible(page)
    page.get_by_test_id("channel-none").check()
    page.get_by_test_id("notify-save").click()
    expect(page.get_by_test_id("channel-none")).to_be_checked()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.js_errors == []
