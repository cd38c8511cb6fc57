"""In-process cost of the pages of bench_pages.py, per request: CPU time and Python function calls (issue #17).

The HTTP ratios of bench_pages.py need a quiet machine; these two figures do not (much): CPU time of the process
(``time.process_time``, the best of ``--rounds``) and the number of Python function calls cProfile counts, which
does not depend on the machine's load at all. Production configuration, response cache off, Flask's test client.
Also the wall time (best round; it waits on the database and Redis, so it does depend on the load) and the SQL
statements of one request, and how many of them are the row-level-security ``set_config`` (``--profile`` lists them).

    .venv/bin/python bench/bench_pages.py --keep /tmp/gl --only login   # once: seeds the demo database
    .venv/bin/python bench/profile_pages.py --keep /tmp/gl               # every page
    .venv/bin/python bench/profile_pages.py --keep /tmp/gl --only desk --profile cumtime   # and where it goes

    .venv/bin/python bench/profile_pages.py --keep /tmp/pg --database-url postgresql://postgres@127.0.0.1:5432/bench \
        --only "payment-intent creation" --only SePay   # a database loaded by `flask seed-scale`

Run it from two checkouts on the same kept database to compare code (the POST rows add intents and transfers).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_pages  # noqa: E402


def _client(app, page, values):
    client = app.test_client()
    base = "http://127.0.0.1/"
    if page.login:
        html = client.get("/login", base_url=base).get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
        answer = client.post("/login", base_url=base, data={
            "email": page.login.format(**values), "password": values["password"], "csrf_token": token})
        if answer.status_code != 302:
            raise RuntimeError(f"{page.name}: could not sign in ({answer.status_code})")
    counter = iter(range(int(time.time() * 1000), 1 << 62))
    path = page.path.format(**values)
    headers = {k: v.format(**values) for k, v in page.headers.items()}

    def request():
        body = page.body.format(n=next(counter), **values).encode() if page.body else None
        return client.open(path, method=page.method, data=body, headers=headers, base_url=base)

    return request


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", type=Path, required=True, help="a directory bench_pages.py --keep seeded (with "
                        "--database-url: a directory for its values)")
    parser.add_argument("--database-url", default=None, help="profile a PostgreSQL database loaded by `flask "
                        "seed-scale` (its owner's URL; the app runs as gialam_app) instead of the kept demo")
    parser.add_argument("--requests", type=int, default=20, help="per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--profile", default=None, help="print the profile sorted by this key (cumtime, tottime)")
    parser.add_argument("--dump", type=Path, default=None, help="save each page's profile here (pstats files)")
    parser.add_argument("--lines", type=int, default=30, help="rows of the profile printed")
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"))
    args = parser.parse_args()
    if args.database_url:
        # In a process of its own: config.py reads the environment once, and the set-up's app is not production.
        args.keep.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-c", "import json, sys; sys.path[:0] = sys.argv[3:]; import bench_pages; "
                        "from pathlib import Path; keep = Path(sys.argv[2]); (keep / 'values.json').write_text("
                        "json.dumps(bench_pages.setup_scale(sys.argv[1], keep), default=str))",
                        args.database_url, str(args.keep), str(ROOT), str(ROOT / "bench")],
                       check=True, env={**os.environ, "APP_ENV": "development"})
        values = json.loads((args.keep / "values.json").read_text())
    else:
        values = {**bench_pages.DEMO_VALUES, **json.loads((args.keep / "values.json").read_text())}
    values["sepay_key"] = "bench-sepay-profile"
    os.environ.update({
        "APP_ENV": "production", "RESPONSE_CACHE": "off", "SECRET_KEY": "p" * 64, "PUBLIC_BASE_URL": "http://127.0.0.1",
        "RATELIMIT_STORAGE_URI": args.redis, "API_RATE_LIMIT": "1000000 per second",
        "WEBHOOK_RATE_LIMIT": "1000000 per minute", "ONESTOP_LOOKUP_RATE_LIMIT": "1000000 per second",
        "SEPAY_API_KEY": values["sepay_key"], "DATABASE_URL": values["database_url"],
        "UPLOAD_DIR": values["upload_dir"]})
    from sqlalchemy import event

    from app import create_app
    from app.extensions import db

    app = create_app()
    pages = bench_pages.selected(bench_pages.PAGES + bench_pages.RENDERED_PAGES, args.only)
    statements: list[str] = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute",
                     lambda conn, cursor, statement, *rest: statements.append(statement))
    print(f"{'page':36} {'CPU µs':>8} {'wall µs':>8} {'calls':>8} {'SQL':>5} {'of it set_config':>16}")
    for page in pages:
        request = _client(app, page, values)
        status = request().status_code
        if status != page.expect:
            raise RuntimeError(f"{page.name}: answered {status}, expected {page.expect}")
        for _ in range(5):
            request()
        best = best_wall = float("inf")
        for _ in range(args.rounds):
            started, wall_started = time.process_time(), time.perf_counter()
            for _ in range(args.requests):
                request()
            best = min(best, (time.process_time() - started) / args.requests)
            best_wall = min(best_wall, (time.perf_counter() - wall_started) / args.requests)
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.requests):
            request()
        profile.disable()
        stats = pstats.Stats(profile)
        statements.clear()
        request()
        bookkeeping = sum("set_config" in statement for statement in statements)
        print(f"{page.name:36} {best * 1e6:8.0f} {best_wall * 1e6:8.0f} {stats.total_calls // args.requests:8d} "
              f"{len(statements):5d} "
              f"{bookkeeping:16d}", flush=True)
        if args.profile:
            for statement in statements:
                print("   ", " ".join(statement.split())[:160])
        if args.dump:
            args.dump.mkdir(parents=True, exist_ok=True)
            stats.dump_stats(args.dump / (re.sub(r"\W+", "_", page.name).strip("_") + ".prof"))
        if args.profile:
            stats.sort_stats(args.profile).print_stats(args.lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
