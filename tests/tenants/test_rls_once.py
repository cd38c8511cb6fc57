"""A commune page sends PostgreSQL's set_config once (issue #17): a transaction that begins with no tenant active
writes nothing, because it starts with neither setting; that must never let it see a tenant's rows. PostgreSQL
only (the application role under row-level security)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from app.extensions import db
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


def test_a_transaction_begun_with_no_tenant_sees_no_tenant_rows_after_one_that_had_a_tenant(app, communes):
    a, _b = communes
    with app.app_context():
        with tenant_context(a):
            assert db.session.scalar(select(func.count()).select_from(Notice)) == 1
            connection = db.session.connection().connection.dbapi_connection
            db.session.commit()
        # the next transaction, no tenant active: same pooled connection, nothing written, nothing visible
        assert db.session.connection().connection.dbapi_connection is connection
        assert db.session.execute(text("SELECT count(*) FROM notices")).scalar() == 0
        assert db.session.execute(text("SELECT NULLIF(current_setting('app.tenant_id', true), '')")).scalar() is None
        assert db.session.execute(text("SELECT current_setting('app.all_tenants', true)")).scalar() in (None, "")
        db.session.rollback()
        with tenant_context(a):  # and the tenant becomes known within a transaction: set then
            assert db.session.scalar(select(func.count()).select_from(Notice)) == 1
            assert db.session.execute(text("SELECT count(*) FROM notices")).scalar() == 1
        db.session.rollback()
