"""The response cache of public pages (app/cache.py): served from memory to visitors without a session, fresh as
soon as what the page shows changes, never one visitor's page to another."""

from __future__ import annotations

from sqlalchemy import update

from app.cache import FileStamp
from app.extensions import db
from tenants.models import Tenant
from tests.conftest import count_queries, data_statements, login, post_form


def _cache(app):
    return app.extensions["response_cache"]


def _get(app, client, path, **kwargs):
    """(response, SQL statements it ran, whether it was a cache hit)."""
    cache = _cache(app)
    hits = cache.hits
    with count_queries(app) as statements:
        response = client.get(path, **kwargs)
    return response, data_statements(statements), cache.hits == hits + 1


def test_an_anonymous_page_is_served_from_the_cache_without_a_query(app, client, make):
    make.tenant("bat-trang", "Bát Tràng")
    for path in ("/", "/c/bat-trang/", "/api/communes"):
        first, first_sql, first_hit = _get(app, client, path)
        again, again_sql, again_hit = _get(app, client, path)
        assert first.status_code == again.status_code == 200
        assert not first_hit and first_sql, path
        assert again_hit and again_sql == [], path
        assert again.get_data() == first.get_data()
        assert again.headers["Content-Type"] == first.headers["Content-Type"]
        assert again.headers["X-Frame-Options"] == "DENY"  # the headers are the stored ones


def test_a_new_notice_shows_at_once_on_the_cached_commune_page(app, client, make):
    tenant = make.tenant("bat-trang", "Bát Tràng")
    make.notice(tenant, "Lịch tiếp dân tháng 12")
    assert "Lịch tiếp dân tháng 12" in client.get("/c/bat-trang/").get_data(as_text=True)
    assert _get(app, client, "/c/bat-trang/")[2]  # cached now
    make.notice(tenant, "Cắt điện ngày 5/12")
    response, _sql, hit = _get(app, client, "/c/bat-trang/")
    assert not hit
    assert "Cắt điện ngày 5/12" in response.get_data(as_text=True)


def test_a_notice_published_through_the_staff_page_shows_at_once(app, client, make):
    tenant = make.tenant("bat-trang", "Bát Tràng")
    make.user("officer@bt.vn", "officer", tenant)
    visitor = app.test_client()
    assert "Họp dân thôn 3" not in visitor.get("/c/bat-trang/").get_data(as_text=True)
    assert _get(app, visitor, "/c/bat-trang/")[2]
    login(client, "officer@bt.vn")
    response = post_form(client, "/c/bat-trang/notices/new", {"title": "Họp dân thôn 3", "body": "19h", "published": "y"},
                         token_from="/c/bat-trang/notices/new")
    assert response.status_code in (302, 303)
    assert "Họp dân thôn 3" in visitor.get("/c/bat-trang/").get_data(as_text=True)


def test_a_renamed_commune_shows_at_once_on_every_cached_page(app, client, make):
    tenant = make.tenant("bat-trang", "Bát Tràng")
    for path in ("/", "/c/bat-trang/", "/api/communes"):
        client.get(path)
        assert _get(app, client, path)[2]
    with app.app_context():  # an ORM change of one object
        db.session.get(Tenant, tenant.id).name = "Bát Tràng Mới"
        db.session.commit()
    for path in ("/", "/c/bat-trang/", "/api/communes"):
        assert "Bát Tràng Mới" in client.get(path).get_data(as_text=True), path
    with app.app_context():  # a bulk UPDATE statement, no object loaded
        db.session.execute(update(Tenant).where(Tenant.id == tenant.id).values(name="Bát Tràng Cổ"))
        db.session.commit()
    assert "Bát Tràng Cổ" in client.get("/").get_data(as_text=True)
    assert client.get("/api/communes").get_json()[0]["name"] == "Bát Tràng Cổ"


def test_a_write_to_an_unwatched_table_keeps_the_cache(app, client, make):
    make.tenant("bat-trang", "Bát Tràng")
    client.get("/")
    make.user("someone@x.vn")
    assert _get(app, client, "/")[2]


def test_a_signed_in_users_page_is_never_served_to_a_visitor_and_the_reverse(app, client, make):
    tenant = make.tenant("bat-trang", "Bát Tràng")
    make.user("officer@bt.vn", "officer", tenant)
    login(client, "officer@bt.vn")
    signed_in, _sql, hit = _get(app, client, "/")
    assert not hit and 'data-testid="logout"' in signed_in.get_data(as_text=True)
    assert not _get(app, client, "/")[2]  # a signed-in user always reaches Flask

    visitor = app.test_client()
    anonymous = visitor.get("/").get_data(as_text=True)
    assert 'data-testid="logout"' not in anonymous and 'data-testid="login-link"' in anonymous
    assert _get(app, visitor, "/")[2]
    again, _sql, hit = _get(app, client, "/")  # the visitor's cached page is not the signed-in user's
    assert not hit and 'data-testid="logout"' in again.get_data(as_text=True)


