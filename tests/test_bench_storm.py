"""bench/bench_storm.py's own parts: its HTTP client reads statuses, headers and the session cookie; its summary
counts statuses and percentiles; a refused or unanswered request is never counted as an accepted order."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(coroutine):
    """``asyncio.run`` in a thread of its own: the browser tests' Playwright keeps an event loop running in the main
    thread for the whole session, and asyncio.run refuses to start inside it."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="module")
def storm():
    sys.path.insert(0, str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location("bench_storm", ROOT / "bench" / "bench_storm.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class _Shop(BaseHTTPRequestHandler):
    """cart/add: 302 with a session; the form: a CSRF token; checkout: 302 to an order, or 503 when told to
    (shopper 7 always, shopper 8 once)."""

    refused_once: set = set()

    def log_message(self, *args):
        pass

    def _answer(self, status, headers=(), body=b""):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        form = self.rfile.read(length).decode()
        if self.path == "/marketplace/cart/add":
            self._answer(302, [("Set-Cookie", "session=abc; HttpOnly; Path=/"), ("Location", "/marketplace/cart")])
        elif "0900000007" in form:
            self._answer(503, [("Retry-After", "2")], b"busy")
        elif "0900000008" in form and "0900000008" not in _Shop.refused_once:
            _Shop.refused_once.add("0900000008")
            self._answer(503, [("Retry-After", "0")], b"busy")
        else:
            assert "session=abc" in self.headers.get("Cookie", "") and "csrf_token=tok" in form
            self._answer(302, [("Location", "/marketplace/orders/ABC123")])

    def do_GET(self):
        self._answer(200, [("Content-Type", "text/html")], b'<input name="csrf_token" type="hidden" value="tok">')


@pytest.fixture
def shop():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Shop)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def test_a_checkout_is_accepted_only_on_a_redirect_to_its_order(storm, shop):
    record = {"requests": {}, "outcomes": [], "accepted": []}
    _run(storm.one_checkout(shop, 1, 42, record))
    _run(storm.one_checkout(shop, 7, 43, record))  # refused at the last step
    assert record["accepted"] == [("ABC123", 42)]
    assert [(stage, status) for stage, status, _s in record["outcomes"]] == [("accepted", 302), ("checkout", 503)]
    summary = storm.summarise({**record, "storm_seconds": 1.0})
    assert summary["rows"]["checkout (POST)"]["statuses"] == {"302": 1, "503": 1}
    assert summary["outcomes"] == {"accepted": 1, "checkout 503": 1}


def test_an_unanswered_request_is_status_0(storm):
    answer = _run(storm.fetch(1, "GET", "/"))  # nothing listens on port 1
    assert answer.status == 0


def test_a_shopper_refused_retries_the_same_step_after_retry_after(storm, shop):
    record = {"requests": {}, "outcomes": [], "accepted": []}
    _run(storm.one_checkout(shop, 8, 44, record, retries=2))  # refused once at the last step, then accepted
    assert record["accepted"] == [("ABC123", 44)] and record["retries"] == 1 and record["admitted"] == 1
    assert [status for status, _s in record["requests"]["checkout (POST)"]] == [503, 302]
    assert len(record["requests"]["cart add (POST)"]) == 1  # only the refused step is sent again
    summary = storm.summarise({**record, "storm_seconds": 1.0})
    assert summary["admitted"] == 1 and summary["retries"] == 1 and summary["outcomes"] == {"accepted": 1}
