"""A short-lived in-process cache of the public catalogue pages as a visitor without any cookie sees them.

Those pages are the same for every such visitor and already say ``Cache-Control: public, max-age=60``; this keeps
the rendered body for ``MARKETPLACE_PAGE_CACHE_SECONDS`` (15 by default, 0 turns it off) per worker, so a burst
of visitors costs one render instead of one each (what a CDN or nginx micro-cache would do in front). A page can
be that many seconds old; nothing is sold from it: checkout takes the stock with its own conditional UPDATE.
Anyone with a cookie (a cart, a language choice, signed in) never touches it.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict

from flask import Response, current_app, request

MAX_ENTRIES = 512


class PageCache:
    def __init__(self, size: int = MAX_ENTRIES):
        self.size = size
        self._pages: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, ttl: float):
        with self._lock:
            entry = self._pages.get(key)
            if entry is None:
                return None
            if time.monotonic() - entry[0] > ttl:
                del self._pages[key]
                return None
            self._pages.move_to_end(key)
            return entry[1]

    def put(self, key, value) -> None:
        with self._lock:
            self._pages[key] = (time.monotonic(), value)
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


pages = PageCache()


def _ttl() -> int:
    return current_app.config.get("MARKETPLACE_PAGE_CACHE_SECONDS", 0)


def for_visitors(view):
    """Serve the view's page from the cache to visitors without cookies; store what it renders for them."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        ttl = _ttl()
        if not ttl or request.cookies or request.method != "GET":
            return view(*args, **kwargs)
        key = (request.url, request.args.get("lang"))
        hit = pages.get(key, ttl)
        if hit is not None:
            body, etag, cache_control = hit
            response = Response(body, mimetype="text/html")
            response.headers["Cache-Control"] = cache_control
            response.set_etag(etag)
            return response.make_conditional(request)
        response = view(*args, **kwargs)
        if response.status_code == 200 and response.cache_control.public:
            etag = response.get_etag()[0]
            if etag:
                pages.put(key, (response.get_data(), etag, response.headers["Cache-Control"]))
        return response

    return wrapped
