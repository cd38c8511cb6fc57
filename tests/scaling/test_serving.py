"""Serving as deployed: gunicorn with the project's gunicorn.conf.py behind deploy/nginx.conf.

- nginx closes an idle upstream connection before gunicorn does (no request sent on a connection being closed);
- one control socket per instance, or none (never gunicorn's shared ~/.gunicorn/gunicorn.ctl);
- a reload the documented way (HUP to the master, what ``systemctl reload gialam-web`` sends) under a steady stream
  of requests refuses none and fails none, and the new workers serve the new release.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import runpy
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path


from tests.conftest import CHEAP_ARGON2

ROOT = Path(__file__).resolve().parents[2]
GUNICORN_CONF = ROOT / "gunicorn.conf.py"
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
WEB_UNIT = ROOT / "deploy" / "gialam-web.service"
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


def gunicorn_settings(monkeypatch, **env) -> dict:
    """gunicorn.conf.py's module namespace, as gunicorn reads it, with only ``env`` among the GUNICORN_* variables."""
    for name in list(os.environ):
        if name.startswith("GUNICORN_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(GUNICORN_CONF))


def _nginx_seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+)(ms|s|m|h)?", value)
    assert match, value
    return int(match.group(1)) * _UNITS[match.group(2) or "s"]


def nginx_upstream_keepalive_timeout() -> float:
    """The upstream block's keepalive_timeout (nginx's default, 60 s, when the line is missing)."""
    config = re.sub(r"#[^\n]*", "", NGINX_CONF.read_text(encoding="utf-8"))
    upstream = re.search(r"upstream\s+gialam_app\s*\{(.*?)\}", config, flags=re.S)
    assert upstream, "deploy/nginx.conf has the gialam_app upstream"
    assert re.search(r"^\s*keepalive\s+\d+\s*;", upstream.group(1), flags=re.M), "nginx keeps upstream connections"
    timeout = re.search(r"^\s*keepalive_timeout\s+(\S+)\s*;", upstream.group(1), flags=re.M)
    return _nginx_seconds(timeout.group(1)) if timeout else 60.0


def test_nginx_closes_an_idle_upstream_connection_before_gunicorn_would(monkeypatch):
    settings = gunicorn_settings(monkeypatch)
    assert settings["worker_class"] == "gthread"  # keeps connections alive (a sync worker closes after each answer)
    nginx = nginx_upstream_keepalive_timeout()
    assert nginx + 2 <= settings["keepalive"], (nginx, settings["keepalive"])  # a margin for a busy server's clock
    # ...and the proxy speaks HTTP/1.1 without "Connection: close", or it would not reuse connections at all.
    location = NGINX_CONF.read_text(encoding="utf-8")
    assert "proxy_http_version 1.1;" in location and 'proxy_set_header Connection "";' in location


def test_no_control_socket_unless_the_instance_names_its_own(monkeypatch, tmp_path):
    default = gunicorn_settings(monkeypatch)
    assert default["control_socket_disable"] is True and "control_socket" not in default
    own = tmp_path / "a" / "gunicorn.ctl"
    named = gunicorn_settings(monkeypatch, GUNICORN_CONTROL_SOCKET=str(own))
    assert named["control_socket"] == str(own) and not named.get("control_socket_disable")
    unit = WEB_UNIT.read_text(encoding="utf-8")
    assert "ExecReload=/bin/kill -HUP $MAINPID" in unit


def test_a_reload_is_the_documented_deploy():
    script = (ROOT / "deploy" / "deploy.sh").read_text(encoding="utf-8")
    assert "systemctl reload gialam-web.service" in script and "systemctl restart gialam-web" not in script
    assert "kill -HUP" in (ROOT / "docs" / "scaling.md").read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------------------- real servers

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """``gunicorn -c gunicorn.conf.py tests.scaling.served_app:app`` on a free port, HOME in a temporary folder (so
    that gunicorn's default control socket would show there)."""

    def __init__(self, database, home: Path, release_file: Path, **env):
        self.port = _free_port()
        self.home = home
        settings = {"SQLALCHEMY_DATABASE_URI": database["app_url"], "SECRET_KEY": "testing-secret",
                    "RESPONSE_CACHE": False, **CHEAP_ARGON2}
        environment = {key: value for key, value in os.environ.items()
                       if not key.startswith("GUNICORN_") and key != "XDG_RUNTIME_DIR"}
        environment.update({
            "APP_ENV": "testing", "GIALAM_TEST_SETTINGS": json.dumps(settings), "PYTHONPATH": str(ROOT),
            "GIALAM_TEST_RELEASE_FILE": str(release_file), "HOME": str(home), "GUNICORN_WORKERS": "2",
            "GUNICORN_BIND": f"127.0.0.1:{self.port}", "GUNICORN_LOGLEVEL": "warning", **env,
        })
        self.log = home / f"gunicorn-{self.port}.log"
        self._log = open(self.log, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "--chdir", str(ROOT),
             "tests.scaling.served_app:app"],
            cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=self._log,
        )
        deadline = time.monotonic() + 60
        while self.get("/_test/uploads/release", timeout=5) is None:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gunicorn did not answer within 60 s: {self.log.read_text()[-3000:]}")
            time.sleep(0.2)

    def get(self, path: str, timeout: float = 30) -> dict | None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return json.loads(response.read()) if response.status == 200 else None
        except OSError:
            return None
        finally:
            conn.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


