"""The transaction boundary (app/transactions.py): a request commits what its view did when it succeeds, leaves
nothing when it fails, and runs again, once more and applying once, after a deadlock."""

from __future__ import annotations

import threading

import pytest
from flask import abort, flash, get_flashed_messages, request
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from app import create_app, transactions
from app.errors import DomainError, back_to
from app.extensions import db
from tenants.models import Tenant
from tenants.notices.models import Notice
from tenants.scoping import tenant_context
from tests.conftest import _test_settings


class _FakeDeadlock(Exception):
    sqlstate = "40P01"


def _deadlock() -> OperationalError:
    return OperationalError("SELECT 1", {}, _FakeDeadlock("deadlock detected"))


@pytest.fixture(scope="module")
def boundary_app(database):
    """An app of its own with routes that write a notice and then succeed, fail or deadlock."""
    app = create_app({**_test_settings(database["app_url"]), "WTF_CSRF_ENABLED": False})
    calls: dict[str, int] = {}
    barrier = threading.Barrier(2, timeout=10)

    def add_notice(title: str) -> None:
        tenant_id = int(request.args["tenant"])
        with tenant_context(tenant_id):
            db.session.add(Notice(title=title, body="", published=True))
            db.session.flush()

    @app.route("/_t/ok", methods=["POST"])
    def ok():
        add_notice("ok")
        return "done"

    @app.route("/_t/refused", methods=["POST"])
    @back_to("main.index")
    def refused():
        add_notice("refused")
        raise DomainError("Not like that.")

    @app.route("/_t/refused-plain", methods=["POST"])
    def refused_plain():
        add_notice("refused")
        raise DomainError("Not like that.")

    @app.route("/_t/form-error", methods=["POST"])
    def form_error():
        add_notice("form")
        return "the form again, with its errors", 400

    @app.route("/_t/not-found", methods=["POST"])
    def not_found():
        add_notice("404")
        abort(404)

    @app.route("/_t/crash", methods=["POST"])
    def crash():
        add_notice("crash")
        raise RuntimeError("a bug")

    @app.route("/_t/deadlock-once", methods=["POST"])
    def deadlock_once():
        calls["deadlock-once"] = calls.get("deadlock-once", 0) + 1
        flash("flashed once")
        upload = request.files["file"].read()
        add_notice(upload.decode())
        if calls["deadlock-once"] == 1:
            raise _deadlock()
        return "done"

    @app.route("/_t/deadlock-always", methods=["POST"])
    def deadlock_always():
        add_notice("never")
        raise _deadlock()

    @app.route("/_t/flashes")
    def flashes():
        return "|".join(get_flashed_messages())

    @app.route("/_t/lock/<int:first>/<int:second>", methods=["POST"])
    def lock_two(first: int, second: int):
        """Lock two communes' rows in the order given; the first attempt waits for the other request in between,
        so two requests that take them in opposite orders deadlock (PostgreSQL)."""
        key = f"lock-{first}-{second}"
        calls[key] = calls.get(key, 0) + 1
        db.session.execute(select(Tenant.id).where(Tenant.id == first).with_for_update())
        if calls[key] == 1:
            barrier.wait()
        db.session.execute(select(Tenant.id).where(Tenant.id == second).with_for_update())
        add_notice(key)
        return str(calls[key])

    app.config["_calls"] = calls
    return app


@pytest.fixture
def tenant(make):
    return make.tenant("bat-trang")


def _notices(app, tenant) -> list[str]:
    with app.app_context(), tenant_context(tenant):
        return list(db.session.scalars(select(Notice.title).order_by(Notice.id)))


def test_a_successful_request_commits_what_its_view_flushed(boundary_app, tenant):
    response = boundary_app.test_client().post(f"/_t/ok?tenant={tenant.id}")
    assert response.status_code == 200
    assert _notices(boundary_app, tenant) == ["ok"]


def test_a_domain_error_leaves_nothing_and_goes_back_with_the_message(boundary_app, tenant):
    client = boundary_app.test_client()
    response = client.post(f"/_t/refused?tenant={tenant.id}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/_t/flashes").get_data(as_text=True) == "Not like that."
    assert _notices(boundary_app, tenant) == []


