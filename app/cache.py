"""Whole-response cache for public pages that are the same for every visitor (the landing page, a commune's home
page, /api/communes), and the generation stamp that invalidates it.

How it works:

- An endpoint opts in with ``@cached_for_visitors``. Nothing else is ever cached.
- ``ResponseCache`` is WSGI middleware in front of Flask. For a GET to an opted-in endpoint from a visitor without
  a session (no cookie, or a cookie session holding only the language; no remember-me cookie, no
  ``Authorization`` header) it answers from a per-process store keyed by host, path, query string and language.
  Signed-in users, visitors with a flash message waiting and API callers always reach Flask.
- A response is stored only when it is a 200 without ``Set-Cookie`` for such a visitor, under the generation stamp
  read *before* the page was rendered.
- The stamp changes after every commit that wrote to a table registered with ``invalidate_on`` (a SQLAlchemy
  session hook, so every write path bumps it: views, services, CLI commands, jobs, bulk inserts through the
  session). A new stamp makes every stored page a miss.
- The stamp lives in Redis when one is configured (``CACHE_REDIS_URL``, or the Redis of ``RATELIMIT_STORAGE_URI``),
  so several app servers share it; otherwise in a small file of the instance folder, shared by the workers of one
  machine (``CACHE_STAMP=memory`` keeps it in the process: tests and a single-process server).
- A stored page that carries an ETag answers a matching ``If-None-Match`` with a 304, as Flask would.
- Entries also expire after ``RESPONSE_CACHE_SECONDS``, a bound on staleness should a bump ever be lost (Redis down
  at the instant of a commit: the commit stands, the failure is logged).

Domains register what their cached pages show with ``invalidate_on(Model, ...)``.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections import OrderedDict
from pathlib import Path
from urllib.parse import parse_qs

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_WATCHED_TABLES: set[str] = set()
# A session holding only these is a visitor's: the language, and Flask-Login's mark on an anonymous session. Not the
# CSRF token: a page that renders a form for such a visitor would store their token for everyone to read.
_SAFE_SESSION_KEYS = frozenset({"lang", "_permanent", "_fresh"})
_CACHEABLE_MARK = "_cached_for_visitors"


def cached_for_visitors(view):
    """Opt a view in: its 200 answers to visitors without a session are served from the response cache."""
    setattr(view, _CACHEABLE_MARK, True)
    return view


def invalidate_on(*models) -> None:
    """Every commit that writes one of these models' tables (or table names) makes cached pages stale."""
    for model in models:
        _WATCHED_TABLES.add(model if isinstance(model, str) else model.__table__.name)


def watched_tables() -> frozenset[str]:
    return frozenset(_WATCHED_TABLES)


# ---------------------------------------------------------------------------------------------- stamps
class MemoryStamp:
    """The generation in this process only (tests, one-process servers)."""

    kind = "memory"

    def __init__(self):
        self._value = secrets.token_hex(8)

    def current(self) -> str:
        return self._value

    def bump(self) -> None:
        self._value = secrets.token_hex(8)


class FileStamp:
    """The generation in a file, shared by the worker processes of one machine. A bump writes a new random value
    atomically (write then rename), so two concurrent bumps can never leave the old value behind."""

    kind = "file"

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():
                self.bump()
        except OSError:  # a read-only instance folder: every read is a miss (no cache), the app still starts
            log.warning("response cache: cannot write %s; pages will not be served from the cache", self.path)

    def current(self) -> str:
        try:
            return self.path.read_text() or "-"
        except OSError:
            return "missing-" + secrets.token_hex(4)  # unreadable: never matches a stored entry

    def bump(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}")
        tmp.write_text(secrets.token_hex(8))
        os.replace(tmp, self.path)


class RedisStamp:
    """The generation in Redis (INCR), shared by every app server."""

    kind = "redis"

    def __init__(self, url: str, key: str):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.key = key

    def current(self) -> str:
        value = self.client.get(self.key)
        return value.decode() if value is not None else "0"

    def bump(self) -> None:
        self.client.incr(self.key)


def _redis_url(config) -> str | None:
    url = config.get("CACHE_REDIS_URL")
    if url:
        return url
    limiter = config.get("RATELIMIT_STORAGE_URI") or ""
    if limiter.startswith(("redis://", "rediss://")):
        return limiter
    return None


def make_stamp(config, instance_path: str):
    choice = config.get("CACHE_STAMP") or "auto"
    url = _redis_url(config)
    if choice == "redis" or (choice == "auto" and url):
        if not url:
            raise RuntimeError("CACHE_STAMP=redis needs CACHE_REDIS_URL (or a redis:// RATELIMIT_STORAGE_URI).")
        return RedisStamp(url, config.get("CACHE_KEY_PREFIX", "gialam:") + "cache:generation")
    if choice == "memory":
        return MemoryStamp()
    return FileStamp(Path(instance_path) / "cache-generation")


