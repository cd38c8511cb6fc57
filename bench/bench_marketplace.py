"""Throughput of the marketplace's public pages (home, search, product) as ratios to a bare Flask endpoint served
the same way in the same run.

Run:  .venv/bin/python bench/bench_marketplace.py [--seconds 2.5] [--rounds 2] [--workers 1] [--threads 2]

1. migrates a temporary SQLite database and seeds the marketplace demo (13 producers, 139 products, pictures) into
   the communes it names;
2. starts two gunicorn servers with identical settings (gthread workers, keep-alive), as production serves the
   app: the real application (``wsgi:app``, production configuration, that database) and a bare Flask app whose
   one route returns a constant HTML body the size of the home page;
3. measures requests/second of each page with the same client (separate processes, threads looping over
   keep-alive ``http.client`` connections, a visitor without a session: the pages are rendered every time, no
   If-None-Match is sent), bare and real in alternating rounds, keeping the best round of each;
4. prints each page's ratio to bare (the aim is >= 0.3) and writes bench/results/marketplace.json.

Visitors without cookies are served from the short page cache (marketplace/pagecache.py), as production does;
``--no-page-cache`` measures a render on every request instead (the cost of a miss).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
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
RESULTS = BENCH_DIR / "results" / "marketplace.json"
TARGET_RATIO = 0.3

bare_app = Flask("bare")
_BARE_BODY = b"<!doctype html>" + b"x" * max(0, int(os.environ.get("BENCH_BARE_SIZE", "14000")) - 15)


@bare_app.get("/bare")
def _bare():
    return Response(_BARE_BODY, mimetype="text/html")


def make_database(directory: Path) -> dict:
    """A migrated SQLite database with the marketplace demo; returns its URL and the paths to measure."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import logging

    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from app import create_app
    from app.extensions import db
    from marketplace import demo
    from marketplace.demo_catalogue import PRODUCERS
    from marketplace.models import Product
    from tenants.models import Tenant
    from tenants.scoping import all_tenants

    url = f"sqlite:///{directory / 'bench.sqlite'}"
    uploads = directory / "uploads"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secrets.token_hex(32),
                      "UPLOAD_DIR": str(uploads)})
    with app.app_context():
        logging.disable(logging.INFO)
        try:
            upgrade()
        finally:
            logging.disable(logging.NOTSET)
        slugs = sorted({p[0] for p in PRODUCERS})
        db.session.execute(insert(Tenant), [
            {"slug": slug, "name": slug.replace("-", " ").title(), "kind": "xã", "code": f"{10000 + i}",
             "district_name": "Gia Lâm", "district_code": "018", "province_name": "Hà Nội", "status": "active"}
            for i, slug in enumerate(slugs)])
        db.session.commit()
        demo.seed("bench-password")
        with all_tenants():
            product = db.session.execute(
                select(Tenant.slug, Product.slug).join(Tenant, Tenant.id == Product.tenant_id).limit(1)).one()
        db.engine.dispose()
    return {"database_url": url, "upload_dir": str(uploads), "paths": {
        "home": "/marketplace/",
        "search": "/marketplace/search?q=bat+trang",
        "product": f"/marketplace/p/{product[0]}/{product[1]}",
    }}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(port: int, path: str, timeout: float = 30.0) -> None:
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


