"""Worker memory on the scale data (issue #17: worker RSS within 150 MB): gunicorn with ``gunicorn.conf.py`` (2
workers, the production settings, the response cache on, as the application role under row-level security) is sent
a spread of public pages, every address once or twice (the landing page's districts and searches, /api/communes'
pages, communes' pages, catalogue searches by word and by commune, product pages), then the resident set size of
each worker is read with ``ps -o rss``.

    .venv/bin/python bench/bench_memory.py --database-url postgresql://gialam_app@127.0.0.1:5432/scale_big \\
        [--root PATH_OF_THE_CODE_TO_SERVE] [--requests 3000]

``--root`` serves another checkout of the code (for a before/after); the database is only read.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _addresses(database_url: str, limit: int, spread: int = 1) -> list[str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        conn.execute(text("SELECT set_config('app.all_tenants', 'on', false)"))
        communes = conn.execute(text("SELECT slug, name, code, district_code FROM tenants WHERE status = 'active' "
                                     "ORDER BY random() LIMIT :n"), {"n": 1200 * spread}).all()
        products = conn.execute(text("SELECT t.slug, p.slug, p.name FROM products p JOIN tenants t ON t.id = "
                                     "p.tenant_id WHERE p.status = 'published' ORDER BY random() LIMIT :n"),
                                {"n": 600 * spread}).all()
    engine.dispose()
    words = sorted({w for _c, _s, name in products for w in name.lower().split() if len(w) > 2})
    districts = sorted({d for *_rest, d in communes})
    paths = ["/", "/api/communes", "/marketplace/", "/marketplace/search"]
    paths += [f"/?district={d}" for d in districts]
    paths += [f"/?q={quote(name)}" for _s, name, _c, _d in communes[:150 * spread]]
    paths += [f"/api/communes?page={n}" for n in range(1, 40)] + [f"/api/communes?q={quote(n)}" for _s, n, _c, _d in
                                                                    communes[:100]]
    paths += [f"/c/{slug}/" for slug, *_rest in communes[:700 * spread]]
    paths += [f"/marketplace/search?q={quote(w)}" for w in words[:300 * spread]]
    paths += [f"/marketplace/search?commune={slug}" for slug, *_rest in communes[:400 * spread]]
    paths += [f"/marketplace/p/{c}/{s}" for c, s, _n in products[:400 * spread]]
    random.Random(17).shuffle(paths)
    return (paths * (1 + limit // max(1, len(paths))))[:limit]


def _rss_kb(pid: int) -> int:
    return int(subprocess.run(["ps", "-o", "rss=", "-p", str(pid)], capture_output=True, text=True).stdout.strip() or 0)


def _workers(master: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="the application role's URL (row-level security)")
    parser.add_argument("--root", default=str(ROOT), help="the checkout whose code is served")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--spread", type=int, default=1, help="that many times more distinct addresses")
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"))
    args = parser.parse_args()
    root = Path(args.root).resolve()
    paths = _addresses(args.database_url, args.requests, args.spread)
    port = _free_port()
    env = {**os.environ, "APP_ENV": "production", "DATABASE_URL": args.database_url,
           "SECRET_KEY": secrets.token_hex(32), "PUBLIC_BASE_URL": "http://127.0.0.1",
           "RATELIMIT_STORAGE_URI": args.redis, "PYTHONPATH": str(root), "GUNICORN_BIND": f"127.0.0.1:{port}",
           "GUNICORN_WORKERS": "2", "SEPAY_API_KEY": "bench", "UPLOAD_DIR": "/tmp/bench-memory-uploads"}
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    server = subprocess.Popen([gunicorn, "-c", str(root / "gunicorn.conf.py"), "--chdir", str(root), "wsgi:app"], cwd=root,
                              env=env, stdout=subprocess.DEVNULL, stderr=open("/tmp/bench-memory.log", "w"))
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.2)
        time.sleep(2)
        workers = _workers(server.pid)
        start = {pid: _rss_kb(pid) for pid in workers}
        statuses: dict[int, int] = {}
        sizes: list[tuple[int, str]] = []

        def get(path: str) -> None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=120) as response:
                    sizes.append((len(response.read()), path))
                    statuses[response.status] = statuses.get(response.status, 0) + 1
            except urllib.error.HTTPError as error:
                statuses[error.code] = statuses.get(error.code, 0) + 1

        started = time.monotonic()
        peak = dict(start)
        with ThreadPoolExecutor(max_workers=8) as pool:
            for n, _ in enumerate(pool.map(get, paths)):
                if n % 200 == 0:
                    for pid in _workers(server.pid):
                        peak[pid] = max(peak.get(pid, 0), _rss_kb(pid))
        elapsed = time.monotonic() - started
        end = {pid: _rss_kb(pid) for pid in _workers(server.pid)}
        for pid in end:
            peak[pid] = max(peak.get(pid, 0), end[pid])
        print(f"code: {root}; {len(paths)} requests ({len(set(paths))} addresses) in {elapsed:.0f} s; statuses "
              f"{dict(sorted(statuses.items()))}; answers {sum(n for n, _p in sizes) / 1e6:.1f} MB, largest "
              f"{max(sizes)[0] / 1e3:.0f} KB ({max(sizes)[1]});"
              f" load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        for path in ("/", "/api/communes", "/marketplace/search"):
            print(f"{path}: {max((n for n, p in sizes if p == path), default=0) / 1e3:.0f} KB")
        for pid in sorted(end):
            print(f"worker {pid}: RSS {start.get(pid, 0) / 1024:.0f} MB after start, {end[pid] / 1024:.0f} MB at the "
                  f"end, peak {peak[pid] / 1024:.0f} MB")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
