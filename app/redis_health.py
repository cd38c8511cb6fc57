"""Redis that fails fast: every Redis the app talks to (the limits' storage, the response cache's stamp) is reached
through connections that give up within ``REDIS_TIMEOUT_SECONDS``, never retry, and, once a command has failed,
refuse every command at once until a background check finds the server answering again (docs/decisions.md, "When
Redis is down"). So a Redis that is stopped, unreachable, or that accepts connections and never answers costs one
request one timeout, logged once, and then nothing: the limits count in the worker's memory, the cached pages are
rendered, until it is back.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from redis.backoff import NoBackoff
from redis.connection import Connection, SSLConnection, UnixDomainSocketConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

log = logging.getLogger(__name__)

_FAILURES = (RedisConnectionError, RedisTimeoutError, OSError)


class Breaker:
    """One Redis server as this process sees it: answering, or not (then commands are refused at once, and a daemon
    thread tries a PING every ``retry_seconds`` until one is answered)."""

    def __init__(self, name: str, retry_seconds: float):
        self.name = name
        self.retry_seconds = retry_seconds
        self._down_in: int | None = None  # the process that saw it fail (a forked child starts afresh)
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        return self._down_in == os.getpid()

    def refuse_if_down(self) -> None:
        if self.down:
            raise RedisConnectionError(f"Redis at {self.name} is not answering; tried again every "
                                       f"{self.retry_seconds:g} s in the background")

    def failed(self, error: BaseException, ping) -> None:
        with self._lock:
            if self.down:
                return
            self._down_in = os.getpid()
        log.warning("Redis at %s did not answer (%s): rate limits count in this worker's memory and cached pages "
                    "are rendered until it does; checking again every %g s", self.name, error, self.retry_seconds)
        threading.Thread(target=self._watch, args=(ping,), name=f"redis-health-{self.name}", daemon=True).start()

    def _watch(self, ping) -> None:
        while True:
            time.sleep(self.retry_seconds)
            try:
                ping()
            except Exception:  # still down: keep quiet, it was logged when it went down
                continue
            with self._lock:
                self._down_in = None
            log.warning("Redis at %s answers again", self.name)
            return


_breakers: dict[tuple[str, float], Breaker] = {}
_breakers_lock = threading.Lock()


def breaker(name: str, retry_seconds: float) -> Breaker:
    with _breakers_lock:
        return _breakers.setdefault((name, retry_seconds), Breaker(name, retry_seconds))


class _Guarded:
    """Mixed into redis-py's connection classes: each command goes through the server's breaker."""

    retry_seconds = 10.0

    def __init__(self, *args, **kwargs):
        self._health_kwargs = dict(kwargs)
        super().__init__(*args, **kwargs)
        self._breaker = breaker(self._health_name(), self.retry_seconds)

    def _health_name(self) -> str:
        path = getattr(self, "path", None)
        return path if path else f"{self.host}:{self.port}"

    def _ping(self) -> None:
        probe = type(self)(**self._health_kwargs)
        probe._breaker = None  # the probe itself is never refused
        try:
            probe.send_command("PING")
            probe.read_response()
        finally:
            probe.disconnect()

    def _guard(self, call, *args, **kwargs):
        if self._breaker is None:
            return call(*args, **kwargs)
        self._breaker.refuse_if_down()
        try:
            return call(*args, **kwargs)
        except _FAILURES as error:
            self._breaker.failed(error, self._ping)
            raise

    def connect(self):
        return self._guard(super().connect)

    def send_packed_command(self, command, check_health=True):
        return self._guard(super().send_packed_command, command, check_health)

    def read_response(self, *args, **kwargs):
        return self._guard(super().read_response, *args, **kwargs)


class GuardedConnection(_Guarded, Connection):
    pass


class GuardedSSLConnection(_Guarded, SSLConnection):
    pass


class GuardedUnixDomainSocketConnection(_Guarded, UnixDomainSocketConnection):
    pass


_CONNECTION_CLASSES = {"redis": GuardedConnection, "rediss": GuardedSSLConnection,
                       "unix": GuardedUnixDomainSocketConnection}


def client_options(config, url: str) -> dict:
    """redis-py options for ``url``: short connect and read timeouts, no retries (the defaults retry a timed-out
    command with backoff, multiplying the wait), and the breaker for plain, TLS and Unix-socket URLs (Sentinel and
    Cluster URLs get the timeouts only)."""
    timeout = float(config.get("REDIS_TIMEOUT_SECONDS", 0.25))
    options = {"socket_connect_timeout": timeout, "socket_timeout": timeout, "retry": Retry(NoBackoff(), 0)}
    scheme = url.split("://", 1)[0].lower()
    guarded = _CONNECTION_CLASSES.get(scheme)
    if guarded is not None:
        retry_seconds = float(config.get("REDIS_RETRY_SECONDS", 10))
        options["connection_class"] = type(guarded.__name__, (guarded,), {"retry_seconds": retry_seconds})
    return options
