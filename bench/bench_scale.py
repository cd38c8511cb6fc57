"""Response times of the pages that read the most rows, on the scale data set (`flask seed-scale`), in process.

Run (against a PostgreSQL database loaded by seed-scale; the pages are served as the application role, so the
row-level security policies are paid for as in production):

    DATABASE_URL=postgresql://gialam_app@127.0.0.1:5432/scale_big .venv/bin/python bench/bench_scale.py

Every request is rendered (the response cache and the marketplace page cache are off): this measures the work a
cache miss costs, not the cache. Each page: 3 warm-up requests, then ``--requests`` timed ones; prints the median,
the 95th percentile and the worst, in milliseconds, the number of SQL statements of one request and the size of the
answer.

The district dashboard is read as a signed-in district admin without writing a user to the database: a request
loader of this process alone answers a header carrying a random token with a district admin that exists only in
memory (a ``User`` never added to the session). Every connection of the run is read-only (``SET SESSION
CHARACTERISTICS AS TRANSACTION READ ONLY``), so nothing the pages do can write to the scale data.
"""

from __future__ import annotations

import argparse
import os
import secrets
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


BENCH_HEADER = "X-Bench-District-Admin"


def _sign_in_district_admin_in_memory(app) -> dict:
    """Headers that make a request come from a district admin who exists only in this process (no row written)."""
    from app.auth.models import Membership, User
    from app.extensions import login_manager

    token = secrets.token_urlsafe(16)
    admin = User(id=0, email="bench@district.invalid", name="Bench", password_hash="!", active=True,
                 session_version=1, memberships=[Membership(role="district_admin", tenant_id=None)])

    @login_manager.request_loader
    def _bench_admin(request):
        return admin if secrets.compare_digest(request.headers.get(BENCH_HEADER, ""), token) else None

    return {BENCH_HEADER: token}


def _pages(app) -> list[tuple[str, str]]:
    from app.payments.models import PaymentIntent
    from marketplace.models import Product
    from tenants.models import Tenant
    from tenants.onestop.models import Dossier
    from tenants.scoping import all_tenants, tenant_context
    from tenants.vendors.models import Vendor

    today = date.today()
    with app.app_context():
        with all_tenants():
            slug, commune, vendor, tenant_id = db.session.execute(
                select(Product.slug, Tenant.slug, Vendor.slug, Tenant.id).join(Tenant, Tenant.id == Product.tenant_id)
                .join(Vendor, Vendor.id == Product.vendor_id)
                .where(Product.status == "published").order_by(Product.id.desc()).limit(1)).one()
        with tenant_context(db.session.get(Tenant, tenant_id)):
            dossier = db.session.scalar(select(Dossier.code).order_by(Dossier.id.desc()).limit(1))
            intent = db.session.scalar(select(PaymentIntent.public_id).order_by(PaymentIntent.id.desc()).limit(1))
        db.session.rollback()
    month = f"from={today - timedelta(days=30):%Y-%m-%d}&to={today:%Y-%m-%d}"
    year = f"from={today - timedelta(days=365):%Y-%m-%d}&to={today:%Y-%m-%d}"
    return [
        ("landing page", "/"),
        ("communes JSON (/api/communes)", "/api/communes"),
        ("commune page", f"/c/{commune}/"),
        ("district metrics JSON, 30 days", f"/api/district/metrics?{month}"),
        ("district metrics JSON, 12 months", f"/api/district/metrics?{year}"),
        ("district dashboard HTML, 30 days", f"/district/?{month}"),
        ("district dashboard HTML, 12 months", f"/district/?{year}"),
        ("district CSV, 30 days", f"/district/metrics.csv?{month}"),
        ("marketplace home", "/marketplace/"),
        ("search 'gao tam'", "/marketplace/search?q=gao+tam"),
        ("search 'mat ong hoa nhan'", "/marketplace/search?q=m%E1%BA%ADt+ong+hoa+nh%C3%A3n"),
        ("search 'xyz' (no hit)", "/marketplace/search?q=xyz"),
        ("search page, no query (all products)", "/marketplace/search"),
        ("category page", "/marketplace/category/thuc-pham"),
        ("product page", f"/marketplace/p/{commune}/{slug}"),
        ("producer's storefront", f"/marketplace/shop/{commune}/{vendor}"),
        ("catalogue JSON, no query", "/api/products"),
        ("catalogue JSON 'gao tam'", "/api/products?per_page=24&q=gao+tam"),
        ("public dossier look-up", f"/c/{commune}/onestop/lookup/{dossier}"),
        ("dossier JSON (/api/dossiers)", f"/api/dossiers/{dossier}"),
        ("one-stop public figures", f"/c/{commune}/onestop/figures"),
        ("one-stop metrics JSON", f"/api/c/{commune}/onestop/metrics"),
        ("one-stop procedures", f"/c/{commune}/onestop/procedures"),
        ("market stats JSON", f"/api/c/{commune}/market/stats"),
        ("heritage page", f"/c/{commune}/heritage/"),
        ("notices page", f"/c/{commune}/notices/"),
        ("hosted payment page", f"/pay/{intent}"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=15)
    parser.add_argument("--only", action="append", default=[], metavar="TEXT",
                        help="measure only the pages whose label contains TEXT (repeatable)")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        sys.exit("Set DATABASE_URL to the PostgreSQL database seed-scale loaded.")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RESPONSE_CACHE": False, "MARKETPLACE_PAGE_CACHE_SECONDS": 0,
                      "RATELIMIT_ENABLED": False})
    with app.app_context():
        event.listen(db.engine, "connect", _read_only)
        db.engine.dispose()  # a connection opened before the listener would not be read-only
        counts = {row[0]: row[1] for row in db.session.execute(text(
            "SELECT relname, n_live_tup FROM pg_stat_user_tables WHERE relname IN "
            "('tenants', 'products', 'onestop_dossiers', 'vendors', 'payment_intents')"))}
        db.session.rollback()
    print("rows:", ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())))
    statements = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a, **k: statements.append(1))
    client = app.test_client()
    headers = _sign_in_district_admin_in_memory(app)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'page':36} {'status':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8} {'KB':>7}")
    for label, path in _pages(app):
        if args.only and not any(text.lower() in label.lower() for text in args.only):
            continue
        for _ in range(3):
            response = client.get(path, headers=headers)
        times = []
        for _ in range(args.requests):
            statements.clear()
            start = time.perf_counter()
            response = client.get(path, headers=headers)
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        print(f"{label:36} {response.status_code:>6} {statistics.median(times):8.1f} {p95:8.1f} {times[-1]:8.1f} "
              f"{len(statements):>8} {len(response.data) / 1024:7.0f}", flush=True)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def _read_only(dbapi_connection, _record) -> None:
    """Every connection of the run reads only: the scale data set is shared and must not be written."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")


if __name__ == "__main__":
    main()
