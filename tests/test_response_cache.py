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


# ---------------------------------------------------------------------------------------------- issue #17
def test_a_hit_answers_what_flask_renders_body_and_headers(app, client, make):
    """The middleware's answer to a hit is the page Flask renders (the cache off), byte for byte, with the same
    headers (X-Cache aside)."""
    make.tenant("bat-trang", "Bát Tràng")
    cache = _cache(app)
    for path in ("/", "/c/bat-trang/", "/api/communes", "/api/products", "/marketplace/"):
        client.get(path)
        hit, _sql, was_hit = _get(app, client, path)
        assert was_hit, path
        cache.enabled = False
        try:
            rendered = client.get(path)
        finally:
            cache.enabled = True
        assert hit.get_data() == rendered.get_data(), path
        assert hit.status == rendered.status
        assert hit.headers.pop("X-Cache") == "HIT"
        # The marketplace's conditional answers carry a Date (werkzeug's make_conditional): the hit's is the time it
        # was rendered, the second render's is now; they differ whenever a second ends between the two requests.
        assert ("Date" in hit.headers) == ("Date" in rendered.headers), path
        hit.headers.pop("Date", None)
        rendered.headers.pop("Date", None)
        assert sorted(hit.headers.items()) == sorted(rendered.headers.items()), path


def test_the_catalogue_json_is_cached_without_a_query_and_a_stock_change_shows_at_once(app, client, make):
    from tests.marketplace.helpers import make_product, make_vendor

    tenant = make.tenant("bat-trang", "Bát Tràng")
    vendor = make_vendor(app, tenant)
    product = make_product(app, tenant, vendor, stock=7)
    first = client.get("/api/products").get_json()
    assert first["items"][0]["stock"] == 7
    assert _get(app, client, "/api/products")[2]
    assert _get(app, client, "/api/products?lang=en")[0].status_code == 200
    assert _get(app, client, "/api/products?lang=en")[2]  # the language is not a query
    for query in ("?per_page=24", "?q=gom", "?page=1", "?per_page="):  # searches and pages are rendered each time
        client.get("/api/products" + query)
        assert not _get(app, client, "/api/products" + query)[2], query
    from marketplace.models import Product
    from tenants.scoping import tenant_context

    with app.app_context(), tenant_context(tenant):
        db.session.execute(update(Product).where(Product.id == product).values(stock=3))
        db.session.commit()
    response, _sql, hit = _get(app, client, "/api/products")
    assert not hit and response.get_json()["items"][0]["stock"] == 3


def test_a_hit_needs_no_routing_and_no_stamp_round_trip_within_the_memo(app, make):
    """With the memo on, a hit reads the generations once per period for every table, not once per request, and
    does not ask the URL map."""
    from app.cache import MemoStamp, MemoryStamp

    make.tenant("bat-trang", "Bát Tràng")
    cache = _cache(app)
    reads = []

    class CountingStamp(MemoryStamp):
        def current(self, tables):
            reads.append(tables)
            return super().current(tables)

    now = [100.0]
    inner = CountingStamp()
    saved = cache.stamp
    cache.stamp = MemoStamp(inner, 1.0, clock=lambda: now[0])
    try:
        client = app.test_client()
        client.get("/c/bat-trang/")
        assert len(reads) == 1
        matched = []
        original = app.url_map.bind_to_environ
        app.url_map.bind_to_environ = lambda *a, **k: matched.append(1) or original(*a, **k)
        try:
            for _ in range(5):
                assert _get(app, client, "/c/bat-trang/")[2]
        finally:
            del app.url_map.bind_to_environ
        assert matched == [] and len(reads) == 1
        now[0] += 1.0  # the memo expired: one read of every watched table
        assert _get(app, client, "/c/bat-trang/")[2]
        assert len(reads) == 2 and "tenants" in reads[1] and len(reads[1]) > 1
    finally:
        cache.stamp = saved


def test_the_memo_bounds_what_another_process_writes_and_sees_its_own_writes_at_once():
    """Two servers sharing one stamp: a bump on one is seen by the other's memo after at most its period; a bump
    made through a memo is seen by that memo at once."""
    from app.cache import MemoStamp, MemoryStamp

    shared = MemoryStamp()
    now = [0.0]
    one = MemoStamp(shared, 0.5, clock=lambda: now[0])
    other = MemoStamp(shared, 0.5, clock=lambda: now[0])
    before = other.current(("notices", "tenants"))
    assert one.current(("notices", "tenants")) == before
    one.bump(("notices",))
    assert one.current(("notices", "tenants")) != before  # its own write: at once
    now[0] = 0.49
    assert other.current(("notices", "tenants")) == before  # within the bound: the old generation
    now[0] = 0.5
    fresh = other.current(("notices", "tenants"))
    assert fresh != before and fresh == one.current(("notices", "tenants"))  # at the bound: the new one


def test_the_generation_memo_is_on_in_production_and_off_in_tests(app):
    from app.cache import MemoStamp, RedisStamp, _memoised

    assert not isinstance(_cache(app).stamp, MemoStamp)  # tests see every write at once
    stamp = RedisStamp("redis://127.0.0.1:1/0", "k")
    memo = _memoised(stamp, {"RESPONSE_CACHE_GENERATION_MS": 1000})
    assert isinstance(memo, MemoStamp) and memo.seconds == 1.0 and memo.client is stamp.client
    assert _memoised(stamp, {"RESPONSE_CACHE_GENERATION_MS": 0}) is stamp


def test_a_read_that_straddles_this_processs_bump_is_not_memoised():
    """A thread reads the generations, another bumps before the read returns: the old values must not be kept, or
    this process would serve its own write stale for a whole period."""
    from app.cache import MemoStamp, MemoryStamp

    memo = None

    class SlowStamp(MemoryStamp):
        def current(self, tables):
            values = super().current(tables)
            if not getattr(self, "bumped_once", False):
                self.bumped_once = True
                memo.bump(("notices",))  # lands while this read is in flight
            return values

    memo = MemoStamp(SlowStamp(), 60.0)
    before = memo.current(("notices",))
    assert memo.current(("notices",)) != before  # read again: the bump is seen, not the straddling read's memo