def test_a_waiting_flash_message_bypasses_the_cache(app, client, make):
    make.tenant("bat-trang", "Bát Tràng")
    client.get("/")
    assert _get(app, client, "/")[2]
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "Bạn đã đăng xuất.")]
    response, _sql, hit = _get(app, client, "/")
    assert not hit
    assert "Bạn đã đăng xuất." in response.get_data(as_text=True)
    assert "Bạn đã đăng xuất." not in client.get("/").get_data(as_text=True)  # shown once, as always


def test_a_visitor_holding_a_csrf_token_is_never_served_or_stored(app, client, make):
    """A page rendering a form for a visitor with a session would carry that visitor's CSRF token: such a session
    bypasses the cache, so the token can never be stored and shown to someone else."""
    make.tenant("bat-trang", "Bát Tràng")
    client.get("/login")  # the login form puts a CSRF token in the session
    with client.session_transaction() as session:
        assert "csrf_token" in session
    client.get("/")
    assert not _get(app, client, "/")[2]
    assert _cache(app).store.entries == {}


def test_remember_cookie_authorization_and_forged_sessions_bypass_the_cache(app, client, make):
    make.tenant("bat-trang", "Bát Tràng")
    client.get("/api/communes")
    assert _get(app, client, "/api/communes")[2]
    assert not _get(app, client, "/api/communes", headers={"Authorization": "Bearer sk_test_x"})[2]
    other = app.test_client()
    other.set_cookie("remember_token", "1|abc")
    assert not _get(app, other, "/api/communes")[2]
    forged = app.test_client()
    forged.set_cookie("session", "not-a-signed-session")
    assert not _get(app, forged, "/api/communes")[2]


def test_the_language_is_part_of_the_key(app, client, make):
    make.tenant("bat-trang", "Bát Tràng")
    vietnamese = client.get("/").get_data(as_text=True)
    english = client.get("/?lang=en").get_data(as_text=True)
    assert 'lang="vi"' in vietnamese and 'lang="en"' in english
    assert 'lang="en"' in client.get("/?lang=en").get_data(as_text=True)
    chooser = app.test_client()
    chooser.get("/lang/en")  # the language kept in the session: still a visitor without a user
    for _ in range(2):  # Flask-Login marks the session once (Set-Cookie: not stored), then it stays as it is
        assert 'lang="en"' in chooser.get("/").get_data(as_text=True)
    response, _sql, hit = _get(app, chooser, "/")
    assert hit and 'lang="en"' in response.get_data(as_text=True)
    assert 'lang="vi"' in app.test_client().get("/").get_data(as_text=True)


def test_pages_that_did_not_opt_in_and_errors_are_not_cached(app, client, make):
    make.tenant("bat-trang", "Bát Tràng")
    for path in ("/login", "/c/nowhere/", "/healthz"):
        client.get(path)
        assert not _get(app, client, path)[2], path


def test_the_cache_can_be_switched_off(app, client, make):
    make.tenant("bat-trang", "Bát Tràng")
    cache = _cache(app)
    cache.enabled = False
    try:
        client.get("/")
        assert not _get(app, client, "/")[2]
    finally:
        cache.enabled = True


def test_the_file_stamp_is_shared_by_the_processes_of_one_machine(tmp_path):
    one, other = FileStamp(tmp_path / "stamp"), FileStamp(tmp_path / "stamp")
    tables = ("notices", "tenants")
    before = one.current(tables)
    assert other.current(tables) == before
    other.bump(("notices",))
    after = one.current(tables)
    assert after[0] != before[0] and after[1] == before[1]  # one table's generation moved, not the other's
    assert one.current(tables) == other.current(tables)


def test_a_write_to_one_table_keeps_the_pages_that_do_not_show_it(app, client, make):
    """A notice makes the commune's page stale, not the landing page; a renamed commune makes both stale."""
    tenant = make.tenant("bat-trang", "Bát Tràng")
    client.get("/")
    client.get("/c/bat-trang/")
    make.notice(tenant, "Lịch tiếp dân tháng 12")
    assert _get(app, client, "/")[2]
    assert not _get(app, client, "/c/bat-trang/")[2]
    with app.app_context():
        db.session.execute(update(Tenant).where(Tenant.id == tenant.id).values(name="Bát Tràng Mới"))
        db.session.commit()
    landing, _sql, hit = _get(app, client, "/")
    assert not hit and "Bát Tràng Mới" in landing.get_data(as_text=True)
    assert not _get(app, client, "/c/bat-trang/")[2]


def test_an_unwritable_stamp_file_means_no_cache_not_a_crash(tmp_path):
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    stamp = FileStamp(blocked / "stamp")  # its folder cannot be created
    assert stamp.current(("tenants",)) != stamp.current(("tenants",))  # never the same twice: nothing can match
