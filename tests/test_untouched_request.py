"""A request that read and wrote nothing does not begin a transaction only to commit it (issue #17); every other
request commits as before, and the after-commit callbacks run either way."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app import create_app, transactions
from app.extensions import db
from tenants.models import Tenant
from tenants.notices.models import Notice
from tenants.scoping import tenant_context
from tests.conftest import _test_settings


@pytest.fixture(scope="module")
def quiet_app(database):
    app = create_app({**_test_settings(database["app_url"]), "WTF_CSRF_ENABLED": False})
    ran: list[str] = []

    @app.route("/_q/nothing")
    def nothing():
        transactions.after_commit(lambda: ran.append("nothing"))
        return "ok"

    @app.route("/_q/read/<int:tenant_id>")
    def read(tenant_id):
        with tenant_context(tenant_id):
            db.session.scalars(select(Notice.id)).all()
        transactions.after_commit(lambda: ran.append("read"))
        return "ok"

    @app.route("/_q/add", methods=["POST"])
    def add():
        db.session.add(Tenant(slug="xa-pending", name="Pending", kind="xã", code="99999", district_name="Gia Lâm",
                              district_code="018", province_name="Hà Nội", status="active"))
        return "ok"

    app.config["_ran"] = ran
    return app


@pytest.fixture
def commits():
    seen: list[str] = []

    def begun(session, transaction, connection):
        seen.append("begin")

    def committed(session):
        seen.append("commit")

    event.listen(Session, "after_begin", begun)
    event.listen(Session, "after_commit", committed)
    yield seen
    event.remove(Session, "after_begin", begun)
    event.remove(Session, "after_commit", committed)


def test_a_request_that_touches_nothing_begins_nothing_and_its_callbacks_run(quiet_app, commits):
    quiet_app.config["_ran"].clear()
    assert quiet_app.test_client().get("/_q/nothing").status_code == 200
    assert commits == []
    assert quiet_app.config["_ran"] == ["nothing"]


def test_a_request_that_reads_commits(quiet_app, make, commits):
    tenant = make.tenant("xa-a")
    quiet_app.config["_ran"].clear()
    assert quiet_app.test_client().get(f"/_q/read/{tenant.id}").status_code == 200
    assert "commit" in commits and quiet_app.config["_ran"] == ["read"]


def test_a_change_left_pending_by_the_view_is_committed(quiet_app):
    assert quiet_app.test_client().post("/_q/add").status_code == 200  # added, never flushed by the view
    with quiet_app.app_context():
        assert db.session.scalars(select(Tenant.slug)).all() == ["xa-pending"]
