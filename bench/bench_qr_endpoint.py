"""Throughput of GET /pay/<id>/qr.png (image cache hit) as a ratio to a bare Flask endpoint served the same way.

Run:  .venv/bin/python bench/bench_qr_endpoint.py [--seconds 2.5] [--rounds 2] [--workers 1] [--threads 2]

What it does, bounded to well under a minute:

1. makes a temporary SQLite database, migrates it, and creates one commune, payment account and intent;
2. starts two gunicorn servers with identical settings (gthread workers, keep-alive): the real application
   (``wsgi:app`` in the production configuration, pointed at that database) and a bare Flask app whose one route
   returns a constant of the same size as the QR PNG;
3. warms both up, then measures requests/second with the same client: separate processes, each with threads
   looping over one keep-alive ``http.client`` connection, for a fixed time. Bare and real are measured in
   alternating rounds and the best round of each is kept, so drift on a noisy machine hits both alike;
4. also measures the application's own floor (``/healthz``, a route that does nothing: every app-wide hook,
   no query), the 304 revalidation and the status endpoint the hosted page polls, and folds in
   ``bench_vietqr`` (payloads encoded per second, QR images per second cold vs from the cache);
5. prints everything with the ratio real/bare (the target is >= 0.5) and writes bench/results/qr_endpoint.json.

Falls back to a threaded werkzeug server (same for both apps) when gunicorn cannot be found.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from flask import Flask, Response

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results" / "qr_endpoint.json"
TARGET_RATIO = 0.5

# ------------------------------------------------------------------------------------------- the bare app
# Imported by gunicorn as bench_qr_endpoint:bare_app (with --chdir bench); BENCH_BARE_SIZE sets the body size.
def _png_sized(size: int) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\0" * max(0, size - 8)


_BARE_BODY = _png_sized(int(os.environ.get("BENCH_BARE_SIZE", "600")))
bare_app = Flask("bare")


@bare_app.get("/bare.png")
def _bare_png():
    return Response(_BARE_BODY, mimetype="image/png")


# ------------------------------------------------------------------------------------------- setup


def _ensure_path() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def make_database(directory: Path) -> dict:
    """Migrate a fresh SQLite database and create one intent; return the URLs and the expected PNG."""
    _ensure_path()
    import logging

    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.payments import qr
    from app.payments.accounts import create_account
    from app.payments.intents import create_intent
    from app.payments.qr import image_version
    from tenants.models import Tenant
    from tenants.scoping import tenant_context

    url = f"sqlite:///{directory / 'bench.sqlite'}"
    # Whatever APP_ENV the caller has (`make bench` sets none: production), the set-up names what production needs.
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-" + secrets.token_hex(16),
                      "PUBLIC_BASE_URL": "http://127.0.0.1",
                      "RATELIMIT_STORAGE_URI": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")})
    with app.app_context():
        logging.disable(logging.INFO)  # the migration's own log lines
        try:
            upgrade()
        finally:
            logging.disable(logging.NOTSET)
        tenant = Tenant(slug="bat-trang", name="Bát Tràng", kind="xã", code="10001", district_name="Gia Lâm",
                        district_code="018", province_name="Hà Nội", status="active")
        db.session.add(tenant)
        db.session.commit()
        with tenant_context(tenant):
            account = create_account("Phí chứng thực", "970415", "113366668888", "UBND XA BAT TRANG")
            intent = create_intent(account, 150_000, description="Bench")
            db.session.commit()  # services leave the commit to their caller (the request, or this script)
        png, etag, _ = qr.qr_image(intent.qr_payload, "png")
        info = {
            "database_url": url,
            "qr_path": f"/pay/{intent.public_id}/qr.png?v={image_version(intent.qr_payload, 'png')}",
            "status_path": f"/pay/{intent.public_id}/status",
            "png_size": len(png),
            "etag": etag,
        }
        db.engine.dispose()
    return info


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(port: int, path: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not answer {path} within {timeout:.0f} s")


class Server:
    """One app under gunicorn (or werkzeug when gunicorn is missing), started and stopped by the benchmark."""

    def __init__(self, name: str, target: str, env: dict, ready_path: str, args: argparse.Namespace, log: Path):
        self.name, self.port = name, _free_port()
        self.process = None
        self.werkzeug = None
        gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or shutil.which("gunicorn")
        if gunicorn and not args.werkzeug:
            self.kind = "gunicorn"
            command = [gunicorn, target, "--bind", f"127.0.0.1:{self.port}", "--workers", str(args.workers),
                       "--worker-class", "gthread", "--threads", str(args.threads), "--keep-alive", "30",
                       "--backlog", "512", "--log-level", "warning", "--error-logfile", str(log)]
            self.process = subprocess.Popen(command, cwd=ROOT if target.startswith("wsgi") else BENCH_DIR,
                                            env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL)
        else:
            self.kind = "werkzeug"
            self._start_werkzeug(target, env)
        try:
            _wait_ready(self.port, ready_path)
        except RuntimeError:
            self.stop()  # not left serving after the benchmark gave up on it
            raise

    def _start_werkzeug(self, target: str, env: dict) -> None:
        from werkzeug.serving import make_server

        if target.startswith("wsgi"):
            os.environ["APP_ENV"] = env["APP_ENV"]
            _ensure_path()
            from app import create_app

            # config.py read the environment when first imported: pass the settings explicitly.
            wsgi_app = create_app({"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"], "SECRET_KEY": env["SECRET_KEY"],
                                   **{k: env[k] for k in ("PUBLIC_BASE_URL", "TRUSTED_HOSTS", "RATELIMIT_STORAGE_URI")
                                      if k in env}})
        else:
            global _BARE_BODY
            _BARE_BODY = _png_sized(int(env["BENCH_BARE_SIZE"]))
            wsgi_app = bare_app
        import logging

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log: it would cost the same to both
        self.werkzeug = make_server("127.0.0.1", self.port, wsgi_app, threaded=True)
        threading.Thread(target=self.werkzeug.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self.werkzeug is not None:
            self.werkzeug.shutdown()


# ------------------------------------------------------------------------------------------- the client


def _client_process(port: int, path: str, headers: dict, expect_status: int, expect_size: int | None,
                    threads: int, start_at: float, seconds: float, queue) -> None:
    """Threads looping over keep-alive connections until the deadline; puts (ok, errors) on the queue."""
    counts = [[0, 0] for _ in range(threads)]

    def loop(slot: list[int]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.time() < start_at:
            time.sleep(0.001)
        deadline = start_at + seconds
        while time.time() < deadline:
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                if response.status == expect_status and (expect_size is None or len(body) == expect_size):
                    slot[0] += 1
                else:
                    slot[1] += 1
                if response.will_close:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            except (OSError, http.client.HTTPException):
                slot[1] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.close()

    workers = [threading.Thread(target=loop, args=(slot,)) for slot in counts]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    queue.put((sum(c[0] for c in counts), sum(c[1] for c in counts)))


def measure(port: int, path: str, seconds: float, args: argparse.Namespace, *, headers: dict | None = None,
            expect_status: int = 200, expect_size: int | None = None) -> dict:
    """Requests per second from ``args.clients`` processes x ``args.client_threads`` keep-alive connections."""
    ctx = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
    queue = ctx.Queue()
    start_at = time.time() + 0.3  # every process starts at once, after forking
    processes = [ctx.Process(target=_client_process, args=(port, path, headers or {}, expect_status, expect_size,
                                                           args.client_threads, start_at, seconds, queue))
                 for _ in range(args.clients)]
    for process in processes:
        process.start()
    results = [queue.get(timeout=seconds + 30) for _ in processes]
    for process in processes:
        process.join(10)
    ok, errors = sum(r[0] for r in results), sum(r[1] for r in results)
    return {"requests": ok, "errors": errors, "seconds": seconds, "rps": ok / seconds}


# ------------------------------------------------------------------------------------------- main


def run(args: argparse.Namespace) -> dict:
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="bench-qr-"))
    servers: list[Server] = []
    try:
        info = make_database(tmp)
        real_env = {"APP_ENV": "production", "DATABASE_URL": info["database_url"],
                    "SECRET_KEY": secrets.token_urlsafe(48), "PYTHONPATH": str(ROOT),
                    # production requires its public URL and shared limit storage (the QR route is not limited)
                    "PUBLIC_BASE_URL": "http://127.0.0.1", "TRUSTED_HOSTS": "127.0.0.1,localhost",
                    "RATELIMIT_STORAGE_URI": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")}
        bare_env = {"BENCH_BARE_SIZE": str(info["png_size"])}
        real = Server("real", "wsgi:app", real_env, info["qr_path"], args, tmp / "real.log")
        servers.append(real)
        bare = Server("bare", "bench_qr_endpoint:bare_app", bare_env, "/bare.png", args, tmp / "bare.log")
        servers.append(bare)

        # Warm up: every worker process renders (caches) the image and compiles its queries.
        measure(real.port, info["qr_path"], args.warmup, args, expect_size=info["png_size"])
        measure(bare.port, "/bare.png", args.warmup, args, expect_size=info["png_size"])

        rounds = {"bare": [], "real": [], "floor": []}
        for _ in range(args.rounds):
            rounds["bare"].append(measure(bare.port, "/bare.png", args.seconds, args, expect_size=info["png_size"]))
            rounds["real"].append(measure(real.port, info["qr_path"], args.seconds, args,
                                          expect_size=info["png_size"]))
            rounds["floor"].append(measure(real.port, "/healthz", args.seconds, args))
        best = {name: max(items, key=lambda r: r["rps"]) for name, items in rounds.items()}
        floor = best["floor"]
        revalidate = measure(real.port, info["qr_path"], args.seconds, args,
                             headers={"If-None-Match": info["etag"]}, expect_status=304)
        status = measure(real.port, info["status_path"], args.seconds, args)
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    _ensure_path()
    from bench_vietqr import run as run_vietqr

    codec = {name: {"calls": calls, "seconds": round(elapsed, 3), "per_second": round(calls / elapsed)}
             for name, calls, elapsed in run_vietqr(args.codec_seconds)}

    ratio = best["real"]["rps"] / best["bare"]["rps"] if best["bare"]["rps"] else 0.0
    return {
        "benchmark": "GET /pay/<id>/qr.png (image cache hit) vs a bare Flask endpoint, same server settings",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "server": {"kind": servers[0].kind if servers else None, "workers": args.workers, "threads": args.threads,
                   "worker_class": "gthread" if servers and servers[0].kind == "gunicorn" else "threaded",
                   "keep_alive": bool(servers) and servers[0].kind == "gunicorn"},
        "client": {"processes": args.clients, "threads_per_process": args.client_threads,
                   "seconds_per_round": args.seconds, "rounds": args.rounds},
        "png_bytes": info["png_size"],
        "bare_rps": round(best["bare"]["rps"], 1),
        "qr_png_rps": round(best["real"]["rps"], 1),
        "ratio": round(ratio, 3),
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio >= TARGET_RATIO,
        "app_floor_healthz_rps": round(floor["rps"], 1),
        "floor_ratio": round(floor["rps"] / best["bare"]["rps"], 3) if best["bare"]["rps"] else 0.0,
        "qr_vs_floor": round(best["real"]["rps"] / floor["rps"], 3) if floor["rps"] else 0.0,
        "qr_png_304_rps": round(revalidate["rps"], 1),
        "status_json_rps": round(status["rps"], 1),
        "errors": sum(r["errors"] for items in rounds.values() for r in items) + revalidate["errors"]
        + status["errors"],
        "rounds": {name: [round(r["rps"], 1) for r in items] for name, items in rounds.items()},
        "codec": codec,
        "total_seconds": round(time.monotonic() - started, 1),
    }


def report(result: dict) -> None:
    server = result["server"]
    shape = (f"{server['workers']} worker(s) x {server['threads']} thread(s), keep-alive" if server["keep_alive"]
             else "one process, a thread per connection, no keep-alive")
    print(f"Server: {server['kind']}, {shape}; "
          f"client: {result['client']['processes']} processes x {result['client']['threads_per_process']} "
          f"connections, best of {result['client']['rounds']} x {result['client']['seconds_per_round']} s")
    print(f"  bare Flask endpoint ({result['png_bytes']} B)   {result['bare_rps']:>9,.0f} req/s   "
          f"rounds {result['rounds']['bare']}")
    print(f"  GET /pay/<id>/qr.png (cache hit)  {result['qr_png_rps']:>9,.0f} req/s   "
          f"rounds {result['rounds']['real']}")
    verdict = "ok" if result["meets_target"] else "BELOW TARGET"
    print(f"  ratio qr.png / bare                {result['ratio']:>9.2f}      (target >= {result['target_ratio']}: "
          f"{verdict})")
    print(f"  real app floor: GET /healthz      {result['app_floor_healthz_rps']:>9,.0f} req/s   "
          f"rounds {result['rounds']['floor']}")
    print(f"  app floor / bare                   {result['floor_ratio']:>9.2f}      "
          "(every app-wide hook, no query: about the most any route can reach)")
    print(f"  qr.png / app floor                 {result['qr_vs_floor']:>9.2f}      "
          "(what the image route itself adds)")
    print(f"  qr.png revalidation (304)         {result['qr_png_304_rps']:>9,.0f} req/s")
    print(f"  GET /pay/<id>/status (polling)    {result['status_json_rps']:>9,.0f} req/s")
    if result["errors"]:
        print(f"  unexpected responses or errors: {result['errors']}")
    print("Codec and rendering (in process):")
    for name, row in result["codec"].items():
        print(f"  {name:<34} {row['per_second']:>9,} /s")
    print(f"Total {result['total_seconds']} s; written to {RESULTS.relative_to(ROOT)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.5, help="length of one measurement (max 5)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating bare/real rounds (max 3)")
    parser.add_argument("--warmup", type=float, default=0.7)
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers for both apps")
    parser.add_argument("--threads", type=int, default=2, help="gunicorn threads per worker for both apps")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--client-threads", type=int, default=4, help="keep-alive connections per client process")
    parser.add_argument("--codec-seconds", type=float, default=0.6, help="budget per bench_vietqr measurement")
    parser.add_argument("--werkzeug", action="store_true", help="serve with werkzeug even if gunicorn is there")
    args = parser.parse_args(argv)
    args.seconds = min(max(args.seconds, 0.5), 5.0)
    args.rounds = min(max(args.rounds, 1), 3)
    args.codec_seconds = min(max(args.codec_seconds, 0.1), 1.0)
    result = run(args)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    report(result)


if __name__ == "__main__":
    main()
