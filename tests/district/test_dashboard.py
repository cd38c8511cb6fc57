"""The district dashboard, its CSV and the public metrics JSON: every commune side by side from the registered
providers, totals that are the sums, a score computed only from the rates that exist, aggregate queries only."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import update

from app.district import figures
from app.extensions import db
from app.payments.accounts import create_account
from app.payments.models import PaymentIntent
from tenants.scoping import tenant_context
from tests.conftest import count_queries, data_statements, login
from tests.payments.helpers import create_intent

PERIOD = "from=2026-11-01&to=2026-11-30"


def _paid(app, tenant, amount: int, at: datetime, number: str) -> None:
    with app.app_context(), tenant_context(tenant):
        account = create_account("Phí", "970415", number, "UBND")
        intent = create_intent(account, amount)
        db.session.execute(update(PaymentIntent).where(PaymentIntent.id == intent.id).values(
            status="succeeded", amount_received=amount, succeeded_at=at))
        db.session.commit()


@pytest.fixture
def widgets():
    """A test domain: hand-made counts per commune (by slug), recording the periods it was asked for."""
    state = {"by_slug": {}, "ids": {}, "calls": []}

    def district_figures(start, end):
        state["calls"].append((start, end))
        return {state["ids"][slug]: values for slug, values in state["by_slug"].items()}

    figures.register("widgets", district_figures, ("widgets", "widgets_ok"))
    yield state
    figures.unregister("widgets")


@pytest.fixture
def communes(app, make, widgets):
    a = make.tenant("bat-trang", "Bát Tràng")
    b = make.tenant("kieu-ky", "Kiêu Kỵ")
    c = make.tenant("da-ton", "Đa Tốn")
    make.tenant("dong-du", "Đông Dư", status="inactive")
    widgets["ids"] = {"bat-trang": a.id, "kieu-ky": b.id, "da-ton": c.id}
    widgets["by_slug"] = {"bat-trang": {"widgets": 7, "widgets_ok": 5}, "kieu-ky": {"widgets": 3, "widgets_ok": 3}}
    _paid(app, a, 150_000, datetime(2026, 11, 10, 3, 0, tzinfo=timezone.utc), "1001")
    _paid(app, a, 50_000, datetime(2026, 11, 30, 16, 59, tzinfo=timezone.utc), "1002")  # 23:59 on 30/11 in Hà Nội
    _paid(app, b, 1_000_000, datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc), "1003")
    _paid(app, b, 9_000_000, datetime(2026, 11, 30, 17, 0, tzinfo=timezone.utc), "1004")  # 00:00 on 1/12: outside
    _paid(app, c, 4_000_000, datetime(2026, 10, 31, 16, 59, tzinfo=timezone.utc), "1005")  # 23:59 on 31/10: outside
    return a, b, c


def test_the_public_totals_are_the_sums_of_the_communes(client, communes, widgets):
    response = client.get(f"/api/district/metrics?{PERIOD}")
    assert response.status_code == 200
    data = response.get_json()
    assert (data["from"], data["to"]) == ("2026-11-01", "2026-11-30")
    by_slug = {c["slug"]: c for c in data["communes"]}
    assert sorted(by_slug) == ["bat-trang", "da-ton", "kieu-ky"]  # active communes only
    assert by_slug["bat-trang"]["money_received"] == 200_000 and by_slug["bat-trang"]["payments"] == 2
    assert by_slug["kieu-ky"]["money_received"] == 1_000_000 and by_slug["kieu-ky"]["payments"] == 1
    assert by_slug["da-ton"]["money_received"] == 0 and by_slug["da-ton"]["widgets"] == 0  # no row: zero
    assert {k: data["totals"][k] for k in ("money_received", "payments", "widgets", "widgets_ok")} == {
        "money_received": 1_200_000, "payments": 3, "widgets": 10, "widgets_ok": 8}
    assert not any(data["totals"][k] for k in figures.ONESTOP_KEYS + figures.MARKET_KEYS)  # no dossier, no sale
    for key, total in data["totals"].items():
        assert total == sum(c[key] for c in data["communes"]), key
    assert widgets["calls"] == [(date(2026, 11, 1), date(2026, 11, 30))]
    assert not any(k in by_slug["bat-trang"] for k in ("email", "password_hash", "phone"))


def test_a_provider_that_is_not_registered_is_absent_not_zero(client, communes, widgets):
    figures.unregister("widgets")
    data = client.get(f"/api/district/metrics?{PERIOD}").get_json()
    assert "widgets" not in data["totals"]
    assert all("widgets" not in c for c in data["communes"])
    assert data["totals"]["money_received"] == 1_200_000


@pytest.mark.parametrize("query", [
    "from=2026-13-01&to=2026-12-31", "from=2026-02-30", "from=abc", "to=2026-1-5", "from=20261101",
    "from=2026-12-01&to=2026-11-01", "from=2020-01-01&to=2026-11-30", "from=%00", "to=2026-11-30T00:00",
])
def test_bad_dates_are_a_400_everywhere(app, client, make, query):
    make.user("district@gialam.demo", "district_admin")
    response = client.get(f"/api/district/metrics?{query}")
    assert response.status_code == 400 and response.is_json
    assert response.get_json()["error"]["message"]
    login(client, "district@gialam.demo")
    assert client.get(f"/district/?{query}").status_code == 400
    assert client.get(f"/district/metrics.csv?{query}").status_code == 400


def test_the_period_defaults_to_the_last_30_days(client, make):
    from app.district.queries import today

    data = client.get("/api/district/metrics").get_json()
    assert data["to"] == today().isoformat()
    assert (date.fromisoformat(data["to"]) - date.fromisoformat(data["from"])).days == 29


def test_the_dashboard_shows_every_commune_ranked_with_the_formula(app, client, make, communes):
    make.user("district@gialam.demo", "district_admin")
    login(client, "district@gialam.demo")
    html = client.get(f"/district/?{PERIOD}&lang=en").get_data(as_text=True)
    for slug in ("bat-trang", "kieu-ky", "da-ton"):
        assert f'data-testid="figures-{slug}"' in html
        assert f'href="/c/{slug}/desk"' in html  # drill-down
    assert "dong-du" not in html.split('data-testid="district-figures"')[1].split("</table>")[0]
    assert 'data-testid="score-formula"' in html and "Σ" in html
    total_row = html.split('data-testid="figures-total"')[1].split("</tr>")[0]
    assert "1.200.000 ₫" in total_row and ">10<" in total_row
    assert 'data-testid="district-chart"' in html and "1.000.000 ₫" in html
    assert 'data-testid="trend-money_received"' in html
    # the column chart's value axis: its top line is labelled with the highest month's value (#19)
    assert 'data-testid="trend-money_received-max">4.000.000 ₫<' in html  # October, Đa Tốn's


def test_the_csv_has_one_row_per_commune_and_the_totals(app, client, make, communes):
    make.user("district@gialam.demo", "district_admin")
    login(client, "district@gialam.demo")
    response = client.get(f"/district/metrics.csv?{PERIOD}&lang=en")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    header, body, total = rows[0], rows[1:-1], rows[-1]
    assert [r[1] for r in body] == ["bat-trang", "kieu-ky", "da-ton"]  # in the order of their codes
    money = header.index("Money received")
    assert sorted(int(r[money]) for r in body) == [0, 200_000, 1_000_000]
    assert int(total[money]) == 1_200_000
    assert int(total[header.index("Payments")]) == 3


def test_the_dashboard_and_csv_are_for_district_admins_only(app, client, make):
    tenant = make.tenant("bat-trang", "Bát Tràng")
    make.user("admin@bt.vn", "commune_admin", tenant)
    assert client.get("/district/metrics.csv").status_code == 302
    login(client, "admin@bt.vn")
    assert client.get("/district/").status_code == 403
    assert client.get("/district/metrics.csv").status_code == 403


def _count(app, client, path):
    with count_queries(app) as statements:
        response = client.get(path)
    assert response.status_code == 200
    return len(data_statements(statements))


def test_the_query_count_does_not_grow_with_the_number_of_communes(app, client, make, communes, widgets):
    make.user("district@gialam.demo", "district_admin")
    login(client, "district@gialam.demo")
    paths = (f"/district/?{PERIOD}", f"/district/metrics.csv?{PERIOD}", f"/api/district/metrics?{PERIOD}")
    few = [_count(app, client, p) for p in paths]
    for n in range(10):
        tenant = make.tenant(f"xa-{n}", f"Xã {n}")
        widgets["ids"][tenant.slug] = tenant.id
        widgets["by_slug"][tenant.slug] = {"widgets": n, "widgets_ok": n}
        _paid(app, tenant, 10_000 * (n + 1), datetime(2026, 11, 15, 3, 0, tzinfo=timezone.utc), f"20{n:02d}")
    many = [_count(app, client, p) for p in paths]
    assert many == few


# --- the score -------------------------------------------------------------------------------------------------

def test_the_score_uses_only_the_rates_that_exist():
    only_market = {"vendors": 10, "vendors_with_bank_account": 5, "sales": 4, "qr_sales": 4}
    result = figures.score(only_market)
    assert result.rates["bank_accounts"] == 0.5 and result.rates["qr_share"] == 1.0
    assert result.rates["on_time"] is None  # the one-stop provider is absent: not a zero
    assert result.value == 75.0  # (10 x 0.5 + 10 x 1.0) / 20
    assert figures.score({}).value is None
    assert figures.score({"received": 0, "on_time": 0}).value is None  # a zero denominator is no rate


def test_satisfaction_is_the_complement_of_the_unsatisfied_share():
    result = figures.score({"ratings_total": 20, "ratings_unsatisfied": 5})
    assert result.rates["satisfaction"] == 0.75 and result.value == 75.0


def test_the_weights_add_up_to_100_and_keys_cannot_collide():
    assert sum(c.weight for c in figures.COMPONENTS) == 100
    with pytest.raises(ValueError):
        figures.register("impostor", lambda start, end: {}, ("money_received",))


def test_a_commune_with_nothing_to_score_is_not_ranked(app, client, make, widgets):
    a = make.tenant("bat-trang", "Bát Tràng")
    make.tenant("kieu-ky", "Kiêu Kỵ")
    market = {p.name: p for p in figures.providers()}["market"]
    figures.register("market", lambda start, end: {a.id: {"vendors": 4, "vendors_with_bank_account": 1}},
                     ("vendors", "vendors_with_bank_account"))  # in place of the real market's provider
    try:
        data = client.get(f"/api/district/metrics?{PERIOD}").get_json()
    finally:
        figures.register(market.name, market.compute, market.keys, market.monthly)
    by_slug = {c["slug"]: c for c in data["communes"]}
    assert by_slug["bat-trang"]["score"] == 25.0 and by_slug["bat-trang"]["rank"] == 1
    assert by_slug["kieu-ky"]["score"] is None and by_slug["kieu-ky"]["rank"] is None


def test_with_many_communes_the_bar_charts_show_the_first_40_and_the_table_all(app, client, make):
    from app.district.views import CHART_BARS

    make.user("district@gialam.demo", "district_admin")
    for n in range(CHART_BARS + 2):
        make.tenant(f"xa-{n:02d}", f"Xã {n:02d}")
    login(client, "district@gialam.demo")
    html = client.get("/district/").get_data(as_text=True)
    assert 'data-testid="charts-capped"' in html
    chart = html.split('data-testid="district-chart"')[1].split("</figure>")[0]
    assert chart.count("<rect") == CHART_BARS
    table = html.split('data-testid="district-figures"')[1].split("</table>")[0]
    assert table.count('data-testid="figures-xa-') == CHART_BARS + 2


def test_beyond_a_district_the_tables_show_one_page_with_a_search_and_the_csv_every_commune(
        app, client, make, widgets, monkeypatch):
    from app.district import views

    monkeypatch.setattr(views, "TABLE_ALL_UP_TO", 5)
    monkeypatch.setattr(views, "TABLE_PAGE", 4)
    make.user("district@gialam.demo", "district_admin")
    for n in range(9):
        tenant = make.tenant(f"xa-{n:02d}", f"Xã {n:02d}")
        widgets["ids"][tenant.slug] = tenant.id
        widgets["by_slug"][tenant.slug] = {"widgets": n + 1, "widgets_ok": n + 1}
    login(client, "district@gialam.demo")

    def rows(html, testid):
        return html.split(f'data-testid="{testid}"')[1].split("</table>")[0].count("<tr data-testid=\"figures-xa-")

    html = client.get(f"/district/?{PERIOD}").get_data(as_text=True)
    assert 'data-testid="commune-search"' in html and 'data-testid="figures-pager"' in html
    assert rows(html, "district-figures") == 4
    assert 'rel="next"' in html.split('data-testid="figures-pager"')[1].split("</nav>")[0]
    total = html.split('data-testid="figures-total"')[1].split("</tr>")[0]
    assert ">45<" in total  # 1 + ... + 9: the totals are the whole district's, not the page's
    last = client.get(f"/district/?{PERIOD}&page=3").get_data(as_text=True)
    assert rows(last, "district-figures") == 1
    found = client.get(f"/district/?{PERIOD}&q=XA+07").get_data(as_text=True)  # folded: "Xã 07"
    assert rows(found, "district-figures") == 1 and 'data-testid="figures-xa-07"' in found
    units = found.split('data-testid="units-pager"')[0].rsplit("<table", 1)[1]
    assert "Xã 07" in units and "Xã 08" not in units
    csv_rows = list(csv.reader(io.StringIO(client.get(f"/district/metrics.csv?{PERIOD}").get_data(as_text=True))))
    assert len(csv_rows) == 1 + 9 + 1  # header, every commune, the totals


def test_the_query_count_does_not_grow_with_the_number_of_communes_when_paged(app, client, make, widgets,
                                                                             monkeypatch):
    from app.district import views

    monkeypatch.setattr(views, "TABLE_ALL_UP_TO", 2)
    monkeypatch.setattr(views, "TABLE_PAGE", 2)
    make.user("district@gialam.demo", "district_admin")
    login(client, "district@gialam.demo")
    for n in range(3):
        make.tenant(f"xa-{n}", f"Xã {n}")
    paths = (f"/district/?{PERIOD}", f"/district/?{PERIOD}&page=2&q=xa")
    few = [_count(app, client, p) for p in paths]
    for n in range(3, 15):
        make.tenant(f"xa-{n}", f"Xã {n}")
    assert [_count(app, client, p) for p in paths] == few


def test_the_monthly_trend_counts_each_payment_in_its_vietnamese_month(app, make, widgets):
    from app.district import queries

    a, b = make.tenant("bat-trang", "Bát Tràng"), make.tenant("kieu-ky", "Kiêu Kỵ")
    _paid(app, a, 100_000, datetime(2026, 10, 31, 16, 59, tzinfo=timezone.utc), "3001")  # 23:59 on 31/10 in Hà Nội
    _paid(app, b, 200_000, datetime(2026, 10, 31, 17, 0, tzinfo=timezone.utc), "3002")  # 00:00 on 1/11
    _paid(app, a, 400_000, datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc), "3003")
    _paid(app, b, 800_000, datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc), "3004")  # after the end
    widgets["ids"] = {"bat-trang": a.id, "kieu-ky": b.id}
    widgets["by_slug"] = {"bat-trang": {"widgets": 2, "widgets_ok": 1}}
    with app.app_context():
        trend = dict(queries.monthly_trend([a.id, b.id], date(2026, 11, 30), months=3))
    assert list(trend) == [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)]
    assert [trend[m]["money_received"] for m in trend] == [0, 100_000, 600_000]
    assert [trend[m]["payments"] for m in trend] == [0, 1, 2]
    # A provider without a monthly function is asked month by month (the test one answers the same each time).
    assert [trend[m]["widgets"] for m in trend] == [2, 2, 2]
    assert widgets["calls"] == [(date(2026, 9, 1), date(2026, 9, 30)), (date(2026, 10, 1), date(2026, 10, 31)),
                                (date(2026, 11, 1), date(2026, 11, 30))]
    with app.app_context():  # only the communes asked for
        assert dict(queries.monthly_trend([a.id], date(2026, 11, 30), months=1))[date(2026, 11, 1)][
            "money_received"] == 400_000


def test_the_trend_is_kept_for_district_trend_seconds_then_computed_again(app, make, monkeypatch):
    """A year of every commune's records is seconds of work at national scale: the dashboard's trend is kept per
    worker for DISTRICT_TREND_SECONDS (0 in tests: every change at once), then computed again."""
    from app.district import queries

    monkeypatch.setitem(app.config, "DISTRICT_TREND_SECONDS", 600)
    with app.app_context():  # ids are reused by the tests: nothing kept from another test's communes
        queries.kept_trends().clear()
    a = make.tenant("bat-trang", "Bát Tràng")
    _paid(app, a, 100_000, datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc), "3001")
    clock = [1_000.0]
    monkeypatch.setattr(queries.time, "monotonic", lambda: clock[0])

    def november():
        with app.app_context(), count_queries(app) as statements:
            trend = dict(queries.monthly_trend([a.id], date(2026, 11, 30), months=1))
        return trend[date(2026, 11, 1)]["money_received"], len(data_statements(statements))

    assert november()[0] == 100_000
    _paid(app, a, 50_000, datetime(2026, 11, 21, 3, 0, tzinfo=timezone.utc), "3002")
    clock[0] += 599
    assert november() == (100_000, 0)  # kept: no query at all
    clock[0] += 2
    assert november()[0] == 150_000  # computed again after ten minutes
    with app.app_context():
        queries.kept_trends().clear()


def test_a_domain_names_its_figures_and_says_which_are_money(app, client, make):
    """A domain registered with its own labels and money keys: the CSV names them, the dashboard shows đồng."""
    a = make.tenant("bat-trang", "Bát Tràng")
    figures.register("gadgets", lambda start, end: {a.id: {"gadgets": 3, "gadget_value": 1_250_000}},
                     ("gadgets", "gadget_value"), labels={"gadgets": "Gadgets", "gadget_value": "Gadgets' value"},
                     money=("gadget_value",))
    try:
        make.user("district@gialam.demo", "district_admin")
        login(client, "district@gialam.demo")
        header = next(csv.reader(io.StringIO(client.get(f"/district/metrics.csv?{PERIOD}").get_data(as_text=True))))
        assert header[-2:] == ["Gadgets", "Gadgets' value"]
        assert "1.250.000 ₫" in client.get(f"/district/?{PERIOD}").get_data(as_text=True)
    finally:
        figures.unregister("gadgets")


def test_the_table_shows_each_communes_rates_and_sorts_by_any_column(app, client, make, widgets):
    """#19: rates beside the counts; every heading a link that sorts (a keyboard reaches links), aria-sort on it."""
    a, b = make.tenant("bat-trang", "Bát Tràng"), make.tenant("kieu-ky", "Kiêu Kỵ")
    make.user("district@gialam.demo", "district_admin")
    market = {p.name: p for p in figures.providers()}["market"]
    figures.register("market", lambda start, end: {a.id: {"vendors": 4, "vendors_with_bank_account": 1},
                                                   b.id: {"vendors": 2, "vendors_with_bank_account": 2}},
                     ("vendors", "vendors_with_bank_account"))
    login(client, "district@gialam.demo")
    try:
        def order(query: str) -> list[str]:
            html = client.get(f"/district/?{PERIOD}&{query}").get_data(as_text=True)
            table = html.split('data-testid="district-figures"')[1].split("</table>")[0]
            return sorted(("bat-trang", "kieu-ky"), key=lambda slug: table.index(f'figures-{slug}"')), table

        rows, table = order("sort=rate.bank_accounts&dir=desc")
        assert rows == ["kieu-ky", "bat-trang"]
        assert 'aria-sort="descending"' in table and table.count("aria-sort") == 1
        assert 'data-testid="rate-bank_accounts">25,0 %<' in table and 'rate-bank_accounts">100,0 %<' in table
        assert 'data-testid="rate-on_time">–<' in table  # no dossiers: no rate, not 0 %
        assert order("sort=rate.bank_accounts&dir=asc")[0] == ["bat-trang", "kieu-ky"]
        assert order("sort=unit&dir=desc")[0] == ["kieu-ky", "bat-trang"]
        rows, table = order("sort=nonsense")  # unknown: the ranking, ascending
        assert rows == ["kieu-ky", "bat-trang"] and 'aria-sort="ascending"' in table
        assert 'href="/district/?from=2026-11-01&amp;to=2026-11-30&amp;sort=unit&amp;dir=asc&amp;page=1"' in table
    finally:
        figures.register(market.name, market.compute, market.keys, market.monthly)


@pytest.mark.parametrize("query", ["", "from=2026-11-01&to=2026-11-30&q=b%C3%A1t&page=2", "sort=unit&dir=desc&x=a+b",
                                   "sort=rate.on_time&dir=asc&page=3&units_page=2"])
def test_the_sort_links_are_those_url_for_builds(app, query):
    """#17: the headings' links are built once with placeholders, not with url_for per heading: the same addresses,
    whatever the query string already holds (a sort, a page, a search, an unknown argument)."""
    from flask import url_for

    from app.district.views import _sort_headings

    columns = [("rank", "Rank", "desc"), ("unit", "Unit", "asc"), ("rate.on_time", "On time", "desc"),
               ("received", "Received", "desc")]
    with app.test_request_context(f"/district/?{query}"):
        from flask import request

        for sort in ("rank", "unit", "rate.on_time", "received"):
            for descending in (False, True):
                for heading, (column, _label, first) in zip(_sort_headings(columns, sort, descending), columns,
                                                            strict=True):
                    current = sort == column
                    next_dir = ("asc" if descending else "desc") if current else first
                    assert heading.href == url_for("district.index", **dict(request.args, sort=column,
                                                                            dir=next_dir, page=1))
                    assert heading.current == current and heading.descending == (descending and current)
