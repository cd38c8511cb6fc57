"""Gunicorn settings for production (and for `make bench`, which serves the app exactly this way).

    gunicorn -c gunicorn.conf.py wsgi:app

Every setting can be changed from the environment without editing this file (GUNICORN_BIND, GUNICORN_WORKERS,
GUNICORN_WORKER_CLASS, GUNICORN_THREADS, GUNICORN_TIMEOUT, GUNICORN_KEEPALIVE, GUNICORN_CONTROL_SOCKET,
GUNICORN_MAX_WORKER_MB, GUNICORN_MAX_REQUESTS). See
docs/scaling.md.

Why these defaults (measured by bench/bench_pages.py on a 2-vCPU machine, figures in bench/README.md):
- one worker process per core (pages are CPU-bound under the GIL: more processes than cores only queue), at least 2;
- ``gthread`` with 4 threads: measured against ``sync`` in the same runs it served as much or more (a public page
  plus the do-nothing route, +6 % in two runs on a busy machine), keeps connections alive (nginx's upstream
  keep-alive, the payer page's status polling), and its heartbeat does not kill a long streamed request (a
  5,000-row statement import) the way a sync worker's 30-second timeout would;
- behind nginx, which buffers slow clients and serves /static/ itself.

Deploying a release is a reload, not a restart (docs/scaling.md, "Deploying a new release"): ``kill -HUP`` on the
master (``systemctl reload gialam-web``) starts new workers, which import the application from disk, and stops the
old ones gracefully; the master keeps the listening socket open the whole time, so no connection is refused. That
is why the application is not preloaded into the master: a preloaded master would fork the old code again.
"""

import ipaddress
import multiprocessing
import os
import threading
import time


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.isdecimal() else default


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = _int("GUNICORN_WORKERS", max(2, multiprocessing.cpu_count()))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = _int("GUNICORN_THREADS", 4 if worker_class == "gthread" else 1)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = 20
# Longer than nginx keeps an idle upstream connection (keepalive_timeout in deploy/nginx.conf's upstream block,
# 10 s): the proxy always closes an idle connection first, so it never sends a request on one this side is closing
# (which it answers with 502 when the request is a POST). tests/scaling/test_serving.py checks the two files.
keepalive = _int("GUNICORN_KEEPALIVE", 15)
backlog = 512
# A worker is restarted when it has grown, not after a fixed number of requests (issue #17). A restart costs a new
# worker's boot (importing the app: 1.5-3 s of CPU on this 2-vCPU machine) and an empty response cache; at 10,000
# requests it came every 2-4 s on cached pages, and the two workers' first restarts (equal counts) fell together,
# leaving nobody to answer for a second or two: the landing page's p99 of 1.7 s in bench/README.md. What a leak
# grows is memory, so that is what restarts a worker: its resident memory checked every MEMORY_CHECK_EVERY requests
# against GUNICORN_MAX_WORKER_MB (300 MB; the aim for a worker is 150 MB; 0 turns the check off). The count stays as
# a backstop for any other leak, a hundred times higher, its jitter a tenth of it so that workers never restart
# together.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1_000_000)
max_requests_jitter = max_requests // 10
max_worker_mb = _int("GUNICORN_MAX_WORKER_MB", 300)
MEMORY_CHECK_EVERY = 256
# Each worker imports the app itself, so that a reload (HUP) loads the new release; a broken release still stops
# the start (a worker that cannot boot halts the master), and deploy.sh runs `flask db upgrade`, which builds the
# app, before it reloads.
preload_app = False
# gunicornc's control socket: none, unless GUNICORN_CONTROL_SOCKET names this instance's own path (for example
# /run/gialam/gunicorn.ctl with systemd's RuntimeDirectory=gialam). Gunicorn's default, ~/.gunicorn/gunicorn.ctl,
# would be one socket for every instance the user runs on the machine: the last one started takes it over (and
# the first one stopped deletes it).
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None  # nginx logs requests; "-" logs to stdout
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = "gialam"


def post_fork(server, worker):
    """Each worker opens its own database connections: never reuse a pool inherited from the parent (when the app is
    preloaded, GUNICORN_CMD_ARGS=--preload; by default each worker loads its own after this hook)."""
    if not server.cfg.preload_app:
        return
    app = server.app.wsgi()
    if "sqlalchemy" not in getattr(app, "extensions", {}):
        return  # the bare benchmark app has no database
    from app.extensions import db

    with app.app_context():
        db.engine.dispose(close=False)


# ---------------------------------------------------------------------------------------------- load shedding
# app/shedding.py answers 503 to a request that waited too long behind others; it reads the wait from X-Request-Start.
# nginx sets that header when it reads the request (deploy/nginx.conf); without a trusted proxy in front (a client
# could send any value), the worker sets it here to the moment it queued the connection for a thread, which is where
# a storm's requests wait (gthread accepts up to worker_connections and queues them for `threads` threads).
_queued = threading.local()


def post_worker_init(worker):
    """Note when each connection is queued for a thread (gthread's enqueue_req), and hand it to the thread that
    serves it (handle) so that pre_request can put it in the request's headers."""
    if not hasattr(worker, "enqueue_req") or not hasattr(worker, "handle"):
        return  # sync workers have no queue of their own: only a proxy's header counts
    enqueue, handle = worker.enqueue_req, worker.handle

    def enqueue_req(conn):
        conn.gialam_queued_at = time.time()
        enqueue(conn)

    def handle_conn(conn):
        _queued.at = getattr(conn, "gialam_queued_at", None)
        try:
            return handle(conn)
        finally:
            _queued.at = None

    worker.enqueue_req = enqueue_req
    worker.handle = handle_conn


def _trusted(worker, peer) -> bool:
    allowed = worker.cfg.forwarded_allow_ips
    if not isinstance(peer, tuple) or "*" in allowed:  # a UNIX socket's peer is the local proxy
        return True
    try:
        address = ipaddress.ip_address(peer[0])
    except ValueError:
        return False
    for entry in allowed:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def pre_request(worker, req):
    """X-Request-Start: a trusted proxy's is kept; otherwise it is the moment this worker queued the connection."""
    queued_at = getattr(_queued, "at", None)
    has_header = any(name == "X-REQUEST-START" for name, _value in req.headers)
    if has_header and _trusted(worker, req.peer_addr):
        return
    req.headers = [(name, value) for name, value in req.headers if name != "X-REQUEST-START"]
    if queued_at is not None:
        req.headers.append(("X-REQUEST-START", f"t={queued_at:.6f}"))


# ---------------------------------------------------------------------------------------------- restart by memory
def resident_mb() -> float | None:
    """This process's resident memory in MB (Linux's /proc/self/statm), or None where it cannot be read."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1_048_576
    except (OSError, ValueError, IndexError):
        return None


def post_request(worker, req, environ, resp):
    """Every MEMORY_CHECK_EVERY requests, a worker above max_worker_mb finishes this request and exits (as gunicorn's
    max_requests does: ``alive`` off); the master starts a fresh one."""
    if not max_worker_mb or worker.nr % MEMORY_CHECK_EVERY or not worker.alive:
        return
    size = resident_mb()
    if size is not None and size > max_worker_mb:
        worker.log.info("Restarting worker after current request: %.0f MB resident, above %d MB", size, max_worker_mb)
        worker.alive = False
