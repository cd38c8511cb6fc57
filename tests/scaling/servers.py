"""What the tests that run real app servers share: the tests' Redis (or a skip), a free port, and gunicorn
processes serving ``tests.scaling.served_app`` with given settings, started, waited for and stopped."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.conftest import TEST_REDIS_URL

ROOT = Path(__file__).resolve().parents[2]


def redis_client():
    """A client of the tests' Redis database (TEST_REDIS_URL); the test is skipped when Redis is not running (a
    failure under REQUIRE_REDIS, as in CI)."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=0.5)
    try:
        client.ping()
    except Exception:
        if os.environ.get("REQUIRE_REDIS"):  # CI (.ci/run starts Redis): a missing Redis is a failure
            pytest.fail(f"Redis is not running at {TEST_REDIS_URL}")
        pytest.skip(f"Redis is not running at {TEST_REDIS_URL}")
    return client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn_servers(settings: dict, count: int = 1, *, options: Sequence[str] = (),
                     env: dict | None = None) -> Iterator[list[str]]:
    """``count`` gunicorn processes serving the test app with ``settings`` (GIALAM_TEST_SETTINGS), each on a free
    port of its own; ``options`` go on gunicorn's command line (``{port}`` in one is the process's port), ``env``
    into its environment. Yields their base URLs once each answers /healthz (30 s at most); stops them after."""
    base_env = {**os.environ, "APP_ENV": "testing", "GIALAM_TEST_SETTINGS": json.dumps(settings),
                "PYTHONPATH": str(ROOT)}
    processes, urls = [], []
    try:
        for _ in range(count):
            port = free_port()
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "gunicorn", *(o.format(port=port) for o in options),
                 "tests.scaling.served_app:app"],
                cwd=ROOT, env={**base_env, **{k: v.format(port=port) for k, v in (env or {}).items()}},
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
            urls.append(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 30
        for url, process in zip(urls, processes, strict=True):
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"app server exited: {process.stderr.read()[-2000:]}")
                try:
                    if requests.get(f"{url}/healthz", timeout=3).status_code == 200:
                        break
                except requests.RequestException:  # not listening yet, or still importing
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("app server did not start within 30 s")
                time.sleep(0.1)
        yield urls
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