# ---------------------------------------------------------------------------------------------- the store
class _Store:
    """A bounded LRU of (generation, stored_at, status, headers, body) per key, for this process."""

    def __init__(self, size: int):
        self.size = size
        self.entries: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
            return entry

    def put(self, key, entry) -> None:
        with self.lock:
            self.entries[key] = entry
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

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
        self.stamp = make_stamp(app.config, app.instance_path)
        self.store = _Store(int(app.config.get("RESPONSE_CACHE_SIZE", 4096)))
        self.languages = tuple(app.config["LANGUAGES"])
        self.default_language = app.config["BABEL_DEFAULT_LOCALE"]
        self.session_cookie = app.config.get("SESSION_COOKIE_NAME", "session")
        self.remember_cookie = app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
        self._endpoints: frozenset[str] | None = None
        self._serializer = None
        self.hits = 0
        self.misses = 0

    # What may be cached ---------------------------------------------------------------------------------------
    def endpoints(self) -> frozenset[str]:
        if self._endpoints is None:
            self._endpoints = frozenset(
                name for name, view in self.app.view_functions.items() if getattr(view, _CACHEABLE_MARK, False)
            )
        return self._endpoints

    def _session_language(self, cookie_value: str) -> tuple[bool, str | None]:
        """(anonymous?, language kept in the session) for a signed cookie session; a session with anything but
        the language (a user id, flashes, a CSRF token) is not anonymous."""
        if self._serializer is None:
            self._serializer = self.app.session_interface.get_signing_serializer(self.app)
        if self._serializer is None:
            return False, None
        try:
            data = self._serializer.loads(cookie_value, max_age=int(self.app.permanent_session_lifetime.total_seconds()))
        except Exception:  # a bad or expired cookie: Flask will start a new session and set a cookie
            return False, None
        if not isinstance(data, dict) or set(data) - _SAFE_SESSION_KEYS:
            return False, None
        return True, data.get("lang")

    def _key(self, environ) -> tuple | None:
        """The cache key for an anonymous GET to an opted-in endpoint, else None (the request goes to Flask)."""
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("HTTP_AUTHORIZATION"):
            return None
        session_lang = None
        cookie_header = environ.get("HTTP_COOKIE")
        if cookie_header:
            from werkzeug.http import parse_cookie

            cookies = parse_cookie(cookie_header)
            if self.remember_cookie in cookies:
                return None
            session_value = cookies.get(self.session_cookie)
            if session_value:
                anonymous, session_lang = self._session_language(session_value)
                if not anonymous:
                    return None
        try:
            endpoint, _args = self.app.url_map.bind_to_environ(environ).match()
        except Exception:  # 404, 405, redirects: Flask answers
            return None
        if endpoint not in self.endpoints():
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

    # Serving ----------------------------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        key = self._key(environ) if self.enabled else None
        if key is None:
            return self.wsgi_app(environ, start_response)
        try:
            generation = self.stamp.current()
        except Exception:
            log.exception("response cache: the generation stamp cannot be read; serving without the cache")
            return self.wsgi_app(environ, start_response)
        entry = self.store.get(key)
        if entry is not None and entry[0] == generation and time.monotonic() - entry[1] < self.max_age:
            self.hits += 1
            if _not_modified(environ, entry[3]):
                start_response("304 NOT MODIFIED", [(name, value) for name, value in entry[3]
                                                    if name.lower() not in _BODY_HEADERS] + [("X-Cache", "HIT")])
                return [b""]
            start_response(entry[2], [*entry[3], ("X-Cache", "HIT")])
            return [entry[4]]
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
            self.store.put(key, (generation, time.monotonic(), status, tuple(headers), body))
        return [body]

    def bump(self) -> None:
        self.stamp.bump()

    def clear(self) -> None:
        self.store.clear()


_BODY_HEADERS = frozenset({"content-length", "content-type", "content-encoding"})


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


def bump_generation() -> None:
    """Make every cached page stale now (also called by the session hook after a commit)."""
    if not has_app_context():
        return
    cache = current_app.extensions.get("response_cache")
    if cache is None:
        return
    try:
        cache.bump()
    except Exception:  # the commit already happened: do not turn it into an error page
        log.exception("response cache: the generation stamp could not be bumped")


# ---------------------------------------------------------------------------------------------- session hooks
def _touches_watched(tables) -> bool:
    return any(getattr(t, "name", None) in _WATCHED_TABLES for t in tables)


@event.listens_for(Session, "after_flush")
def _note_flush(session, flush_context) -> None:
    if session.info.get("cache_stale") or not _WATCHED_TABLES:
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(type(obj), "__table__", None)
        if table is not None and table.name in _WATCHED_TABLES:
            session.info["cache_stale"] = True
            return


@event.listens_for(Session, "do_orm_execute")
def _note_bulk(state) -> None:
    """Bulk INSERT/UPDATE/DELETE through the session (demo seeding, ``update(Model)...``) bypass the flush."""
    if state.is_select or not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if table is not None and _touches_watched([table]):
        state.session.info["cache_stale"] = True


@event.listens_for(Session, "after_commit")
def _bump_after_commit(session) -> None:
    # A rolled-back write leaves the mark: the next commit bumps once more than needed, which is harmless.
    if session.info.pop("cache_stale", False):
        bump_generation()
