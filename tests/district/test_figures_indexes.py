"""The district's figures are read from indexes that hold every column their statements use (issue #17): PostgreSQL
then answers a period from the index alone (an index-only scan) instead of fetching each of the period's rows from
the table. Since #18 every figures statement groups by where a record came from (``origin_tenant_id``); the indexes
of 0014_district did not carry it until 0036_district, and nothing said so. This test would have."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Column, event
from sqlalchemy.orm import Session
from sqlalchemy.sql import visitors

from app.district import figures
from app.extensions import db

# table -> the index the period's rows are read from (migrations 0014_district, 0036_district)
FIGURES_INDEXES = {
    "onestop_dossiers": "ix_onestop_dossiers_received_figures",
    "market_sales": "ix_market_sales_paid_figures",
    "payment_intents": "ix_payment_intents_succeeded_at",
    "sub_orders": "ix_sub_orders_created_figures",
    "products": "ix_products_published_tenant_vendor",
}


def _statements(app) -> list:
    """The statements every registered provider runs for a period and for the monthly trend."""
    seen = []

    def keep(state):
        seen.append(state.statement)

    with app.test_request_context("/"):
        event.listen(Session, "do_orm_execute", keep)
        try:
            for provider in figures.providers():
                provider.compute(date(2026, 1, 1), date(2026, 3, 31))
                if provider.monthly is not None:
                    provider.monthly(date(2026, 1, 1), date(2026, 3, 31))
        finally:
            event.remove(Session, "do_orm_execute", keep)
            db.session.rollback()
    return seen


def _columns_used(statement, table: str) -> set[str]:
    return {element.name for element in visitors.iterate(statement, {"column_collections": True})
            if isinstance(element, Column) and getattr(element.table, "name", None) == table}


def test_every_column_the_figures_read_is_in_their_index(app):
    statements = _statements(app)
    for table_name, index_name in FIGURES_INDEXES.items():
        table = db.metadata.tables[table_name]
        index = next(i for i in table.indexes if i.name == index_name)
        held = {c.name for c in index.columns} | set(index.dialect_options["postgresql"]["include"] or ())
        where = index.dialect_options["postgresql"]["where"]
        held |= {c.name for c in table.columns if where is not None and c.name in str(where)}
        used = set().union(*(_columns_used(s, table_name) for s in statements))
        assert used, f"no figures statement reads {table_name}"
        assert used <= held, f"{index_name} lacks {sorted(used - held)}"
