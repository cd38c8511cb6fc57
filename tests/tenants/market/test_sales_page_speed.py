"""The vendor's sales page does less work per request (issue #17) and shows the same: its ledger lines read as
columns equal the ORM objects, "paid today" taken from the filter's own per-day totals equals its own query, and the
page is the same as with the straightforward computations."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.extensions import db
from tenants.market import queries
from tenants.market.models import MarketSale
from tenants.scoping import all_tenants, tenant_context
from tests.tenants.market.test_sales import sell, tenant, vendor  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("bank_secrets")

BASE = "/c/trau-quy/market/me/sales"


@pytest.fixture
def sales(app, client, vendor):  # noqa: F811
    for amount, method in (("150.000", "qr"), ("20.000", "cash"), ("35.000", "cash"), ("41.000", "cash"),
                           ("60.000", "qr")):
        sell(client, amount, method=method)
    with app.app_context(), all_tenants():  # one cash sale a week ago, one yesterday: other days of the ledger
        ids = list(db.session.scalars(select(MarketSale.id).where(MarketSale.vendor_id == vendor.id,
                                                                  MarketSale.method == "cash").order_by(MarketSale.id)))
        for sale_id, days in zip(ids, (7, 1), strict=False):
            sale = db.session.get(MarketSale, sale_id)
            db.session.execute(update(MarketSale).where(MarketSale.id == sale_id).values(
                created_at=sale.created_at - timedelta(days=days), paid_at=sale.paid_at - timedelta(days=days)))
        db.session.commit()
    return vendor


def _filters():
    today = queries.today()
    month_ago = today - timedelta(days=29)
    for start, end in ((month_ago, today), (today, today), (today - timedelta(days=3), today - timedelta(days=1)),
                       (today - timedelta(days=1), today + timedelta(days=2))):
        for method in (None, "qr", "cash"):
            for status in (None, "paid", "pending"):
                yield queries.LedgerFilter(start, end, method, status)


def test_paid_today_from_the_per_day_totals_equals_its_own_query(app, sales):
    with app.app_context(), tenant_context(sales.tenant_id):
        day = queries.today()
        alone = queries.ledger_totals(sales.id, queries.LedgerFilter(day, day))[0]
        assert alone.sales == 1  # the QR sales are pending; two of the three cash sales moved to other days
        for f in _filters():
            _total, per_day, _months = queries.ledger_totals(sales.id, f)
            assert queries.day_totals(sales.id, day, f, per_day) == alone, f
            assert queries.day_totals(sales.id, day - timedelta(days=1), f, per_day) == queries.ledger_totals(
                sales.id, queries.LedgerFilter(day - timedelta(days=1), day - timedelta(days=1)))[0], f


def test_the_ledger_totals_of_the_statement_built_once_equal_one_built_for_the_values(app, sales):
    with app.app_context(), tenant_context(sales.tenant_id):
        for f in _filters():
            where = [MarketSale.vendor_id == sales.id, queries._paid_between(f.start, f.end)]
            if f.method:
                where.append(MarketSale.method == f.method)
            day = queries._local_day(MarketSale.paid_at)
            rows = db.session.execute(select(day, *queries._totals_columns()).where(*where).group_by(day)
                                      .order_by(day)).all()
            per_day = [(queries._as_date(d), queries.Totals(*map(int, rest))) for d, *rest in rows]
            total, got, _months = queries.ledger_totals(sales.id, f)
            if f.status not in (None, "paid"):
                assert (total, got) == (queries.Totals(), []), f
                continue
            assert got == per_day, f
            assert total.amount == sum(t.amount for _d, t in per_day), f
        assert queries.ledger_totals(sales.id, queries.LedgerFilter.from_args({}))[0].sales == 3  # the cash ones


def test_the_ledger_lines_read_as_columns_equal_the_orm_objects(app, sales):
    with app.app_context(), tenant_context(sales.tenant_id):
        for f in _filters():
            for page, per_page in ((1, 50), (1, 2), (2, 2), (3, 2)):
                lines = queries.ledger(sales.id, f, page, per_page)
                objects = list(db.session.scalars(
                    queries._ledger_query(sales.id, f).order_by(MarketSale.created_at.desc(), MarketSale.id.desc())
                    .limit(per_page).offset((page - 1) * per_page)))
                assert [tuple(getattr(line, c) for c in queries.LEDGER_COLUMNS) for line in lines] == [
                    tuple(getattr(o, c) for c in queries.LEDGER_COLUMNS) for o in objects], (f, page)
        assert len(queries.ledger(sales.id, queries.LedgerFilter.from_args({}))) == 5


def _page(client, query="") -> str:
    html = client.get(BASE + query).get_data(as_text=True)
    return re.sub(r'name="csrf_token"( type="hidden")? value="[^"]+"', "TOKEN", html)


@pytest.mark.parametrize("query", ["", "?method=qr", "?status=pending", "?method=cash&status=paid",
                                   "?start=2020-01-01&end=2020-01-31"])
def test_the_page_equals_the_straightforward_one(app, client, sales, monkeypatch, query):
    client.get(BASE)  # consumes the last sale's flash
    fast = _page(client, query)

    def straightforward_ledger(vendor_id, f, page=1, per_page=queries.LEDGER_PAGE):
        query = queries._ledger_query(vendor_id, f).order_by(MarketSale.created_at.desc(), MarketSale.id.desc())
        return list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)))

    monkeypatch.setattr(queries, "ledger", straightforward_ledger)
    monkeypatch.setattr(queries, "day_totals", lambda vendor_id, day, f=None, per_day=None: queries.ledger_totals(
        vendor_id, queries.LedgerFilter(day, day))[0])
    slow = _page(client, query)
    assert fast == slow
    # each sale's link, built from one url_for, is the one url_for builds for it
    ids = re.findall(r'href="/c/trau-quy/market/me/sales/(\d+)"', fast)
    with app.test_request_context():
        from flask import url_for

        assert all(f'href="{url_for("market.sale", tenant_slug="trau-quy", sale_id=i)}"' in fast for i in ids)
    if not query:
        assert len(ids) == 5 and 'data-testid="today-amount">' in fast


def test_the_default_page_reads_paid_today_without_a_statement_of_its_own(app, client, sales):
    from tests.conftest import count_queries, data_statements

    client.get(BASE)
    with count_queries(app) as default:
        client.get(BASE)
    with count_queries(app) as narrowed:  # a method: "paid today" (every method) needs its own statement
        client.get(BASE + "?method=qr")
    assert len(data_statements(narrowed)) == len(data_statements(default)) + 1
