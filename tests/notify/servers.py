"""Local stand-ins for the providers, speaking their documented formats (no outside service in tests):

- ``SmtpServer``: a real SMTP server (aiosmtpd) in a thread; ``hold`` makes it wait before answering DATA (a
  worker can be killed while a message is in flight, not yet accepted with "250").
- ``EsmsServer``: eSMS.vn's ``SendMultipleMessage_V4_post_json``: JSON in, ``{"CodeResult": "100", "SMSID": ...}``
  out; a repeated ``RequestId`` is not sent again (what eSMS documents the field for); ``fail_next`` answers the
  documented error shapes (a CodeResult other than 100, with ErrorMessage; or HTTP 500).
- ``ZaloServer``: ZNS ``POST /message/template`` (``access_token`` header) answering ``{"error": 0, "data":
  {"msg_id": ...}}``, ``-124`` for an expired token, and the OAuth v4 refresh endpoint.
"""

from __future__ import annotations

import json
import threading
import time
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Handler:
    def __init__(self, server: "SmtpServer"):
        self.server = server

    async def handle_DATA(self, _server, _session, envelope):
        import asyncio

        self.server.arrived.append(envelope.content)
        if self.server.hold_at is not None and len(self.server.arrived) == self.server.hold_at:
            self.server.hold.set()
        while self.server.hold.is_set():
            await asyncio.sleep(0.05)
        if self.server.refuse_next:
            self.server.refuse_next -= 1
            return "451 4.3.0 try again later"
        self.server.accepted.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


class SmtpServer:
    def __init__(self):
        self.arrived: list[bytes] = []  # every DATA received, answered or not
        self.accepted = []  # messages answered "250"
        self.hold = threading.Event()
        self.hold_at: int | None = None  # hold DATA's answer when this many messages have arrived
        self.refuse_next = 0
        self.port = _free_port()
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self.url = f"smtp://127.0.0.1:{self.port}"

    def start(self) -> "SmtpServer":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.hold.clear()
        self.controller.stop()


class _Http(ThreadingHTTPServer):
    daemon_threads = True


class _JsonServer:
    def __init__(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the providers' servers

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                status, answer = owner.answer(self.path, dict(self.headers), raw)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = _Http(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class EsmsServer(_JsonServer):
    PATH = "/MainService.svc/json/SendMultipleMessage_V4_post_json/"

    def __init__(self):
        super().__init__()
        self.requests: list[dict] = []
        self.sent: dict[str, dict] = {}  # RequestId -> the request texted
        self.fail_next: list[tuple[int, dict]] = []
        self.hold = threading.Event()
        self.hold_at: int | None = None  # hold (after texting) when this many requests have arrived
        self.url = self.base + self.PATH

    def answer(self, path, headers, raw):
        body = json.loads(raw)
        with self.lock:
            self.requests.append(body)
            if self.fail_next:
                return self.fail_next.pop(0)
            if body["RequestId"] not in self.sent:
                self.sent[body["RequestId"]] = body
            sms_id = f"sms-{list(self.sent).index(body['RequestId']) + 1}"
            if self.hold_at is not None and len(self.requests) == self.hold_at:
                self.hold.set()
        while self.hold.is_set():  # texted, the answer not yet given: a worker killed here lost the answer
            time.sleep(0.05)
        return 200, {"CodeResult": "100", "CountRegenerate": 0, "SMSID": sms_id}


class ZaloServer(_JsonServer):
    def __init__(self, token: str = "good-token"):
        super().__init__()
        self.token = token
        self.requests: list[dict] = []
        self.refreshes: list[dict] = []
        self.url = self.base + "/message/template"
        self.token_url = self.base + "/v4/oa/access_token"

    def answer(self, path, headers, raw):
        if path.startswith("/v4/oa/access_token"):
            form = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
            self.refreshes.append({"secret_key": headers.get("secret_key"), **form})
            self.token = "renewed-token"
            return 200, {"access_token": "renewed-token", "refresh_token": "renewed-refresh", "expires_in": "90000"}
        body = json.loads(raw)
        if headers.get("access_token") != self.token:
            return 200, {"error": -124, "message": "Access token is invalid"}
        self.requests.append(body)
        return 200, {"error": 0, "message": "Success",
                     "data": {"msg_id": f"zns-{len(self.requests)}", "sent_time": "1700000000000",
                              "quota": {"dailyQuota": "500", "remainingQuota": "499"}}}
