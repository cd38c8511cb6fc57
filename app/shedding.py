"""Load shedding: a request that waited in the server's queue longer than ``SHED_QUEUE_MS`` is answered at once with
503 and ``Retry-After`` instead of being run late (issue #17; docs/operations.md, "Load shedding").

How long a request waited is ``now - X-Request-Start``: nginx sets the header when it reads the request
(``proxy_set_header X-Request-Start "t=${msec}"``, deploy/nginx.conf), and gunicorn.conf.py sets it (when no trusted
proxy did) to the moment the worker queued the connection for a thread. So the wait counts the time spent behind
other requests, which is what grows without bound in a storm.

- WSGI middleware inside the response cache: a cached page is answered before this gate, even in a storm; and a
  page whose entry went stale (a checkout changed a product's stock) is answered from that entry, marked
  ``X-Cache: STALE``, rather than refused (app/cache.py), so the catalogue stays up while checkouts storm.
- It decides before Flask runs anything, so a shed request changed nothing; a request admitted runs to completion.
  A bank notification that is shed gets 503, which the gateways retry (docs/payments.md, "Transactions").
- The answer is cheap: the translated page (or the JSON error for /api and /v1) is rendered once per language and
  kind, then replayed.
- A request carrying a session cookie may wait up to ``SHED_SESSION_QUEUE_MS`` (4 s): work under way (a cart on its
  way to checkout) is finished before new work is started. A forged cookie buys a client only that longer wait.
- New work is rationed sooner: a shopper's first cart (``POST /marketplace/cart/add`` from a session holding no
  cart) that waited more than ``SHED_NEW_QUEUE_MS`` (500 ms) is admitted only within ``SHED_NEW_PER_SECOND`` (5) new
  carts a second per worker (a token bucket holding one second's worth), and refused at once beyond it. Each cart
  admitted brings two costlier requests (the checkout form, the checkout) that queue behind whatever is admitted
  after it: rationing new carts while the queue is long lets the shoppers admitted finish instead of being refused
  at the last step, and the ration (not a wait alone) keeps a storm from refusing every new shopper when the
  worker's threads start late. ``SHED_NEW_QUEUE_MS=0`` puts new carts under the bounds above, as any request.
- Off when ``SHED_QUEUE_MS`` is 0 (the tests' default) or when a request carries no ``X-Request-Start``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from urllib.parse import parse_qs

from flask import Flask

log = logging.getLogger(__name__)

EXEMPT_PATHS = frozenset({"/healthz"})  # a saturated server is alive: its health check never gets 503
NEW_WORK_PATHS = frozenset({"/marketplace/cart/add"})  # POSTed by a shopper without a cart: a new checkout begins


def request_start(value: str | None) -> float | None:
    """Seconds since the epoch from ``X-Request-Start`` (``t=1733600000.123`` as nginx's ``$msec``, or the same in
    milliseconds or microseconds, as other proxies send it); None when absent or not a number."""
    if not value:
        return None
    value = value.strip()
    if value.startswith("t="):
        value = value[2:]
    try:
        number = float(value)
    except ValueError:
        return None
    if number != number or number <= 0:  # NaN, zero, negative
        return None
    while number > 1e11:  # milliseconds (1e12...) or microseconds (1e15...) since the epoch
        number /= 1000
    return number


class LoadShedder:
    """WSGI middleware; see the module docstring. ``app.extensions['load_shedder']`` is this object."""

    def __init__(self, app: Flask, clock=time.time):
        self.app = app
        self.wsgi_app = app.wsgi_app
        self.max_wait = int(app.config.get("SHED_QUEUE_MS", 0) or 0) / 1000
        # A request with a session (a shopper with a cart on the way to checkout, a signed-in officer) may wait
        # longer: finishing work under way is worth more than starting new work (never less than the bound above).
        self.session_wait = max(self.max_wait, int(app.config.get("SHED_SESSION_QUEUE_MS", 0) or 0) / 1000)
        # New work (a first cart) that waited longer than this (never more than the bound above; 0: no bound of its
        # own) is admitted only within a ration of `new_rate` a second (a bucket of one second's worth; 0: none).
        self.new_wait = min(self.max_wait, int(app.config.get("SHED_NEW_QUEUE_MS", 0) or 0) / 1000)
        self.new_rate = int(app.config.get("SHED_NEW_PER_SECOND", 0) or 0)
        self._tokens, self._refilled = float(self.new_rate), None
        self._ration_lock = threading.Lock()
        self.retry_after = str(int(app.config.get("SHED_RETRY_AFTER", 2) or 1))
        self.languages = tuple(app.config["LANGUAGES"])
        self.default_language = app.config["BABEL_DEFAULT_LOCALE"]
        self.session_cookie = app.config.get("SESSION_COOKIE_NAME", "session")
        self.clock = clock
        self.shed = 0
        self.shed_new = 0  # of which new work refused (past SHED_NEW_QUEUE_MS and beyond its ration)
        self._serializer = None
        self._answers: dict[tuple[str, str], tuple[str, bytes]] = {}
        self._lock = threading.Lock()

    def waited(self, environ) -> float | None:
        started = request_start(environ.get("HTTP_X_REQUEST_START"))
        return None if started is None else self.clock() - started

    def overdue(self, environ) -> bool:
        """Whether this request waited too long (it would be refused); the response cache asks it too (for a GET,
        never new work). New work admitted past its bound takes one of the ration's tokens."""
        if self.max_wait <= 0 or environ.get("PATH_INFO", "") in EXEMPT_PATHS:
            return False
        waited = self.waited(environ)
        if waited is None:
            return False
        if waited > self.new_wait > 0 and self.new_work(environ):
            if waited <= self.max_wait and self._ration():
                return False
            self.shed_new += 1
            return True
        if waited <= self.max_wait:
            return False
        return waited > self.session_wait or f"{self.session_cookie}=" not in environ.get("HTTP_COOKIE", "")

    def new_work(self, environ) -> bool:
        """Whether this request starts new work: a cart add from a session that holds no cart (no session, or a
        cookie that is not a valid session of this app, counts as none). A shopper adding to a cart goes on."""
        if environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO", "") not in NEW_WORK_PATHS:
            return False
        cookie_header = environ.get("HTTP_COOKIE", "")
        if f"{self.session_cookie}=" not in cookie_header:
            return True
        from werkzeug.http import parse_cookie

        value = parse_cookie(cookie_header).get(self.session_cookie)
        return not value or not self._session(value).get("cart")

    def _ration(self) -> bool:
        """Take a token of the new-work ration if one is left (refilled at ``new_rate`` a second, up to one
        second's worth)."""
        with self._ration_lock:
            now = self.clock()
            if self._refilled is not None:
                self._tokens = min(float(self.new_rate), self._tokens + (now - self._refilled) * self.new_rate)
            self._refilled = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            return False

    def _session(self, value: str) -> dict:
        """The data of a signed session cookie, or {} when it is not one (Flask would start a new session)."""
        if self._serializer is None:
            self._serializer = self.app.session_interface.get_signing_serializer(self.app)
        try:
            data = self._serializer.loads(value, max_age=int(self.app.permanent_session_lifetime.total_seconds()))
        except Exception:  # a bad, forged or expired cookie
            return {}
        return data if isinstance(data, dict) else {}

    def __call__(self, environ, start_response):
        if self.overdue(environ):
            return self._refuse(environ, start_response)
        return self.wsgi_app(environ, start_response)

    # The answer ---------------------------------------------------------------------------------------------------
    def _refuse(self, environ, start_response):
        self.shed += 1
        path = environ.get("PATH_INFO", "")
        kind = "v1" if path == "/v1" or path.startswith("/v1/") else "api" if path.startswith(("/api/", "/webhooks/")) \
            else "json" if "application/json" in environ.get("HTTP_ACCEPT", "") and "text/html" not in \
            environ.get("HTTP_ACCEPT", "") else "html"
        lang = self._language(environ)
        content_type, body = self._answer(kind, lang)
        start_response("503 SERVICE UNAVAILABLE", [
            ("Content-Type", content_type), ("Content-Length", str(len(body))), ("Retry-After", self.retry_after),
            ("Cache-Control", "no-store"), ("Connection", "close"), ("X-Load-Shed", "1"),
        ])
        return [body]

    def _language(self, environ) -> str:
        lang = None
        query = environ.get("QUERY_STRING", "")
        if query:
            lang = (parse_qs(query).get("lang") or [None])[0]
        if lang is None and self.session_cookie in environ.get("HTTP_COOKIE", ""):
            cache = self.app.extensions.get("response_cache")
            if cache is not None:
                from werkzeug.http import parse_cookie

                value = parse_cookie(environ["HTTP_COOKIE"]).get(self.session_cookie)
                lang = cache.session_language(value) if value else None
        return lang if lang in self.languages else self.default_language

    def _answer(self, kind: str, lang: str) -> tuple[str, bytes]:
        answer = self._answers.get((kind, lang))
        if answer is None:
            with self._lock:
                answer = self._answers.get((kind, lang)) or self._render(kind, lang)
                self._answers[(kind, lang)] = answer
        return answer

    def _render(self, kind: str, lang: str) -> tuple[str, bytes]:
        try:
            # As a visitor of the public address (production trusts only its host: another would build no URL).
            base_url = self.app.config.get("PUBLIC_BASE_URL") or None
            with self.app.test_request_context("/", base_url=base_url, query_string={"lang": lang}):
                from flask import render_template
                from flask_babel import gettext

                message = gettext("The service is busy. Please try again in a moment.")
                if kind == "v1":  # Stripe's error shape, as every /v1 answer
                    return "application/json", json.dumps(
                        {"error": {"type": "api_error", "code": "overloaded", "message": message}},
                        ensure_ascii=False).encode()
                if kind in ("api", "json"):
                    return "application/json", json.dumps({"error": {"status": 503, "message": message}},
                                                          ensure_ascii=False).encode()
                html = render_template("errors/503.html", status=503, message=message)
                return "text/html; charset=utf-8", html.encode()
        except Exception:  # never turn a refusal into a 500: a plain answer in both languages
            log.exception("load shedding: the busy page could not be rendered")
            return "text/plain; charset=utf-8", "Hệ thống đang bận, vui lòng thử lại sau giây lát.\n" \
                                                "The service is busy. Please try again in a moment.\n".encode()


def init_app(app: Flask) -> None:
    """Install the gate around Flask, inside the response cache (installed after it, outside)."""
    shedder = LoadShedder(app)
    app.extensions["load_shedder"] = shedder
    app.wsgi_app = shedder
