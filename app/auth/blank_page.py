"""The blank sign-in page for a visitor who sends no cookie, answered before Flask (issue #17).

``GET /login`` with no query string, no cookie and no ``Authorization`` is the same page for everyone but for its
CSRF token and the session cookie that holds the token's secret: the first such request to each address (scheme,
host, script root) is rendered by Flask, and its answer is learnt as a template; the next ones get the template with a
new token and a new cookie, made exactly as flask_wtf's ``generate_csrf`` and Flask's session would make them (a
random raw token, signed for the form; the session ``{"csrf_token": raw}`` signed by the session serializer). The
status, every header but the cookie's value and the length, and every byte of the page around the token are Flask's.

An answer is learnt only when it is that: a 200 whose one ``Set-Cookie`` is the session holding the token alone,
whose page carries the signed token exactly once and neither secret in clear; anything else (a page with a message,
debug mode, another cookie) is rendered by Flask every time. A host is learnt only from an answer Flask gave it, so a
host production refuses is refused by Flask each time; at most ``PAGES_MAX`` addresses are kept.
"""

from __future__ import annotations

import hashlib
import os

from itsdangerous import BadData, URLSafeTimedSerializer

PAGES_MAX = 16  # addresses (the Host header is the client's: production trusts a few only)


class BlankLoginPage:
    """WSGI middleware directly around Flask (inside the load shedder and the response cache)."""

    def __init__(self, app, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self.pages: dict[tuple, tuple] = {}
        self._path: str | None = None
        self.served = 0  # answers made from a template (tests, benchmarks)

    def path(self) -> str:
        if self._path is None:  # the blueprints are registered after this middleware is installed
            self._path = next(rule.rule for rule in self.app.url_map.iter_rules("auth.login"))
        return self._path

    def _serializers(self):
        config = self.app.config
        csrf = URLSafeTimedSerializer(config.get("WTF_CSRF_SECRET_KEY") or self.app.secret_key, salt="wtf-csrf-token")
        return csrf, self.app.session_interface.get_signing_serializer(self.app)

    def __call__(self, environ, start_response):
        if (environ.get("REQUEST_METHOD") != "GET" or environ.get("QUERY_STRING") or environ.get("HTTP_COOKIE")
                or environ.get("HTTP_AUTHORIZATION") or environ.get("PATH_INFO") != self.path()):
            return self.wsgi_app(environ, start_response)
        key = (environ.get("wsgi.url_scheme"), environ.get("HTTP_HOST") or environ.get("SERVER_NAME", ""),
               environ.get("SCRIPT_NAME", ""))
        page = self.pages.get(key)
        if page is not None:
            return self._fill(page, start_response)
        return self._learn(key, environ, start_response)

    # ------------------------------------------------------------------------------------------------ serving
    def _fill(self, page, start_response):
        status, headers, cookie_at, length_at, before, after, cookie_prefix, cookie_suffix, field = page
        csrf, session = self._serializers()
        raw = hashlib.sha1(os.urandom(64)).hexdigest()  # as flask_wtf.csrf.generate_csrf
        body = before + csrf.dumps(raw).encode() + after
        headers = list(headers)
        headers[cookie_at] = (headers[cookie_at][0], cookie_prefix + session.dumps({field: raw}) + cookie_suffix)
        headers[length_at] = (headers[length_at][0], str(len(body)))
        self.served += 1
        start_response(status, headers)
        return [body]

    # ------------------------------------------------------------------------------------------------ learning
    def _learn(self, key, environ, start_response):
        captured: dict = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info)

        result = self.wsgi_app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        if not self.app.debug and captured.get("status", "").startswith("200"):
            page = self._template(captured["status"], list(captured["headers"]), body)
            if page is not None:
                if len(self.pages) >= PAGES_MAX:
                    self.pages.clear()
                self.pages[key] = page
        return [body]

    def _template(self, status, headers, body):
        names = [name.lower() for name, _value in headers]
        if names.count("set-cookie") != 1 or names.count("content-length") != 1:
            return None
        cookie_at, length_at = names.index("set-cookie"), names.index("content-length")
        if headers[length_at][1] != str(len(body)):
            return None
        cookie_name = self.app.config.get("SESSION_COOKIE_NAME", "session")
        cookie = headers[cookie_at][1]
        if not cookie.startswith(cookie_name + "="):
            return None
        value, semicolon, attributes = cookie[len(cookie_name) + 1:].partition(";")
        csrf, session = self._serializers()
        field = self.app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
        try:
            data = session.loads(value)
        except BadData:
            return None
        if not isinstance(data, dict) or set(data) != {field} or not isinstance(data[field], str):
            return None
        raw = data[field]
        start = csrf.dump_payload(raw) + b"."  # what the signed token begins with
        if body.count(start) != 1 or raw.encode() in body or value.encode() in body:
            return None
        begin = body.index(start)
        end = body.find(b'"', begin)
        try:
            if end < 0 or csrf.loads(body[begin:end].decode()) != raw:
                return None
        except (BadData, UnicodeDecodeError):
            return None
        return (status, tuple(headers), cookie_at, length_at, body[:begin], body[end:], cookie_name + "=",
                semicolon + attributes, field)


def init_app(app) -> None:
    """Install the middleware directly around Flask's own WSGI app (call before the shedder and the cache)."""
    page = BlankLoginPage(app, app.wsgi_app)
    app.extensions["blank_login_page"] = page
    app.wsgi_app = page