class Stream(threading.Thread):
    """One client sending requests back to back until stopped: on one kept-alive connection (reconnecting only when
    the server says ``Connection: close``, as nginx does), or on a new connection per request. Every exception or
    non-200 answer is a failure; a refused connection is counted apart."""

    def __init__(self, port: int, paths: list[str], keep_alive: bool):
        super().__init__(daemon=True)
        self.port, self.paths, self.keep_alive = port, paths, keep_alive
        self.stopping = threading.Event()
        self.answers: list[tuple[float, str, dict | None]] = []
        self.failures: list[str] = []
        self.refused = 0

    def run(self) -> None:
        conn = None
        n = 0
        while not self.stopping.is_set():
            path = self.paths[n % len(self.paths)]
            n += 1
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                body = response.read()
                if response.status != 200:
                    self.failures.append(f"{path}: HTTP {response.status}")
                release = json.loads(body) if path.endswith("/release") and response.status == 200 else None
                self.answers.append((time.monotonic(), path, release))
                if not self.keep_alive or response.will_close:
                    conn.close()
                    conn = None
            except ConnectionRefusedError:
                self.refused += 1
                conn = None
            except Exception as exc:  # reset, closed without an answer, timeout: all failures
                self.failures.append(f"{path}: {type(exc).__name__}: {exc}")
                conn.close()
                conn = None
        if conn is not None:
            conn.close()


def test_a_reload_under_a_steady_stream_refuses_no_request_and_serves_the_new_release(database, make, tmp_path):
    make.tenant("bat-trang", "Bát Tràng")
    release_file = tmp_path / "release"
    release_file.write_text("one")
    server = Gunicorn(database, tmp_path, release_file)
    streams = []
    try:
        before = {server.get("/_test/uploads/release")["pid"] for _ in range(20)}
        paths = ["/_test/uploads/release", "/c/bat-trang/", "/healthz"]
        streams = [Stream(server.port, paths, keep_alive=k) for k in (True, True, True, False, False)]
        for stream in streams:
            stream.start()
        time.sleep(1.5)
        release_file.write_text("two")  # the new release's files are in place
        reloaded_at = time.monotonic()
        server.process.send_signal(signal.SIGHUP)  # ExecReload=/bin/kill -HUP $MAINPID
        deadline = reloaded_at + 90
        while time.monotonic() < deadline:  # until every stream has been served by the new release for a while
            latest = [[a for a in s.answers if a[2] is not None][-3:] for s in streams]
            if all(len(r) == 3 and all(a[2]["release"] == "two" and a[0] > reloaded_at + 2 for a in r)
                   for r in latest):
                break
            time.sleep(0.2)
    finally:
        for stream in streams:
            stream.stopping.set()
        for stream in streams:
            stream.join(timeout=90)
        server.stop()
    answers = [a for s in streams for a in s.answers]
    assert [f for s in streams for f in s.failures] == [] and sum(s.refused for s in streams) == 0
    assert len(answers) > 100, "a steady stream, not a few requests"
    during = [a for a in answers if reloaded_at <= a[0] <= reloaded_at + 3]
    assert during, "requests were answered while the workers changed"
    new = [a[2] for a in answers if a[2] is not None and a[2]["release"] == "two"]
    assert new and {a["pid"] for a in new}.isdisjoint(before)  # new workers, which loaded the new release
    assert not (tmp_path / ".gunicorn").exists()  # and no control socket in the shared default place


def test_two_instances_on_one_machine_have_a_control_socket_each(database, tmp_path):
    release_file = tmp_path / "release"
    release_file.write_text("one")
    sockets = [tmp_path / "a" / "gunicorn.ctl", tmp_path / "b" / "gunicorn.ctl"]
    servers = []
    try:
        for path in sockets:
            servers.append(Gunicorn(database, tmp_path, release_file, GUNICORN_CONTROL_SOCKET=str(path)))
        time.sleep(0.5)
        for path in sockets:
            assert path.is_socket()
            with socket.socket(socket.AF_UNIX) as client:
                client.connect(str(path))  # each instance listens on its own
    finally:
        for server in servers:
            server.stop()
    assert not any(path.exists() for path in sockets)  # each removed its own on the way out