def test_a_domain_error_goes_back_to_the_referring_page_of_this_site_only(boundary_app, tenant):
    client = boundary_app.test_client()
    back = client.post(f"/_t/refused-plain?tenant={tenant.id}", headers={"Referer": "http://localhost/c/x/?a=1"})
    assert back.status_code == 302 and back.headers["Location"] == "/c/x/?a=1"
    elsewhere = client.post(f"/_t/refused-plain?tenant={tenant.id}", headers={"Referer": "http://evil.test/"})
    assert elsewhere.status_code == 400
    assert "Not like that." in elsewhere.get_data(as_text=True)
    assert _notices(boundary_app, tenant) == []


def test_an_answer_of_400_or_more_rolls_back(boundary_app, tenant):
    client = boundary_app.test_client()
    assert client.post(f"/_t/form-error?tenant={tenant.id}").status_code == 400
    assert client.post(f"/_t/not-found?tenant={tenant.id}").status_code == 404
    assert _notices(boundary_app, tenant) == []


def test_an_exception_leaves_nothing(boundary_app, tenant):
    boundary_app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        response = boundary_app.test_client().post(f"/_t/crash?tenant={tenant.id}")
    finally:
        boundary_app.config["PROPAGATE_EXCEPTIONS"] = None
    assert response.status_code == 500
    assert _notices(boundary_app, tenant) == []


def test_a_retry_after_a_deadlock_applies_once(boundary_app, tenant):
    """The view runs twice; what the first run wrote, flashed and read is undone or rewound before the second."""
    import io

    boundary_app.config["_calls"].pop("deadlock-once", None)
    client = boundary_app.test_client()
    response = client.post(f"/_t/deadlock-once?tenant={tenant.id}", data={"file": (io.BytesIO(b"uploaded"), "a.txt")},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    assert boundary_app.config["_calls"]["deadlock-once"] == 2
    assert _notices(boundary_app, tenant) == ["uploaded"]
    assert client.get("/_t/flashes").get_data(as_text=True) == "flashed once"


def test_a_request_that_always_deadlocks_answers_503_with_retry_after(boundary_app, tenant):
    response = boundary_app.test_client().post(f"/_t/deadlock-always?tenant={tenant.id}")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert _notices(boundary_app, tenant) == []


def test_run_commits_work_and_its_after_commit_callbacks_see_it(app, tenant):
    seen = []

    def work():
        with tenant_context(tenant):
            db.session.add(Notice(title="job", body="", published=True))
            db.session.flush()
            transactions.after_commit(lambda: seen.append("after"))
        return "result"

    with app.app_context():
        assert transactions.run(work) == "result"
    assert seen == ["after"]
    assert _notices(app, tenant) == ["job"]


def test_run_rolls_back_and_forgets_after_commit_callbacks_on_failure(app, tenant):
    seen = []

    def work():
        with tenant_context(tenant):
            db.session.add(Notice(title="job", body="", published=True))
            db.session.flush()
            transactions.after_commit(lambda: seen.append("after"))
        raise DomainError("no")

    with app.app_context():
        with pytest.raises(DomainError):
            transactions.run(work)
        transactions.run(lambda: None)  # a later unit of work does not run the forgotten callback
    assert seen == []
    assert _notices(app, tenant) == []


def test_run_retries_a_deadlocked_job_and_applies_it_once(app, tenant):
    runs = []

    def work():
        runs.append(1)
        with tenant_context(tenant):
            db.session.add(Notice(title=f"run {len(runs)}", body="", published=True))
            db.session.flush()
        if len(runs) == 1:
            raise _deadlock()

    with app.app_context():
        transactions.run(work)
    assert len(runs) == 2
    assert _notices(app, tenant) == ["run 2"]


def test_two_requests_that_deadlock_on_postgresql_both_apply_once(boundary_app, make, postgres):
    """A real deadlock: each request locks two rows in the opposite order of the other. PostgreSQL aborts one;
    the boundary runs it again, and each request's notice is written exactly once."""
    one, two = make.tenant("one"), make.tenant("two")
    calls = boundary_app.config["_calls"]
    results: dict[str, int] = {}

    def post(path, name):
        response = boundary_app.test_client().post(f"{path}?tenant={one.id}")
        results[name] = response.status_code

    threads = [threading.Thread(target=post, args=(f"/_t/lock/{one.id}/{two.id}", "a")),
               threading.Thread(target=post, args=(f"/_t/lock/{two.id}/{one.id}", "b"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == {"a": 200, "b": 200}
    assert calls[f"lock-{one.id}-{two.id}"] + calls[f"lock-{two.id}-{one.id}"] == 3  # one of them ran twice
    assert sorted(_notices(boundary_app, one)) == sorted([f"lock-{one.id}-{two.id}", f"lock-{two.id}-{one.id}"])
