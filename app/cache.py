"""Whole-response cache for public pages that are the same for every visitor (the landing page, a commune's home
page, /api/communes), and the generation stamp that invalidates it.

How it works:

- An endpoint opts in with ``@cached_for_visitors(Model, ...)``, naming the tables the page shows (the communes
  table is always included: every page names its commune). Nothing else is ever cached.
- ``ResponseCache`` is WSGI middleware in front of Flask. For a GET to an opted-in endpoint from a visitor without
  a session (no cookie, or a cookie session holding only the language; no remember-me cookie, no
  ``Authorization`` header) it answers from a per-process store keyed by host, path, query string and language.
  Signed-in users, visitors with a flash message waiting and API callers always reach Flask.
- A response is stored only when it is a 200 without ``Set-Cookie`` for such a visitor, under the generations of
  its tables read *before* the page was rendered.
- Each table has its own generation. It changes after every commit that wrote to the table (a SQLAlchemy session
  hook, so every write path bumps it: views, services, CLI commands, jobs, bulk inserts through the session), and
  a stored page is a miss as soon as the generation of one of its tables changed. A dossier moving on thus leaves
  the landing page, the communes' pages and the marketplace cached; only the one-stop figures are rendered again.
- The generations live in Redis when one is configured (``CACHE_REDIS_URL``, or the Redis of
  ``RATELIMIT_STORAGE_URI``), one key per table read in one round trip, so several app servers share them; each
  process keeps what it read for ``RESPONSE_CACHE_GENERATION_MS`` (``MemoStamp``: another process's commit shows
  here at most that late, this process's own at once), so a hit usually costs no round trip;
  otherwise in small files of the instance folder, shared by the workers of one machine (``CACHE_STAMP=memory``
  keeps them in the process: tests and a single-process server).
- A stored page that carries an ETag answers a matching ``If-None-Match`` with a 304, as Flask would.
- A view may bound how long its answer is kept (``keep_until``); a ``bounded`` view's answer is stored only when it
  did (the QR image of a payment intent: the versioned PNG, until the intent's deadline).
- Overloaded (app/shedding.py would refuse the request: it waited too long in the server's queue), a page whose
  entry is stale but younger than ``RESPONSE_CACHE_SECONDS`` is answered from it with ``X-Cache: STALE`` instead
  of a 503: in a checkout storm every order changes the stock the catalogue shows.
- When the stamp's Redis does not answer (app/redis_health.py: one timeout, logged once, then refused at once until
  it answers), pages are rendered and nothing is stored; a bump that could not be written is owed and written
  before the next read or bump that reaches Redis, so no server serves a page older than a commit made during the
  outage. Entries also expire after ``RESPONSE_CACHE_SECONDS``, a bound on staleness should a bump ever be lost
  (the process that owed it stopped).

Writes that bypass the session (``flask seed-scale``'s COPY, raw SQL, another program) call ``bump_generation()``,
which bumps every table, or are seen within ``RESPONSE_CACHE_SECONDS``.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs

from cachetools import LRUCache
from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.http import parse_cookie

log = logging.getLogger(__name__)

_WATCHED_TABLES: set[str] = set()
ALWAYS_SHOWN = ("tenants",)  # every page names its commune (a rename or a merger shows at once)
# A session holding only these is a visitor's: the language, and Flask-Login's mark on an anonymous session. Not the
# CSRF token: a page that renders a form for such a visitor would store their token for everyone to read.
_SAFE_SESSION_KEYS = frozenset({"lang", "_permanent", "_fresh"})
_CACHEABLE_MARK = "_cached_for_visitors"


_NO_QUERY_MARK = "_cached_without_query"
_BOUNDED_MARK = "_cached_when_bounded"
_UNTIL = "gialam.response_cache.until"  # the WSGI environ's key: keep_until's deadline (UNIX time) for this answer


def cached_for_visitors(*shown, without_query: bool = False, bounded: bool = False):
    """Opt a view in: its 200 answers to visitors without a session are served from the response cache until a
    commit writes one of the ``shown`` models' tables (or table names), or the communes table. ``without_query``:
    only the address without a query string (``?lang=`` aside) is cached, for an API whose queries are unbounded
    (``/api/products``: the catalogue's first page is cached, a search is not). ``bounded``: an answer is stored only
    when the view said until when it holds (``keep_until``), and never served after that (the QR image of a payment
    intent: until the intent's deadline, and only for a URL naming the payload's current version)."""
    tables = tuple(sorted({m if isinstance(m, str) else m.__table__.name for m in shown} | set(ALWAYS_SHOWN)))
    _WATCHED_TABLES.update(tables)

    def mark(view):
        setattr(view, _CACHEABLE_MARK, tables)
        if without_query:
            setattr(view, _NO_QUERY_MARK, True)
        if bounded:
            setattr(view, _BOUNDED_MARK, True)
        return view

    return mark


def keep_until(deadline) -> None:
    """The answer the current request is given may be served from the response cache until ``deadline`` (a UTC
    datetime, aware or naive) at the latest, and no longer than ``RESPONSE_CACHE_SECONDS``. A ``bounded`` view's
    answer is stored only when the view called this."""
    from flask import request

    from app.clock import as_utc

    request.environ[_UNTIL] = as_utc(deadline).timestamp()


def watched_tables() -> frozenset[str]:
    return frozenset(_WATCHED_TABLES)


# ---------------------------------------------------------------------------------------------- stamps
class MemoryStamp:
    """The generations in this process only (tests, one-process servers)."""

    kind = "memory"

    def __init__(self):
        self._values: dict[str, str] = {}

    def current(self, tables: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(self._values.get(table, "0") for table in tables)

    def bump(self, tables) -> None:
        for table in tables:
            self._values[table] = secrets.token_hex(8)


class FileStamp:
    """The generations in files (``<path>.<table>``), shared by the worker processes of one machine. A bump writes a
    new random value atomically (write then rename), so two concurrent bumps can never leave the old value behind;
    a table never written yet gets its file on first read."""

    kind = "file"

    def __init__(self, path: Path):
        self.path = Path(path)
        self.usable = True
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError:  # a read-only instance folder: every read is a miss (no cache), the app still starts
            self.usable = False
            log.warning("response cache: cannot write %s; pages will not be served from the cache", self.path)

    def _file(self, table: str) -> Path:
        return self.path.with_name(f"{self.path.name}.{table}")

    def _read(self, table: str) -> str:
        if self.usable:
            try:
                return self._file(table).read_text() or "-"
            except FileNotFoundError:
                try:
                    self.bump((table,))
                    return self._file(table).read_text() or "-"
                except OSError:
                    pass
            except OSError:
                pass
        return "missing-" + secrets.token_hex(4)  # unreadable: never matches a stored entry

    def current(self, tables: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(self._read(table) for table in tables)

    def bump(self, tables) -> None:
        for table in tables:
            target = self._file(table)
            tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}")
            tmp.write_text(secrets.token_hex(8))
            os.replace(tmp, target)


class StampUnavailable(Exception):
    """The stamp cannot be read or written now (its Redis is not answering, which app/redis_health.py logged)."""


class RedisStamp:
    """The generations in Redis (one key per table, INCR), shared by every app server: one MGET per request. Bumps
    that could not be written are owed, and written first when Redis answers again."""

    kind = "redis"

    def __init__(self, url: str, key: str, options: dict | None = None):
        import redis

        self.client = redis.Redis.from_url(url, **(options or {}))
        self.key = key
        self._errors = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
        self._owed: set[str] = set()
        self._lock = threading.Lock()

    def _incr(self, tables) -> None:
        with self.client.pipeline(transaction=False) as pipe:
            for table in sorted(tables):
                pipe.incr(f"{self.key}:{table}")
            pipe.execute()

    def _pay_owed(self) -> None:
        with self._lock:
            owed, self._owed = self._owed, set()
        if owed:
            try:
                self._incr(owed)
            except Exception:
                with self._lock:
                    self._owed |= owed
                raise

    def current(self, tables: tuple[str, ...]) -> tuple[str, ...]:
        try:
            self._pay_owed()
            values = self.client.mget([f"{self.key}:{table}" for table in tables])
        except self._errors as error:
            raise StampUnavailable(str(error)) from error
        return tuple(value.decode() if value is not None else "0" for value in values)

    def bump(self, tables) -> None:
        try:
            self._pay_owed()
            self._incr(tables)
        except self._errors as error:
            with self._lock:
                self._owed.update(tables)
            raise StampUnavailable(str(error)) from error


class MemoStamp:
    """The generations of every watched table, read in one round trip and kept in this process for ``seconds``
    (``RESPONSE_CACHE_GENERATION_MS``): a hit then costs no round trip at all. The bound it adds: a commit made by
    another process (another worker, another app server) is seen here at most ``seconds`` after its bump; a commit
    made by this process is seen at once (its bump forgets the memo). Pages are stored under the generations read
    *before* they render, so a memo older than the data never labels an old page as new."""

    def __init__(self, stamp, seconds: float, clock=time.monotonic):
        self.stamp = stamp
        self.kind = stamp.kind
        self.seconds = seconds
        self.clock = clock
        self._memo: tuple[float, dict[str, str]] = (float("-inf"), {})  # (read at, table -> generation)
        self._bumps = 0  # bumps by this process (an int's += is not atomic across threads; any change is enough)

    def current(self, tables: tuple[str, ...]) -> tuple[str, ...]:
        read_at, values = self._memo
        now = self.clock()
        if now - read_at < self.seconds:
            try:
                return tuple(values[table] for table in tables)
            except KeyError:  # a table watched since the memo was read
                pass
        wanted = tuple(sorted(_WATCHED_TABLES.union(tables)))
        bumps = self._bumps
        fresh = dict(zip(wanted, self.stamp.current(wanted), strict=True))
        if bumps == self._bumps:  # a bump by this process meanwhile: the values may predate it, keep no memo
            self._memo = (now, fresh)  # one assignment: threads see the old memo or the new one, never half of one
        return tuple(fresh[table] for table in tables)

    def __getattr__(self, name):  # the stamp's own attributes (its Redis client, for one)
        return getattr(self.stamp, name)

    def forget(self) -> None:
        self._memo = (float("-inf"), {})

    def bump(self, tables) -> None:
        self._bumps += 1
        self.forget()
        try:
            self.stamp.bump(tables)
        finally:
            self._bumps += 1  # a read that began before the bump and ends after it keeps no memo
            self.forget()


def _redis_url(config) -> str | None:
    url = config.get("CACHE_REDIS_URL")
    if url:
        return url
    limiter = config.get("RATELIMIT_STORAGE_URI") or ""
    if limiter.startswith(("redis://", "rediss://")):
        return limiter
    return None


def shared_redis_url(config) -> str | None:
    """The Redis the app servers share (``CACHE_REDIS_URL``, or a redis:// rate-limit storage), or None: the
    cache's stamp and the district's shared trends (app/district/queries.py) live there."""
    return _redis_url(config)


def make_stamp(config, instance_path: str):
    choice = config.get("CACHE_STAMP") or "auto"
    url = _redis_url(config)
    if choice == "redis" or (choice == "auto" and url):
        if not url:
            raise RuntimeError("CACHE_STAMP=redis needs CACHE_REDIS_URL (or a redis:// RATELIMIT_STORAGE_URI).")
        from app.redis_health import client_options

        return RedisStamp(url, config.get("CACHE_KEY_PREFIX", "gialam:") + "cache:generation",
                          client_options(config, url))
    if choice == "memory":
        return MemoryStamp()
    return FileStamp(Path(instance_path) / "cache-generation")


def _memoised(stamp, config):
    seconds = int(config.get("RESPONSE_CACHE_GENERATION_MS", 0) or 0) / 1000
    return MemoStamp(stamp, seconds) if seconds > 0 and stamp.kind != "memory" else stamp


# ---------------------------------------------------------------------------------------------- the store
class _Store:
    """A bounded LRU of (generation, stored_at, status, headers, body, tables, expires) per key, for this process
    (``stored_at`` and ``expires`` on the monotonic clock)."""

    def __init__(self, size: int):
        self.size = size
        self.entries: LRUCache = LRUCache(maxsize=size)
        self.lock = threading.Lock()  # cachetools' caches are not thread-safe

    def get(self, key):
        with self.lock:
            return self.entries.get(key)

    def put(self, key, entry) -> None:
        with self.lock:
            self.entries[key] = entry

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


class ResponseCache:
    """WSGI middleware; see the module docstring. ``app.extensions['response_cache']`` is this object."""

    def __init__(self, app: Flask):
        self.app = app
        self.wsgi_app = app.wsgi_app
        self.enabled = bool(app.config.get("RESPONSE_CACHE", True))
        self.max_age = float(app.config.get("RESPONSE_CACHE_SECONDS", 600))
        self.stamp = _memoised(make_stamp(app.config, app.instance_path), app.config)
        self.store = _Store(int(app.config.get("RESPONSE_CACHE_SIZE", 2048)))
        self.languages = tuple(app.config["LANGUAGES"])
        self.default_language = app.config["BABEL_DEFAULT_LOCALE"]
        self.session_cookie = app.config.get("SESSION_COOKIE_NAME", "session")
        self.remember_cookie = app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
        self._endpoints: dict[str, tuple[str, ...]] | None = None
        self._no_query: frozenset[str] = frozenset()
        self._bounded: frozenset[str] = frozenset()
        self._serializer = None
        self.hits = 0
        self.misses = 0
        self.stale = 0  # stale entries answered because the load shedder would have refused the request

    # What may be cached ---------------------------------------------------------------------------------------
    def endpoints(self) -> dict[str, tuple[str, ...]]:
        """Endpoint -> the tables its page shows, for the views that opted in."""
        if self._endpoints is None:
            self._no_query = frozenset(name for name, view in self.app.view_functions.items()
                                       if getattr(view, _NO_QUERY_MARK, False))
            self._bounded = frozenset(name for name, view in self.app.view_functions.items()
                                      if getattr(view, _BOUNDED_MARK, False))
            self._endpoints = {
                name: getattr(view, _CACHEABLE_MARK) for name, view in self.app.view_functions.items()
                if getattr(view, _CACHEABLE_MARK, None)
            }
        return self._endpoints

    def _session_language(self, cookie_value: str) -> tuple[bool, str | None]:
        """(anonymous?, language kept in the session) for a signed cookie session; a session with anything but
        the language (a user id, flashes, a CSRF token) is not anonymous (its language is not a key then)."""
        if self._serializer is None:
            self._serializer = self.app.session_interface.get_signing_serializer(self.app)
        if self._serializer is None:
            return False, None
        try:
            data = self._serializer.loads(cookie_value, max_age=int(self.app.permanent_session_lifetime.total_seconds()))
        except Exception:  # a bad or expired cookie: Flask will start a new session and set a cookie
            return False, None
        if not isinstance(data, dict):
            return False, None
        lang = data.get("lang") if isinstance(data.get("lang"), str) else None
        return not set(data) - _SAFE_SESSION_KEYS, lang

    def session_language(self, cookie_value: str) -> str | None:
        """The language kept in a signed session cookie (anyone's), or None (app/shedding.py answers in it)."""
        return self._session_language(cookie_value)[1]

    def _key(self, environ) -> tuple | None:
        """The cache key of an anonymous GET (not yet knowing whether its endpoint opted in), else None."""
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("HTTP_AUTHORIZATION"):
            return None
        session_lang = None
        cookie_header = environ.get("HTTP_COOKIE")
        if cookie_header:
            cookies = parse_cookie(cookie_header)
            if self.remember_cookie in cookies:
                return None
            session_value = cookies.get(self.session_cookie)
            if session_value:
                anonymous, session_lang = self._session_language(session_value)
                if not anonymous:
                    return None
        query = environ.get("QUERY_STRING", "")
        lang = None
        if query:
            lang = (parse_qs(query).get("lang") or [None])[0]
        lang = lang or session_lang
        if lang not in self.languages:
            lang = self.default_language
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
        return (environ.get("wsgi.url_scheme", "http"), host, environ.get("SCRIPT_NAME", ""),
                environ.get("PATH_INFO", ""), query, lang)

    def _tables(self, environ) -> tuple[tuple[str, ...] | None, bool]:
        """(the tables an opted-in endpoint shows, whether it is ``bounded``), or (None, False) when this address is
        not cached (Flask answers)."""
        try:
            endpoint, _args = self.app.url_map.bind_to_environ(environ).match()
        except Exception:  # 404, 405, redirects: Flask answers
            return None, False
        tables = self.endpoints().get(endpoint)
        if tables is not None and endpoint in self._no_query:
            query = environ.get("QUERY_STRING", "")
            if query and set(parse_qs(query, keep_blank_values=True)) - {"lang"}:
                return None, False
        return tables, endpoint in self._bounded

    # Serving ----------------------------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        """A stored entry is looked up by its key first: a hit needs no routing, only the generations of the tables
        stored with it (from the memo, usually). Only a miss asks the URL map whether the endpoint opted in."""
        key = self._key(environ) if self.enabled else None
        if key is None:
            return self.wsgi_app(environ, start_response)
        entry = self.store.get(key)
        tables, bounded = (entry[5], False) if entry is not None else self._tables(environ)
        if tables is None:
            return self.wsgi_app(environ, start_response)
        try:
            generation = self.stamp.current(tables)
        except StampUnavailable:  # its Redis is down (logged once by app/redis_health.py): render, store nothing
            return self.wsgi_app(environ, start_response)
        except Exception:
            log.exception("response cache: the generation stamp cannot be read; serving without the cache")
            return self.wsgi_app(environ, start_response)
        if entry is not None and time.monotonic() < entry[6]:
            if entry[0] == generation:
                self.hits += 1
                return _replay(entry, environ, start_response, "HIT")
            overdue = getattr(self.wsgi_app, "overdue", None)  # app/shedding.py: it would answer 503
            if overdue is not None and overdue(environ):
                self.stale += 1  # overloaded: the page as it was a moment ago beats "busy, try again"
                return _replay(entry, environ, start_response, "STALE")
        if entry is not None:  # an entry not served: what the endpoint allows now, as for an address never stored
            tables, bounded = self._tables(environ)
            if tables is None:
                return self.wsgi_app(environ, start_response)
        self.misses += 1
        captured: dict = {}

        def capture(status, headers, exc_info=None):
            captured["status"] = status
            captured["headers"] = headers
            return start_response(status, headers, exc_info)

        chunks = []
        result = self.wsgi_app(environ, capture)
        try:
            for chunk in result:
                chunks.append(chunk)
        finally:
            if hasattr(result, "close"):
                result.close()
        body = b"".join(chunks)
        status = captured.get("status", "")
        headers = captured.get("headers") or []
        if status.startswith("200") and not any(name.lower() == "set-cookie" for name, _v in headers):
            now = time.monotonic()
            until = environ.get(_UNTIL)
            expires = now + self.max_age if until is None else min(now + self.max_age, now + until - time.time())
            if expires > now and (until is not None or not bounded):
                self.store.put(key, (generation, now, status, tuple(headers), body, tables, expires))
        return [body]

    def bump(self, tables=None) -> None:
        self.stamp.bump(sorted(_WATCHED_TABLES) if tables is None else tables)

    def clear(self) -> None:
        self.store.clear()


_BODY_HEADERS = frozenset({"content-length", "content-type", "content-encoding"})


def _replay(entry, environ, start_response, mark: str):
    if _not_modified(environ, entry[3]):
        start_response("304 NOT MODIFIED", [(name, value) for name, value in entry[3]
                                            if name.lower() not in _BODY_HEADERS] + [("X-Cache", mark)])
        return [b""]
    start_response(entry[2], [*entry[3], ("X-Cache", mark)])
    return [entry[4]]


def _not_modified(environ, headers) -> bool:
    """A conditional GET whose ``If-None-Match`` names the stored page's ETag (a page that sets one): 304."""
    asked = environ.get("HTTP_IF_NONE_MATCH")
    if not asked:
        return False
    etag = next((value for name, value in headers if name.lower() == "etag"), None)
    if etag is None:
        return False
    from werkzeug.http import parse_etags, unquote_etag

    tag, _weak = unquote_etag(etag)
    return parse_etags(asked).contains_weak(tag)


def init_app(app: Flask) -> None:
    """Install the middleware (inside ProxyFix, so the key uses the client's host and scheme)."""
    cache = ResponseCache(app)
    app.extensions["response_cache"] = cache
    app.wsgi_app = cache


def bump_generation(tables=None) -> None:
    """Make the cached pages showing ``tables`` (None: every table) stale now; the session hook calls it after a
    commit with the tables the commit wrote."""
    if not has_app_context():
        return
    cache = current_app.extensions.get("response_cache")
    if cache is None:
        return
    try:
        cache.bump(tables)
    except StampUnavailable:  # owed, written when Redis answers again (the outage itself was logged once)
        pass
    except Exception:  # the commit already happened: do not turn it into an error page
        log.exception("response cache: the generation stamp could not be bumped")


# ---------------------------------------------------------------------------------------------- session hooks
def _touches_watched(tables) -> bool:
    return any(getattr(t, "name", None) in _WATCHED_TABLES for t in tables)


def _mark_stale(session, name: str) -> None:
    session.info.setdefault("cache_stale", set()).add(name)


@event.listens_for(Session, "after_flush")
def _note_flush(session, flush_context) -> None:
    if not _WATCHED_TABLES:
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(type(obj), "__table__", None)
        if table is not None and table.name in _WATCHED_TABLES:
            _mark_stale(session, table.name)


@event.listens_for(Session, "do_orm_execute")
def _note_bulk(state) -> None:
    """Bulk INSERT/UPDATE/DELETE through the session (demo seeding, ``update(Model)...``) bypass the flush."""
    if state.is_select or not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if table is not None and _touches_watched([table]):
        _mark_stale(state.session, table.name)


@event.listens_for(Session, "after_commit")
def _bump_after_commit(session) -> None:
    # A rolled-back write leaves the mark: the next commit bumps once more than needed, which is harmless.
    tables = session.info.pop("cache_stale", None)
    if tables:
        bump_generation(sorted(tables))