def start(target: str, env: dict, ready: str, args) -> tuple[subprocess.Popen, int]:
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or shutil.which("gunicorn")
    if not gunicorn:
        raise SystemExit("gunicorn is not installed (it is a runtime dependency: pip install -e .)")
    port = _free_port()
    command = [gunicorn, target, "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
               "--worker-class", "gthread", "--threads", str(args.threads), "--keep-alive", "30",
               "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=ROOT if target.startswith("wsgi") else BENCH_DIR,
                               env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_ready(port, ready)
    except RuntimeError:
        process.terminate()
        raise
    return process, port


def _client(port: int, path: str, threads: int, start_at: float, seconds: float, queue) -> None:
    counts = [[0, 0] for _ in range(threads)]

    def loop(slot):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.time() < start_at:
            time.sleep(0.001)
        while time.time() < start_at + seconds:
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                slot[0 if response.status == 200 else 1] += 1
            except OSError:
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


def measure(port: int, path: str, args) -> float:
    """Requests per second over ``args.seconds`` with ``args.clients`` processes of ``args.connections`` threads."""
    queue = multiprocessing.Queue()
    start_at = time.time() + 0.5
    procs = [multiprocessing.Process(target=_client, args=(port, path, args.connections, start_at, args.seconds,
                                                             queue)) for _ in range(args.clients)]
    for proc in procs:
        proc.start()
    results = [queue.get(timeout=args.seconds + 30) for _ in procs]
    for proc in procs:
        proc.join()
    ok, errors = sum(r[0] for r in results), sum(r[1] for r in results)
    if errors:
        raise RuntimeError(f"{errors} failed requests on {path}")
    return ok / args.seconds


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--no-page-cache", action="store_true",
                        help="render every request (MARKETPLACE_PAGE_CACHE_SECONDS=0): the cost of a cache miss")
    args = parser.parse_args(argv)
    args.seconds, args.rounds = min(max(args.seconds, 0.5), 5.0), min(max(args.rounds, 1), 3)

    with tempfile.TemporaryDirectory(prefix="bench-marketplace-") as tmp:
        info = make_database(Path(tmp))
        real_env = {"APP_ENV": "production", "DATABASE_URL": info["database_url"], "UPLOAD_DIR": info["upload_dir"],
                    "SECRET_KEY": secrets.token_hex(32),
                    "MARKETPLACE_PAGE_CACHE_SECONDS": "0" if args.no_page_cache else "15"}
        servers = []
        try:
            real, real_port = start("wsgi:app", real_env, info["paths"]["home"], args)
            servers.append(real)
            conn = http.client.HTTPConnection("127.0.0.1", real_port, timeout=10)
            conn.request("GET", info["paths"]["home"])
            size = len(conn.getresponse().read())
            conn.close()
            bare, bare_port = start("bench_marketplace:bare_app", {"BENCH_BARE_SIZE": str(size)}, "/bare", args)
            servers.append(bare)
            for path in info["paths"].values():  # warm up: templates compiled, queries cached
                _wait_ready(real_port, path)
            best = {"bare": 0.0, **{name: 0.0 for name in info["paths"]}}
            for _round in range(args.rounds):
                best["bare"] = max(best["bare"], measure(bare_port, "/bare", args))
                for name, path in info["paths"].items():
                    best[name] = max(best[name], measure(real_port, path, args))
        finally:
            for server in servers:
                server.terminate()
                try:
                    server.wait(10)
                except subprocess.TimeoutExpired:
                    server.kill()

    result = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "settings": {k: getattr(args, k) for k in ("seconds", "rounds", "workers", "threads", "clients",
                                                   "connections")},
        "page_cache": not args.no_page_cache,
        "home_page_bytes": size,
        "requests_per_second": {k: round(v, 1) for k, v in best.items()},
        "ratio_to_bare": {name: round(best[name] / best["bare"], 3) for name in info["paths"]},
        "target": TARGET_RATIO,
        "load_average": os.getloadavg()[0],
    }
    print(f"page cache: {'off (every request rendered)' if args.no_page_cache else 'on (15 s)'}")
    print(f"bare Flask endpoint ({size} bytes): {best['bare']:8.1f} req/s")
    for name, path in info["paths"].items():
        ratio = result["ratio_to_bare"][name]
        mark = "ok" if ratio >= TARGET_RATIO else "below the aim"
        print(f"{name:8} {path:48} {best[name]:8.1f} req/s  ratio {ratio:.2f}  ({mark}, aim >= {TARGET_RATIO})")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main()
