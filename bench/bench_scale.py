"""Response times of the pages that read the most rows, on the scale data set (`flask seed-scale`), in process.

Run (against a PostgreSQL database loaded by seed-scale; the pages are served as the application role, so the
row-level security policies are paid for as in production):

    DATABASE_URL=postgresql://gialam_app@127.0.0.1:5432/scale_big .venv/bin/python bench/bench_scale.py

Every request is rendered (the response cache and the marketplace page cache are off): this measures the work a
cache miss costs, not the cache. Each page: 3 warm-up requests, then ``--requests`` timed ones; prints the median,
the 95th percentile and the worst, in milliseconds, and the number of SQL statements of one request.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("APP_ENV", "development")

from sqlalchemy import event, select, text  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402


def _pages(app) -> list[tuple[str, str]]:
    from marketplace.models import Product
    from tenants.models import Tenant
    from tenants.scoping import all_tenants

    today = date.today()
    with app.app_context(), all_tenants():
        slug, commune = db.session.execute(
            select(Product.slug, Tenant.slug).join(Tenant, Tenant.id == Product.tenant_id)
            .where(Product.status == "published").order_by(Product.id.desc()).limit(1)).one()
        db.session.rollback()
    month = f"from={today - timedelta(days=30):%Y-%m-%d}&to={today:%Y-%m-%d}"
    year = f"from={today - timedelta(days=365):%Y-%m-%d}&to={today:%Y-%m-%d}"
    return [
        ("district metrics JSON, 30 days", f"/api/district/metrics?{month}"),
        ("district metrics JSON, 12 months", f"/api/district/metrics?{year}"),
        ("marketplace home", "/marketplace/"),
        ("search 'gao tam'", "/marketplace/search?q=gao+tam"),
        ("search 'mat ong hoa nhan'", "/marketplace/search?q=m%E1%BA%ADt+ong+hoa+nh%C3%A3n"),
        ("search 'xyz' (no hit)", "/marketplace/search?q=xyz"),
        ("search page, no query (all products)", "/marketplace/search"),
        ("category page", "/marketplace/category/thuc-pham"),
        ("product page", f"/marketplace/p/{commune}/{slug}"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=15)
    parser.add_argument("--only", default="", help="measure only the pages whose label contains one of these "
                                                   "comma-separated texts (e.g. 'marketplace,search,product,page')")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        sys.exit("Set DATABASE_URL to the PostgreSQL database seed-scale loaded.")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RESPONSE_CACHE": False, "MARKETPLACE_PAGE_CACHE_SECONDS": 0,
                      "RATELIMIT_ENABLED": False})
    with app.app_context():
        counts = {row[0]: row[1] for row in db.session.execute(text(
            "SELECT relname, n_live_tup FROM pg_stat_user_tables WHERE relname IN "
            "('tenants', 'products', 'onestop_dossiers', 'vendors', 'payment_intents')"))}
        db.session.rollback()
    print("rows:", ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())))
    statements = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a, **k: statements.append(1))
    client = app.test_client()
    print(f"{'page':36} {'status':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8}")
    for label, path in _pages(app):
        if args.only and not any(part in label for part in args.only.split(",")):
            continue
        for _ in range(3):
            response = client.get(path)
        times = []
        for _ in range(args.requests):
            statements.clear()
            start = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        print(f"{label:36} {response.status_code:>6} {statistics.median(times):8.1f} {p95:8.1f} {times[-1]:8.1f} "
              f"{len(statements):>8}")


if __name__ == "__main__":
    main()
