"""Commune admins edit their procedures and office hours; officers cannot; the queue costs a fixed number of queries."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from tenants.onestop import queries
from tenants.onestop.models import DayOff, OfficeSchedule, Procedure
from tenants.scoping import tenant_context
from tests.conftest import count_queries, csrf_token, data_statements, field_error, login
from tests.tenants.onestop.conftest import counter_dossier, procedure, vn


def post(client, path, data):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/account/password")})


def test_a_commune_admin_edits_the_procedures(app, client, make, commune):
    make.user("admin@battrang.vn", "commune_admin", commune)
    login(client, "admin@battrang.vn")
    response = post(client, "/c/bat-trang/onestop/settings/procedures", {
        "name": "Đăng ký khai sinh", "sector": "Hộ tịch", "time_unit": "hours", "time_amount": "2",
        "fee": "0", "online": "on", "active": "on"})
    assert response.status_code == 302
    bad = post(client, "/c/bat-trang/onestop/settings/procedures", {"name": "", "sector": "Hộ tịch", "time_amount": "x"})
    assert bad.status_code == 400
    with app.app_context(), tenant_context(commune):
        [proc] = db.session.scalars(select(Procedure)).all()
        assert (proc.name, proc.time_unit, proc.time_amount, proc.fee, proc.online) == (
            "Đăng ký khai sinh", "hours", 2, 0, True)
    post(client, f"/c/bat-trang/onestop/settings/procedures/{proc.id}", {
        "name": "Đăng ký khai sinh", "sector": "Hộ tịch", "time_unit": "days", "time_amount": "1", "fee": "8.000",
        "active": "on"})
    with app.app_context(), tenant_context(commune):
        proc = db.session.scalar(select(Procedure))
        assert (proc.time_unit, proc.fee, proc.online) == ("days", 8_000, False)


def test_officers_and_other_communes_cannot_edit_the_procedures(client, make, commune, officer):
    login(client, "officer@battrang.vn")
    assert client.get("/c/bat-trang/onestop/settings/procedures").status_code == 404
    assert client.get("/c/bat-trang/onestop/settings/hours").status_code == 404
    other = make.tenant("kieu-ky")
    make.user("admin@kieuky.vn", "commune_admin", other)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account/password")})
    login(client, "admin@kieuky.vn")
    assert client.get("/c/bat-trang/onestop/settings/procedures").status_code == 404


def test_office_hours_and_days_off_change_due_times(app, client, make, commune, officer):
    make.user("admin@battrang.vn", "commune_admin", commune)
    login(client, "admin@battrang.vn")
    post(client, "/c/bat-trang/onestop/settings/hours", {"morning_start": "08:00", "morning_end": "12:00",
                                                 "afternoon_start": "13:00", "afternoon_end": "17:00",
                                                 "weekdays": ["0", "1", "2", "3", "4", "5"],
                                                 "same_day_cutoff": "15:30"})
    post(client, "/c/bat-trang/onestop/settings/hours", {"form": "day_off", "day": "2026-03-09", "reason": "Lễ hội làng"})
    refused = post(client, "/c/bat-trang/onestop/settings/hours", {"morning_start": "12:00", "morning_end": "08:00",
                                                           "afternoon_start": "13:00", "afternoon_end": "17:00",
                                                           "weekdays": ["0"], "same_day_cutoff": "15:00"})
    assert refused.status_code == 400  # shown at its field, with what was typed
    assert field_error(refused, "morning_start") == "Buổi sáng phải kết thúc trước khi buổi chiều bắt đầu, " \
                                                     "mỗi buổi kết thúc sau khi bắt đầu."
    assert 'value="12:00"' in refused.get_data(as_text=True)
    with app.app_context(), tenant_context(commune):
        row = db.session.scalar(select(OfficeSchedule))
        assert (row.morning_start, row.weekdays, row.same_day_cutoff) == ("08:00", "0,1,2,3,4,5", "15:30")
        assert db.session.scalar(select(DayOff.reason)) == "Lễ hội làng"
        # Friday 16:00 + 1 working day: Saturday is worked here, Monday 9 March is the village festival
        d = counter_dossier(officer, procedure(time_unit="hours", time_amount=2), vn(2026, 3, 6, 16, 0))
        assert d.due_at == vn(2026, 3, 7, 9, 0)
        d2 = counter_dossier(officer, procedure(time_unit="days", time_amount=1), vn(2026, 3, 7, 10, 0))
        assert d2.due_at == vn(2026, 3, 10, 10, 0)
        db.session.rollback()


def test_the_queue_costs_the_same_queries_for_2_or_20_dossiers(app, client, commune, officer):
    def queue_queries(n):
        with app.app_context(), tenant_context(commune):
            proc = procedure()
            for i in range(n):
                counter_dossier(officer, proc, vn(2026, 3, 2, 8, i))
            db.session.commit()
        client.get("/c/bat-trang/onestop/")
        with count_queries(app) as statements:
            assert client.get("/c/bat-trang/onestop/").status_code == 200
        return len(data_statements(statements))

    login(client, "officer@battrang.vn")
    few = queue_queries(2)
    assert queue_queries(18) == few
    with app.app_context(), tenant_context(commune):
        assert len(queries.work_queue(vn(2026, 3, 2, 9, 0))) == 20


def test_the_procedure_form_shows_its_refusals_at_their_fields_and_edits_what_is_saved(app, client, make, commune):
    make.user("admin@battrang.vn", "commune_admin", commune)
    login(client, "admin@battrang.vn")
    good = {"name": "Đăng ký khai sinh", "sector": "Hộ tịch", "time_unit": "days", "time_amount": "3", "fee": "0"}
    for change, name, message in [
        ({"name": ""}, "name", "Enter the procedure's name (300 characters at most)."),
        ({"time_amount": "ba"}, "time_amount", "Enter a whole number of at least 0."),
        ({"fee": "-5"}, "fee", "Enter a whole number of at least 0."),
        ({"time_unit": "weeks"}, "time_unit", "The time is counted in working days or working hours."),
        ({"time_amount": "0"}, "time_amount", "Enter the processing time, or mark the procedure same-day."),
    ]:
        response = post(client, "/c/bat-trang/onestop/settings/procedures?lang=en", {**good, **change})
        assert response.status_code == 400 and field_error(response, name) == message, name
    with app.app_context(), tenant_context(commune):
        assert db.session.scalar(select(Procedure)) is None
        proc_id = procedure(name="Chứng thực chữ ký", online=False, fee=10_000).id
        db.session.commit()
    page = client.get(f"/c/bat-trang/onestop/settings/procedures/{proc_id}").get_data(as_text=True)
    assert 'value="Chứng thực chữ ký"' in page and 'value="10000"' in page
    assert re.search(r'<input(?=[^>]*name="active")(?=[^>]*checked)[^>]*>', page)
    assert not re.search(r'<input(?=[^>]*name="online")(?=[^>]*checked)[^>]*>', page)


def test_a_day_off_without_a_date_is_shown_at_its_field(app, client, make, commune):
    make.user("admin@battrang.vn", "commune_admin", commune)
    login(client, "admin@battrang.vn")
    response = post(client, "/c/bat-trang/onestop/settings/hours?lang=en", {"form": "day_off", "day": "ngày mai"})
    assert response.status_code == 400 and field_error(response, "day") == "Enter a date."
    page = client.get("/c/bat-trang/onestop/settings/hours").get_data(as_text=True)
    assert re.search(r'<input(?=[^>]*name="weekdays")(?=[^>]*value="4")(?=[^>]*checked)[^>]*>', page)  # Friday
    assert not re.search(r'<input(?=[^>]*name="weekdays")(?=[^>]*value="6")(?=[^>]*checked)[^>]*>', page)
    with app.app_context(), tenant_context(commune):
        assert db.session.scalar(select(DayOff)) is None
