"""A commune page sends PostgreSQL's set_config once (issue #17): a transaction that begins with no tenant active
writes nothing, because it starts with neither setting; that must never let it see a tenant's rows. PostgreSQL
only (the application role under row-level security)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from app import _normalise_database_url
from tenants.notices.models import Notice
from tenants.scoping import tenant_context
from tests.conftest import count_queries

pytestmark = pytest.mark.usefixtures("postgres")


@pytest.fixture
def communes(make):
    a, b = make.tenant("xa-a"), make.tenant("xa-b")
    make.notice(a, "A1")
    make.notice(b, "B1")
    return a, b


@pytest.mark.parametrize("path", ["/c/xa-a/", "/c/xa-a/onestop/lookup", "/c/xa-a/onestop/figures"])
def test_a_commune_page_sends_set_config_once(app, client, communes, path):
    app.extensions["response_cache"].clear()
    with count_queries(app) as statements:
        response = client.get(path)
    assert response.status_code in (200, 404), path
    sent = [s for s in statements if "set_config" in s]
    assert len(sent) == (0 if path.endswith("/lookup") else 1), sent  # the blank look-up form reads nothing


def test_a_transaction_begun_with_no_tenant_sees_no_tenant_rows_after_one_that_had_a_tenant(app, database, communes):
    """On one connection (a pool of one, so the second transaction surely reuses it): after a transaction that had a
    tenant, one begun with none writes no set_config and sees no tenant-owned row."""
    a, _b = communes
    engine = create_engine(_normalise_database_url(database["app_url"]), poolclass=StaticPool)
    try:
        with app.app_context(), Session(engine) as session:
            with tenant_context(a):
                assert session.scalar(select(func.count()).select_from(Notice)) == 1
                session.commit()
            with count_statements(engine) as sent:
                assert session.execute(text("SELECT count(*) FROM notices")).scalar() == 0
                assert session.execute(text("SELECT NULLIF(current_setting('app.tenant_id', true), '')")).scalar() is None
                assert session.execute(text("SELECT current_setting('app.all_tenants', true)")).scalar() in (None, "")
            assert not [s for s in sent if "set_config" in s]
            session.rollback()
            with tenant_context(a):  # the tenant becomes known within a transaction: set then
                assert session.scalar(select(func.count()).select_from(Notice)) == 1
                assert session.execute(text("SELECT count(*) FROM notices")).scalar() == 1
            session.rollback()
    finally:
        engine.dispose()


@contextmanager
def count_statements(engine):
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)
