"""The checkout storm (issue #17): 1,000 guest checkouts at once against gunicorn on PostgreSQL, while a few visitors
keep reading the catalogue; reports p50/p99 of the catalogue and of checkout, the count of 503s, and that every
accepted order exists and holds its stock (nothing lost).

    .venv/bin/python bench/bench_storm.py --database-url postgresql://postgres@127.0.0.1:5432/storm --fresh
    .venv/bin/python bench/bench_storm.py --database-url ... --shed-ms 0      # the same storm without shedding
    .venv/bin/python bench/bench_storm.py --database-url ... --new-ms 0       # new carts under the 2 s bound, as before
    .venv/bin/python bench/bench_storm.py --database-url ... --new-per-second 10   # a larger ration of new carts

What it does:

1. ``--fresh`` empties the database (DROP SCHEMA public) and migrates it; then it writes (or finds) one commune
   ``storm-xa`` with one vendor and ``--products`` published products of large stock;
2. serves the real application (``wsgi:app``, production configuration, ``gunicorn.conf.py``: 2 gthread workers)
   as the application role under row-level security, with the checkout's per-address limits lifted (every client
   is 127.0.0.1), ``SHED_QUEUE_MS=--shed-ms`` and, when given, ``SHED_NEW_QUEUE_MS=--new-ms`` and
   ``SHED_NEW_PER_SECOND=--new-per-second`` (the ration of shoppers' first carts; config.py's defaults otherwise);
3. starts ``--checkouts`` clients at once, each a guest: adds one unit of a product to the cart (POST), opens the
   checkout form (GET, its CSRF token), sends it (POST; a 302 to the order page is an accepted order). A 503 ends
   that client's checkout, unless ``--retries`` are left: then it waits ``Retry-After`` and sends the same step
   again, as a shopper clicking again would. Meanwhile ``--readers`` visitors loop over
   ``/api/products`` and ``/marketplace/`` (the cached catalogue) until the last checkout ends;
4. checks in the database, as the owner: every accepted order exists, each product's reserved units grew by exactly
   the accepted orders' units, and no order exists that no client was told about (or says how many);
5. prints a table, the orders completed against the shoppers admitted (a cart add answered 302), and writes
   bench/results/storm.json.

The clients are one asyncio process (raw HTTP/1.1, one connection per request, as 1,000 separate browsers), on the
same machine as the server: they take part of its CPU, as in every run of this script.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from bench_pages import ROOT, Server, app_url, machine  # noqa: E402

RESULTS = BENCH_DIR / "results" / "storm.json"
COMMUNE = "storm-xa"
STOCK = 1_000_000
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


# ---------------------------------------------------------------------------------------------- setup
def setup(owner_url: str, fresh: bool, products: int) -> dict:
    """The commune, vendor and products of the storm (written once), and the counts before it."""
    os.environ.setdefault("APP_ENV", "testing")  # this process only writes the data; the server is production
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from sqlalchemy import create_engine, func, select, text

    from app import _normalise_database_url, create_app
    from app.extensions import db
    from marketplace import services
    from marketplace.models import Order, Product
    from tenants.models import Tenant
    from tenants.rls import grant_app_role
    from tenants.scoping import all_tenants, tenant_context
    from tenants.vendors.models import Vendor
    from tenants.vendors.payments import BankDetails, set_vendor_account

    owner = _normalise_database_url(owner_url)
    if fresh:
        from flask_migrate import upgrade

        engine = create_engine(owner)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        with create_app({"SQLALCHEMY_DATABASE_URI": owner, "CACHE_STAMP": "memory"}).app_context():
            upgrade()
            db.engine.dispose()
    engine = create_engine(owner)
    with engine.begin() as conn:
        grant_app_role(conn, "gialam_app")
    engine.dispose()
    app = create_app({"SQLALCHEMY_DATABASE_URI": owner, "CACHE_STAMP": "memory", "RESPONSE_CACHE": False})
    with app.app_context():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == COMMUNE))
        if tenant is None:
            tenant = Tenant(slug=COMMUNE, name="Xã Bão Thử", kind="xã", code="99901", district_name="Gia Lâm",
                            district_code="018", province_name="Hà Nội", status="active")
            db.session.add(tenant)
            db.session.commit()
        with tenant_context(tenant):
            vendor = db.session.scalar(select(Vendor).where(Vendor.slug == "storm-shop"))
            if vendor is None:
                vendor = Vendor(business_name="Cửa hàng thử tải", slug="storm-shop", owner_name="Nguyễn Văn An",
                                phone="0912345678", goods_category="handicrafts", description="", active=True,
                                at_market=False, kind="household")
                db.session.add(vendor)
                db.session.commit()
                set_vendor_account(vendor, BankDetails("970436", "1099900001", "NGUYEN VAN AN"))
                db.session.commit()
            have = db.session.scalars(select(Product).where(Product.vendor_id == vendor.id)
                                      .order_by(Product.id)).all()
            for n in range(len(have), products):
                product = services.create_product(vendor.id, {
                    "name": f"Gạo tám thơm thử tải {n + 1}", "category": "thuc-pham", "price": "120000",
                    "stock": str(STOCK), "unit": "kg"})
                product.images = [secrets.token_hex(32)]
                services.set_published(vendor.id, product.id, True)
                db.session.commit()
            rows = db.session.execute(select(Product.id, Product.reserved).where(Product.vendor_id == vendor.id)
                                      .order_by(Product.id).limit(products)).all()
        with all_tenants():
            orders = db.session.scalar(select(func.count()).select_from(Order))
        db.engine.dispose()
    return {"database_url": app_url(owner_url), "owner_url": owner, "products": [r.id for r in rows],
            "reserved_before": {r.id: r.reserved for r in rows}, "orders_before": orders}


def verify(values: dict, accepted: list[tuple[str, int]]) -> dict:
    """As the owner: the accepted orders exist with their lines; reserved units grew by exactly theirs."""
    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import db
    from marketplace.models import Order, OrderLine, Product, SubOrder
    from tenants.scoping import all_tenants

    app = create_app({"SQLALCHEMY_DATABASE_URI": values["owner_url"], "CACHE_STAMP": "memory",
                      "RESPONSE_CACHE": False})
    codes = [code for code, _pid in accepted]
    with app.app_context(), all_tenants():
        found = {}
        for start in range(0, len(codes), 500):
            chunk = codes[start:start + 500]
            rows = db.session.execute(
                select(Order.code, OrderLine.product_id, func.sum(OrderLine.quantity))
                .join(SubOrder, SubOrder.order_id == Order.id).join(OrderLine, OrderLine.sub_order_id == SubOrder.id)
                .where(Order.code.in_(chunk)).group_by(Order.code, OrderLine.product_id)).all()
            found.update({code: (product_id, quantity) for code, product_id, quantity in rows})
        reserved = dict(db.session.execute(select(Product.id, Product.reserved)
                                           .where(Product.id.in_(values["products"]))).all())
        orders_after = db.session.scalar(select(func.count()).select_from(Order))
        db.engine.dispose()
    missing = [code for code, pid in accepted if found.get(code) != (pid, 1)]
    expected = {pid: values["reserved_before"][pid] + sum(1 for _c, p in accepted if p == pid)
                for pid in values["products"]}
    return {"accepted": len(accepted), "found": len(accepted) - len(missing), "missing": missing[:20],
            "reserved_as_expected": reserved == expected,
            "reserved_diff": {pid: reserved[pid] - expected[pid] for pid in expected if reserved[pid] != expected[pid]},
            "orders_created": orders_after - values["orders_before"],
            "orders_no_client_heard_of": orders_after - values["orders_before"] - len(accepted)}


# ---------------------------------------------------------------------------------------------- HTTP
class Answer:
    __slots__ = ("status", "headers", "body", "seconds")

    def __init__(self, status: int, headers: dict, body: bytes, seconds: float):
        self.status, self.headers, self.body, self.seconds = status, headers, body, seconds


async def fetch(port: int, method: str, path: str, *, cookie: str = "", form: dict | None = None,
                timeout: float = 120) -> Answer:
    """One request on its own connection (Connection: close); status 0 for a connection error or a timeout."""
    from urllib.parse import urlencode

    started = time.monotonic()
    body = urlencode(form).encode() if form is not None else b""
    head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close", "User-Agent: bench_storm"]
    if cookie:
        head.append(f"Cookie: {cookie}")
    if form is not None:
        head += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
                await writer.drain()
                data = await reader.read()
            finally:
                writer.close()
    except (OSError, TimeoutError, asyncio.TimeoutError):
        return Answer(0, {}, b"", time.monotonic() - started)
    header_end = data.find(b"\r\n\r\n")
    lines = data[:header_end].decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return Answer(0, {}, b"", time.monotonic() - started)
    headers: dict = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "set-cookie":
            headers.setdefault("set-cookie", []).append(value.strip())
        else:
            headers[name] = value.strip()
    return Answer(status, headers, data[header_end + 4:], time.monotonic() - started)


def _cookie(answer: Answer, cookie: str) -> str:
    for value in answer.headers.get("set-cookie", []):
        pair = value.split(";", 1)[0]
        if pair.startswith("session="):
            return pair
    return cookie


async def one_checkout(port: int, n: int, product_id: int, record: dict, retries: int = 0) -> None:
    """One shopper: cart add, checkout form, checkout. A 503 ends the checkout, unless ``retries`` are left: then
    the shopper waits ``Retry-After`` and sends the same step again (as a browser's user would click again)."""
    started = time.monotonic()
    left = [retries]

    async def step(kind: str, method: str, path: str, **kwargs) -> Answer:
        while True:
            answer = await fetch(port, method, path, **kwargs)
            record["requests"].setdefault(kind, []).append((answer.status, answer.seconds))
            if answer.status != 503 or left[0] <= 0:
                return answer
            left[0] -= 1
            record["retries"] = record.get("retries", 0) + 1
            try:
                pause = float(answer.headers.get("retry-after", "2"))
            except ValueError:
                pause = 2.0
            await asyncio.sleep(min(max(pause, 0.0), 30.0))

    added = await step("cart add (POST)", "POST", "/marketplace/cart/add", form={"product_id": product_id, "quantity": 1})
    if added.status != 302:
        record["outcomes"].append(("cart", added.status, time.monotonic() - started))
        return
    record["admitted"] = record.get("admitted", 0) + 1
    cookie = _cookie(added, "")
    form_page = await step("checkout form (GET)", "GET", "/marketplace/checkout", cookie=cookie)
    match = _CSRF.search(form_page.body.decode("utf-8", "replace")) if form_page.status == 200 else None
    if match is None:
        record["outcomes"].append(("form", form_page.status, time.monotonic() - started))
        return
    cookie = _cookie(form_page, cookie)
    sent = await step("checkout (POST)", "POST", "/marketplace/checkout", cookie=cookie, form={
        "csrf_token": match.group(1) or match.group(2), "name": f"Khách thử tải {n}", "phone": f"09{n:08d}",
        "address": f"Số {n} đường Thử Tải, Trâu Quỳ", "note": ""})
    location = sent.headers.get("location", "")
    if sent.status == 302 and "/marketplace/orders/" in location:
        code = location.rstrip("/").rsplit("/", 1)[-1]
        record["accepted"].append((code, product_id))
        record["outcomes"].append(("accepted", 302, time.monotonic() - started))
    else:
        record["outcomes"].append(("checkout", sent.status, time.monotonic() - started))


async def reader(port: int, stop: asyncio.Event, record: dict) -> None:
    paths = ("/api/products", "/marketplace/")
    n = 0
    while not stop.is_set():
        path = paths[n % 2]
        n += 1
        answer = await fetch(port, "GET", path)
        record["requests"].setdefault(f"catalogue {path}", []).append((answer.status, answer.seconds))
        mark = answer.headers.get("x-cache", "rendered") if answer.status == 200 else str(answer.status)
        record["catalogue_answers"][mark] = record["catalogue_answers"].get(mark, 0) + 1
        await asyncio.sleep(0.05)


async def storm(port: int, values: dict, checkouts: int, readers: int, retries: int = 0) -> dict:
    record: dict = {"requests": {}, "outcomes": [], "accepted": [], "catalogue_answers": {}}
    stop = asyncio.Event()
    reading = [asyncio.create_task(reader(port, stop, record)) for _ in range(readers)]
    await asyncio.sleep(1)  # the readers' first answers: the catalogue before the storm
    products = values["products"]
    started = time.monotonic()
    await asyncio.gather(*(one_checkout(port, n, products[n % len(products)], record, retries)
                           for n in range(checkouts)))
    record["storm_seconds"] = time.monotonic() - started
    stop.set()
    await asyncio.gather(*reading)
    return record


# ---------------------------------------------------------------------------------------------- report
def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def summarise(record: dict) -> dict:
    rows = {}
    for kind, answers in sorted(record["requests"].items()):
        times = [seconds for _status, seconds in answers]
        statuses: dict = {}
        for status, _seconds in answers:
            statuses[str(status)] = statuses.get(str(status), 0) + 1
        shed = [seconds for status, seconds in answers if status == 503]
        rows[kind] = {"requests": len(answers), "statuses": statuses, "p50_ms": _percentile(times, 50) * 1000,
                      "p99_ms": _percentile(times, 99) * 1000, "max_ms": max(times) * 1000,
                      "503_p99_ms": _percentile(shed, 99) * 1000 if shed else None}
    outcomes: dict = {}
    for stage, status, _seconds in record["outcomes"]:
        key = "accepted" if stage == "accepted" else f"{stage} {status}"
        outcomes[key] = outcomes.get(key, 0) + 1
    whole = [seconds for _stage, _status, seconds in record["outcomes"]]
    return {"rows": rows, "outcomes": outcomes, "storm_seconds": record["storm_seconds"],
            "admitted": record.get("admitted", 0), "retries": record.get("retries", 0),
            "catalogue_answers": record.get("catalogue_answers", {}),
            "checkout_whole_p50_ms": _percentile(whole, 50) * 1000,
            "checkout_whole_p99_ms": _percentile(whole, 99) * 1000}


def table(report: dict) -> str:
    out = ["| requests | n | statuses | p50 | p99 | max |", "|---|---|---|---|---|---|"]
    for kind, row in report["summary"]["rows"].items():
        statuses = ", ".join(f"{s}: {c}" for s, c in sorted(row["statuses"].items()))
        out.append(f"| {kind} | {row['requests']} | {statuses} | {row['p50_ms']:,.0f} ms | {row['p99_ms']:,.0f} ms "
                   f"| {row['max_ms']:,.0f} ms |")
    summary, check = report["summary"], report["check"]
    out.append("")
    out.append(f"Checkouts: {report['checkouts']} at once, {report['readers']} catalogue readers, "
               f"SHED_QUEUE_MS={report['shed_ms']}; storm {summary['storm_seconds']:.0f} s; a whole checkout "
               f"(3 requests) p50 {summary['checkout_whole_p50_ms']:,.0f} ms, p99 "
               f"{summary['checkout_whole_p99_ms']:,.0f} ms; outcomes: "
               + ", ".join(f"{k}: {v}" for k, v in sorted(summary["outcomes"].items())))
    admitted = summary["admitted"]
    completed = summary["outcomes"].get("accepted", 0)
    out.append(f"Orders completed / shoppers admitted: {completed} / {admitted}"
               + (f" ({completed / admitted:.0%})" if admitted else "")
               + f"; SHED_NEW_QUEUE_MS={report.get('new_ms')}, SHED_NEW_PER_SECOND={report.get('new_per_second')}"
               + f"; retries sent {summary['retries']} (up to {report.get('retries', 0)} a shopper)")
    out.append("Catalogue answers (X-Cache): " + ", ".join(
        f"{k}: {v}" for k, v in sorted(summary.get("catalogue_answers", {}).items())))
    out.append(f"Nothing lost: {check['found']}/{check['accepted']} accepted orders found with their line; "
               f"reserved stock {'equals' if check['reserved_as_expected'] else 'DIFFERS FROM'} the accepted units "
               f"{check['reserved_diff'] or ''}; orders created {check['orders_created']} "
               f"(no client heard of {check['orders_no_client_heard_of']}).")
    return "\n".join(out)


def _config(name: str) -> int:
    """A setting as the server's production configuration reads it (the environment, else config.py)."""
    from config import ProductionConfig

    return getattr(ProductionConfig, name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="the owner's URL of a PostgreSQL database")
    parser.add_argument("--fresh", action="store_true", help="empty and migrate the database first (DROP SCHEMA)")
    parser.add_argument("--checkouts", type=int, default=1000)
    parser.add_argument("--readers", type=int, default=10)
    parser.add_argument("--products", type=int, default=5)
    parser.add_argument("--shed-ms", type=int, default=2000, help="SHED_QUEUE_MS of the server (0: no shedding)")
    parser.add_argument("--new-ms", type=int, default=None,
                        help="SHED_NEW_QUEUE_MS of the server (0: a first cart waits as any request; default: config.py's)")
    parser.add_argument("--new-per-second", type=int, default=None,
                        help="SHED_NEW_PER_SECOND of the server (new carts a worker admits a second past --new-ms)")
    parser.add_argument("--retries", type=int, default=0,
                        help="a shopper refused (503) waits Retry-After and sends the same step again, this many times")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()
    print(f"setting up {args.database_url.rsplit('/', 1)[-1]}", flush=True)
    values = setup(args.database_url, args.fresh, args.products)
    directory = Path(tempfile.mkdtemp(prefix="storm-"))
    env = {"APP_ENV": "production", "DATABASE_URL": values["database_url"], "SECRET_KEY": secrets.token_hex(32),
           "PUBLIC_BASE_URL": "http://127.0.0.1", "RATELIMIT_STORAGE_URI": args.redis, "PYTHONPATH": str(ROOT),
           "UPLOAD_DIR": str(directory / "uploads"), "CHECKOUT_RATE_LIMIT": "1000000 per minute",
           "MARKETPLACE_HELD_UNITS_LIMIT": "100000000", "SHED_QUEUE_MS": str(args.shed_ms)}
    if args.new_ms is not None:
        env["SHED_NEW_QUEUE_MS"] = str(args.new_ms)
    if args.new_per_second is not None:
        env["SHED_NEW_PER_SECOND"] = str(args.new_per_second)
    server = Server("wsgi:app", env, "gthread", ROOT, directory / "server.log")
    try:
        for path in ("/api/products", "/marketplace/"):  # cached by both workers (most likely) before the storm
            for _ in range(4):
                asyncio.run(fetch(server.port, "GET", path))
        print(f"storm: {args.checkouts} checkouts, {args.readers} readers", flush=True)
        record = asyncio.run(storm(server.port, values, args.checkouts, args.readers, args.retries))
    finally:
        server.stop()
    report = {"machine": machine(), "checkouts": args.checkouts, "readers": args.readers, "shed_ms": args.shed_ms,
              "retries": args.retries,
              "new_ms": args.new_ms if args.new_ms is not None else _config("SHED_NEW_QUEUE_MS"),
              "new_per_second": args.new_per_second if args.new_per_second is not None
              else _config("SHED_NEW_PER_SECOND"),
              "summary": summarise(record), "check": verify(values, record["accepted"])}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(table(report))
    ok = report["check"]["reserved_as_expected"] and not report["check"]["missing"]
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
