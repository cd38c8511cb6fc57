"""Throughput, p50 and p99 of the site's pages, each as a ratio to a bare Flask endpoint served the same way in the
same run. `make bench` runs it on the demo data (about four minutes on a 2-vCPU machine), `make bench-scale` on the
scale data.

    .venv/bin/python bench/bench_pages.py [--seconds 4] [--connections 16] [--worker-class auto|sync|gthread]
    .venv/bin/python bench/bench_pages.py --database-url postgresql://postgres@127.0.0.1:5432/scale_big

What it does:

1. builds a temporary SQLite database with the demo data (`flask seed-demo`: 22 communes, two weeks of payments),
   plus an API key and a payment intent for the API and QR pages;
2. serves the real application (``wsgi:app``, production configuration) and a bare Flask app (one route answering
   "Hello") with the same gunicorn settings (``gunicorn.conf.py``: 2 workers), each in its own process;
3. with ``--worker-class auto`` measures the bare endpoint, a public page and the app's do-nothing route under
   ``sync`` and ``gthread`` once and keeps the class under which the application serves more;
4. loads every page of ``PAGES`` with ``wrk`` on loopback (``-t2 -c16``, a fixed time each), the bare endpoint before
   and after them; pages the response cache serves are measured again on a server with the cache off ("before");
5. prints a Markdown table (req/s, p50, p99, ratio to bare) and writes bench/results/pages.json.

With ``--database-url`` (the owner's URL of a PostgreSQL database loaded by ``flask seed-scale``) step 1 is
``setup_scale``: nothing is seeded, the values are found in the data (the commune of the first published product, its
newest dossier and fee intent), and only an API key (every run) and a district admin (once; its password reset every
run) are written. The servers run as the application role ``gialam_app`` under row-level security, as production
does. The pages are ``SCALE_PAGES``: ``PAGES``, the district's rows with one connection per worker (a render takes
seconds), and ``/api/district/metrics`` for 30 days and 12 months. Results go to
bench/results/pages_scale.json.

A page is one line of ``PAGES``, with a path that may name values the setup found (``{slug}``, ``{qr_path}``,
``{product_path}``, ``{dossier_path}``). The marketplace pages are measured here with the rest (they had their own
script, bench_marketplace.py, while the marketplace had its own page cache). The public dossier page is rate-limited
per client in production; the benchmark lifts that limit, as it does the API's, to measure the page itself.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results" / "pages.json"
SCALE_RESULTS = BENCH_DIR / "results" / "pages_scale.json"
GUNICORN_CONF = ROOT / "gunicorn.conf.py"
BARE_TARGET = 0.5
WORKERS = 2  # gunicorn workers of every server here (GUNICORN_WORKERS), one per vCPU of the reference machine
ROW_REQUESTS = 20  # a slow row runs long enough for about this many answers...
MAX_ROW_SECONDS = 60  # ...but no longer than this
DEMO_MARKET_DAYS = 14  # of market sales (the demo's default is 90): the seeding stays short
DEMO_ONESTOP_MONTHS = 1  # of dossiers (about 2,500; the demo's default is 12)

# ---------------------------------------------------------------------------------------------- the bare app
# Served as bench_pages:bare_app (gunicorn --chdir bench), with the same gunicorn.conf.py as the real app.
bare_app = Flask("bare")


@bare_app.get("/")
def hello():
    return "Hello"


# ---------------------------------------------------------------------------------------------- the pages
@dataclass(frozen=True)
class Page:
    name: str
    path: str  # may use {slug}, {qr_path}... from the setup
    method: str = "GET"
    body: str | None = None  # a template like path; {n} gives each request a unique number (wrk's Lua)
    headers: dict = field(default_factory=dict)
    expect: int = 200
    cached: bool = False  # served by the response cache to visitors: also measured with the cache off
    login: str | None = None  # sign in as this user first (a template like path) and send its session cookie
    public: bool = True  # the same for every visitor (aim: >= 0.5 of bare)
    connections: int | None = None  # wrk connections for this row when not --connections (a page slower than 1 s)


SEPAY_BODY = ('{{"id": {n}, "gateway": "VietinBank", "transactionDate": "2026-11-30 10:00:00", '
              '"accountNumber": "{account_number}", "code": null, "content": "CT DEN BENCH {n} chuyen tien", '
              '"transferType": "in", "transferAmount": 10000, "accumulated": 0, "subAccount": null, '
              '"referenceCode": "BENCH.{n}", "description": "BankAPINotify bench"}}')

PAGES = [
    Page("landing /", "/", cached=True),
    Page("commune page /c/<slug>/", "/c/{slug}/", cached=True),
    Page("/api/communes", "/api/communes", cached=True),
    Page("catalogue JSON /api/products", "/api/products", cached=True),  # without a query: cached (#17)
    Page("login page", "/login"),
    Page("cached QR image", "{qr_path}"),
    Page("payment-intent creation (API)", "/v1/payment_intents", method="POST", public=False,
         body="amount=150000&currency=vnd&description=Bench+{n}",
         headers={"Authorization": "Bearer {api_key}", "Content-Type": "application/x-www-form-urlencoded"}),
    Page("bank notification (SePay)", "/webhooks/sepay", method="POST", public=False, body=SEPAY_BODY,
         headers={"Authorization": "Apikey {sepay_key}", "Content-Type": "application/json"}),
    Page("district dashboard", "/district/", login="{district_email}", public=False),
    Page("marketplace home", "/marketplace/", cached=True),
    Page("marketplace search", "/marketplace/search?q={search}", cached=True),
    Page("marketplace product page", "{product_path}", cached=True),
    Page("public dossier page", "{dossier_path}"),
    Page("one-stop public figures", "/c/{slug}/onestop/figures", cached=True),
    Page("market stats JSON", "/api/c/{slug}/market/stats", cached=True),
]

# Pages rendered per request for a signed-in user, and the catalogue JSON with a query (issue #17's rows), on the
# demo data only (the scale setup makes no commune admin or vendor to sign in as). The district dashboard once more
# with one connection per worker: the time one district admin waits for it (its aim, under 50 ms on the demo), where
# the row above measures 16 admins asking at once, each waiting behind the others' renders.
DISTRICT_CONNECTIONS = 2
RENDERED_PAGES = [
    Page("district dashboard, one admin per worker", "/district/", login="{district_email}", public=False,
         connections=DISTRICT_CONNECTIONS),
    Page("catalogue JSON with a query", "/api/products?per_page=24&q={search}"),
    Page("officer's desk", "/c/{slug}/desk", login="admin.{slug}@gialam.demo", public=False),
    Page("vendor's sales page", "/c/{slug}/market/me/sales", login="vendor.{slug}.1@gialam.demo", public=False),
]

# On the scale data (--database-url): the same pages, the district's rows measured with one connection per worker
# (a render takes seconds with 3,321 communes: 16 connections would only queue, and time out, behind it), and
# the district's public JSON for a month and for a year (not cached: every period is its own query).
SCALE_PAGES = [
    replace(page, connections=DISTRICT_CONNECTIONS) if page.path.startswith("/district/") else page for page in PAGES
] + [
    Page("district metrics JSON, 30 days", "/api/district/metrics?from={month_from}&to={today}",
         connections=DISTRICT_CONNECTIONS),
    Page("district metrics JSON, 12 months", "/api/district/metrics?from={year_from}&to={today}",
         connections=DISTRICT_CONNECTIONS),
]


def selected(pages: list[Page], only: list[str]) -> list[Page]:
    """The pages whose name contains one of ``only`` (case-insensitive); every page when ``only`` is empty."""
    if not only:
        return pages
    chosen = [page for page in pages if any(text.lower() in page.name.lower() for text in only)]
    if not chosen:
        raise SystemExit(f"no page name contains {' or '.join(map(repr, only))}: " + ", ".join(p.name for p in pages))
    return chosen


# ---------------------------------------------------------------------------------------------- setup
# What the demo's pages name besides what setup() finds (also for a database kept with --keep by an older version).
DEMO_VALUES = {"search": "bat+trang", "district_email": "district@gialam.demo", "password": "gialam-demo"}
SCALE_SEARCH = "gao+tam"  # common words of seed-scale's product names: ~5 % of the catalogue matches
SCALE_DISTRICT_EMAIL = "bench.district@gialam.demo"
APP_ROLE = "gialam_app"  # the application's role, subject to row-level security (tenants/rls.py)


def _import_app() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def app_url(owner_url: str) -> str:
    """The URL the application serves with: the owner's, as the application role (as tests/conftest.py derives it).

    The role's password, if it has one, comes from the environment (PGPASSWORD or ~/.pgpass), never from the URL."""
    _import_app()
    from sqlalchemy.engine import URL, make_url

    from app import _normalise_database_url

    url = make_url(_normalise_database_url(owner_url))
    if not url.drivername.startswith("postgresql"):
        raise ValueError(f"--database-url must name a PostgreSQL database, not {url.drivername}")
    # URL.set(password=None) would keep the owner's password: built anew without one.
    role = URL.create(url.drivername, APP_ROLE, None, url.host, url.port, url.database, url.query)
    return role.render_as_string(hide_password=False)


def setup(directory: Path) -> dict:
    """The demo database and the values the pages' paths name."""
    _import_app()
    import logging

    from flask_migrate import upgrade
    from sqlalchemy import select

    from app import create_app, demo
    from app.extensions import db
    from app.payments.accounts import create_api_key, find_account
    from app.payments.intents import create_intent
    from app.payments.qr import image_version
    from marketplace.models import Product
    from tenants.models import Tenant
    from tenants.onestop.models import Dossier
    from tenants.scoping import all_tenants, tenant_context

    url = f"sqlite:///{directory / 'bench.sqlite'}"
    uploads = directory / "uploads"
    # `make bench` runs under APP_ENV=testing, whose demo is bare: the domains' demo data is asked for here.
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-" + secrets.token_hex(16),
                      "DEMO_PAYMENT_DAYS": 14, "DEMO_MARKET_DAYS": DEMO_MARKET_DAYS,
                      "DEMO_ONESTOP_MONTHS": DEMO_ONESTOP_MONTHS, "CACHE_STAMP": "memory",
                      "UPLOAD_DIR": str(uploads)})
    with app.app_context():
        logging.disable(logging.INFO)
        try:
            upgrade()
        finally:
            logging.disable(logging.NOTSET)
        started = time.monotonic()
        counts = demo.seed("gialam-demo", payment_days=14)
        print(f"  demo data: {counts['tenants']} communes, {counts['payments']} payments, "
              f"{counts.get('dossiers', 0)} dossiers, {counts.get('products', 0)} products "
              f"({time.monotonic() - started:.0f} s)", flush=True)
        tenant = db.session.scalars(select(Tenant).order_by(Tenant.code)).first()
        with tenant_context(tenant):
            account = find_account()
            _key, secret = create_api_key(account)
            intent = create_intent(account, 150_000, description="Bench")
            db.session.commit()
            values = {
                "slug": tenant.slug,
                "qr_path": f"/pay/{intent.public_id}/qr.png?v={image_version(intent.qr_payload, 'png')}",
                "api_key": secret,
                "account_number": account.account_number,
            }
        with all_tenants():
            commune, product = db.session.execute(
                select(Tenant.slug, Product.slug).join(Tenant, Tenant.id == Product.tenant_id)
                .where(Product.status == "published").order_by(Product.id).limit(1)).one()
            dossier = db.session.execute(
                select(Tenant.slug, Dossier.code).join(Tenant, Tenant.id == Dossier.tenant_id)
                .where(Dossier.tenant_id == tenant.id).order_by(Dossier.id.desc()).limit(1)).one()
        values["product_path"] = f"/marketplace/p/{commune}/{product}"
        values["dossier_path"] = f"/c/{dossier[0]}/onestop/lookup/{dossier[1]}"
        values["upload_dir"] = str(uploads)
        db.engine.dispose()
    return {"database_url": url, **DEMO_VALUES, **values}


def setup_scale(owner_url: str, directory: Path) -> dict:
    """The values the pages name, found in a database loaded by `flask seed-scale`, read as the application role.

    Written (the only rows this benchmark adds besides those its POST rows create while loaded): one API key for the
    commune's fee account per run, and once a district admin (SCALE_DISTRICT_EMAIL, its password reset every run).
    The QR image is an existing dossier fee's; the commune is the one that owns the first published product."""
    _import_app()
    from sqlalchemy import func, select, text

    from app import create_app
    from app.auth import services as account_services
    from app.auth.models import Membership
    from app.auth.passwords import hash_password
    from app.extensions import db
    from app.payments.accounts import create_api_key, find_account
    from app.payments.models import PaymentIntent
    from app.payments.qr import image_version
    from marketplace.models import Product
    from tenants.models import Tenant
    from tenants.onestop.models import Dossier
    from tenants.scoping import all_tenants, tenant_context

    url = app_url(owner_url)
    password = secrets.token_urlsafe(18)
    started = time.monotonic()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "CACHE_STAMP": "memory", "RESPONSE_CACHE": False})
    with app.app_context():
        counts = dict(db.session.execute(text(
            "SELECT relname, n_live_tup FROM pg_stat_user_tables WHERE relname IN "
            "('tenants', 'products', 'onestop_dossiers', 'vendors', 'payment_intents')")).all())
        with all_tenants():
            communes = db.session.scalar(select(func.count()).select_from(Tenant))
            found = db.session.execute(
                select(Product.tenant_id, Product.slug).where(Product.status == "published")
                .order_by(Product.id).limit(1)).first()
        if not communes or found is None:
            raise RuntimeError("no communes or no published product: load the database with `flask seed-scale`")
        tenant = db.session.get(Tenant, found.tenant_id)
        with tenant_context(tenant):
            account = find_account()
            dossier = db.session.scalar(select(Dossier.code).order_by(Dossier.id.desc()).limit(1))
            intent = db.session.execute(select(PaymentIntent.public_id, PaymentIntent.qr_payload)
                                        .order_by(PaymentIntent.id.desc()).limit(1)).first()
            if account is None or dossier is None or intent is None:
                raise RuntimeError(f"{tenant.slug} has no fee account, dossier or payment intent: not seed-scale data?")
            _key, secret = create_api_key(account)
            db.session.commit()
            values = {
                "slug": tenant.slug,
                "qr_path": f"/pay/{intent.public_id}/qr.png?v={image_version(intent.qr_payload, 'png')}",
                "api_key": secret,
                "account_number": account.account_number,
                "product_path": f"/marketplace/p/{tenant.slug}/{found.slug}",
                "dossier_path": f"/c/{tenant.slug}/onestop/lookup/{dossier}",
            }
        user = account_services.get_user_by_email(SCALE_DISTRICT_EMAIL)
        if user is None:
            user = account_services.create_user(SCALE_DISTRICT_EMAIL, "Benchmark district admin (bench_pages.py)",
                                                password)
            user.memberships.append(Membership(tenant_id=None, role="district_admin"))
        else:
            user.password_hash = hash_password(password)
        db.session.commit()
        db.engine.dispose()
    today = date.today()
    print(f"  scale data: {communes:,} communes; rows (statistics): "
          + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))
          + f"; values found in {time.monotonic() - started:.1f} s", flush=True)
    return {"database_url": url, "communes": communes, "rows": counts, **values,
            "search": SCALE_SEARCH, "district_email": SCALE_DISTRICT_EMAIL, "password": password,
            "today": f"{today:%Y-%m-%d}", "month_from": f"{today - timedelta(days=30):%Y-%m-%d}",
            "year_from": f"{today - timedelta(days=365):%Y-%m-%d}", "upload_dir": str(directory / "uploads")}


# ---------------------------------------------------------------------------------------------- servers
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


class Server:
    """gunicorn -c gunicorn.conf.py <target>, started and stopped by the benchmark."""

    def __init__(self, target: str, env: dict, worker_class: str, chdir: Path, log: Path):
        self.port = _free_port()
        self.log = log
        gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
        self._log_handle = open(log, "a")
        self.process = subprocess.Popen(
            [gunicorn, "-c", str(GUNICORN_CONF), "--chdir", str(chdir), target],
            env={**os.environ, **env, "GUNICORN_BIND": f"127.0.0.1:{self.port}", "GUNICORN_WORKERS": str(WORKERS),
                 "GUNICORN_WORKER_CLASS": worker_class, "GUNICORN_LOGLEVEL": "warning", "GUNICORN_ACCESSLOG": ""},
            stdout=subprocess.DEVNULL, stderr=self._log_handle,
        )
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{target} exited: {log.read_text()[-3000:]}")
            try:
                if _request(self.port, "GET", "/")[0] < 500:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{target} did not answer within 30 s")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._log_handle.close()


# ---------------------------------------------------------------------------------------------- wrk
_LUA = """
local counter = 0
local thread_count = 0
local threads = {}
statuses = {}
function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
  table.insert(threads, thread)
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do total[status] = (total[status] or 0) + count end
  end
  for status, count in pairs(total) do io.write(string.format("STATUS %d %d\\n", status, count)) end
end
function init(args)
  base = tid * 1000000000000 + (os.time() % 1000000) * 100000
end
request = function()
  counter = counter + 1
  local n = string.format("%d", base + counter)
  local body = BODY:gsub("{n}", n)
  return wrk.format(METHOD, PATH, HEADERS, body)
end
"""


def _lua_script(directory: Path, method: str, path: str, headers: dict, body: str | None) -> Path:
    """A wrk script: fixed method, path and headers; a body with {n} replaced by a number unique per request."""

    def lua_string(text: str) -> str:
        return "[==[" + text + "]==]"

    header_lines = ", ".join(f"[ {lua_string(k)} ] = {lua_string(v)}" for k, v in headers.items())
    script = (f"METHOD = {lua_string(method)}\nPATH = {lua_string(path)}\nHEADERS = {{ {header_lines} }}\n"
              f"BODY = {lua_string(body or '')}\n" + _LUA)
    target = directory / f"wrk-{abs(hash((method, path, body))) % 10**8}.lua"
    target.write_text(script)
    return target


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    return float(match.group(1)) * _UNITS[match.group(2)] if match else float("nan")


def wrk(port: int, path: str, seconds: float, connections: int, script: Path | None = None,
        timeout: float = 5) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--latency", "--timeout", f"{timeout:g}s"]
    if script is not None:
        command += ["-s", str(script)]
    command.append(f"http://127.0.0.1:{port}{path}")
    finished = subprocess.run(command, capture_output=True, text=True, timeout=seconds + timeout + 30)
    output = finished.stdout
    completed = re.search(r"(\d+) requests in", output)
    if script is not None and (finished.stderr.strip() or ("STATUS" not in output and completed
                                                           and int(completed.group(1)))):
        raise RuntimeError(f"wrk script {script} failed: {finished.stderr or output}")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)
    timeouts = re.search(r"Socket errors:.*timeout (\d+)", output)
    if not rps:
        raise RuntimeError(f"wrk said: {output}")
    statuses = {int(code): int(count) for code, count in re.findall(r"^STATUS (\d+) (\d+)$", output, re.M)}
    if completed and not int(completed.group(1)):
        p50 = p99 = None  # wrk prints zeros
    return {"rps": float(rps.group(1)), "p50_ms": _ms(p50.group(1)) if p50 else None,
            "p99_ms": _ms(p99.group(1)) if p99 else None, "non_2xx": int(bad.group(1)) if bad else 0,
            "socket_errors": errors.group(0) if errors else "", "timeouts": int(timeouts.group(1)) if timeouts else 0,
            "statuses": statuses, "connections": connections,
            "seconds": seconds, "requests": int(completed.group(1)) if completed else None}


# ---------------------------------------------------------------------------------------------- the run
def _login_cookie(port: int, email: str, password: str) -> str:
    status, headers, html = _request(port, "GET", "/login")
    cookie = headers.get("Set-Cookie", "").split(";", 1)[0]
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1).decode()
    from urllib.parse import urlencode

    body = urlencode({"email": email, "password": password, "csrf_token": token}).encode()
    status, headers, _ = _request(port, "POST", "/login", body,
                                  {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    if status != 302:
        raise RuntimeError(f"could not sign in as {email}: {status}")
    return headers["Set-Cookie"].split(";", 1)[0]


def _prepare(page: Page, port: int, values: dict, directory: Path) -> tuple[str, Path | None, dict]:
    path = page.path.format(**values)
    headers = {k: v.format(**values) for k, v in page.headers.items()}
    if page.login:
        headers["Cookie"] = _login_cookie(port, page.login.format(**values), values["password"])
    body = page.body.format(n="{n}", **values) if page.body else None
    first = body.replace("{n}", str(int(time.time() * 1000))) if body else None
    status, _answer_headers, _ = _request(port, page.method, path, first.encode() if first else None, headers)
    if status != page.expect:
        raise RuntimeError(f"{page.name}: {page.method} {path} answered {status}, expected {page.expect}")
    script = None
    if page.method != "GET" or headers or body:
        script = _lua_script(directory, page.method, path, headers, body)
    return path, script, headers


def measure(args, values: dict, directory: Path, pages: list[Page]) -> dict:
    env = {"APP_ENV": "production", "DATABASE_URL": values["database_url"], "SECRET_KEY": secrets.token_hex(32),
           "SEPAY_API_KEY": values["sepay_key"], "API_RATE_LIMIT": "1000000 per second",
           "WEBHOOK_RATE_LIMIT": "1000000 per minute", "ONESTOP_LOOKUP_RATE_LIMIT": "1000000 per second",
           "UPLOAD_DIR": values["upload_dir"], "PYTHONPATH": str(ROOT),
           # Production refuses to start without its public address and a Redis for the rate limits (which also
           # holds the response cache's generation stamp, as on a real deployment): wrk talks to 127.0.0.1.
           "PUBLIC_BASE_URL": "http://127.0.0.1", "RATELIMIT_STORAGE_URI": args.redis,
           # The shedding gate runs (its cost is measured) but never refuses: on a loaded machine a request can wait
           # seconds between wrk's rows, and a 503 would stop the run (bench_storm.py measures shedding).
           "SHED_QUEUE_MS": "60000"}
    report: dict = {"machine": machine(), "seconds": args.seconds, "connections": args.connections,
                    "timeout": args.timeout, "data": values.get("data", "demo"),
                    "communes": values.get("communes"), "rows": values.get("rows")}
    log = directory / "servers.log"

    def app_server(worker_class: str, cache: bool = True) -> Server:
        return Server("wsgi:app", {**env, "RESPONSE_CACHE": "on" if cache else "off"}, worker_class, ROOT, log)

    def bare_server(worker_class: str) -> Server:
        return Server("bench_pages:bare_app", {}, worker_class, BENCH_DIR, log)

    def run(server: Server, path: str, script: Path | None = None, warm: dict | None = None,
            connections: int | None = None) -> dict:
        connections = connections or args.connections
        seconds = args.seconds
        if warm is not None:  # every worker compiles its templates and fills its caches before the clock starts
            started, times = time.monotonic(), []
            for _ in range(12 if connections == args.connections else 2 * connections):
                before = time.monotonic()
                _request(server.port, "GET", path, None, warm)
                times.append(time.monotonic() - before)
                if len(times) >= 2 and time.monotonic() - started > 5:  # a slow page (the scale data): enough
                    break
            # wrk counts only the requests that finish within the run: a page that takes seconds (the scale data,
            # cache off) runs long enough for about ROW_REQUESTS answers, the server's workers busy all along. The
            # median, not the mean: one request stalled by the machine's load should not make a fast row run 60 s.
            alone = statistics.median(times)
            seconds = max(seconds, min(MAX_ROW_SECONDS, math.ceil((ROW_REQUESTS + connections) * alone / WORKERS)))
        return wrk(server.port, path, seconds, connections, script, args.timeout)

    worker_class = args.worker_class
    if worker_class == "auto":
        report["worker_classes"] = {}
        for candidate in ("sync", "gthread"):
            servers = [app_server(candidate), bare_server(candidate)]
            try:
                page_path = pages[1].path.format(**values)
                _request(servers[0].port, "GET", page_path)
                runs = {"bare": run(servers[1], "/", warm={}), "commune page": run(servers[0], page_path, warm={}),
                        "floor": run(servers[0], "/healthz", warm={})}
            finally:
                for server in servers:
                    server.stop()
            report["worker_classes"][candidate] = runs
            print(f"  {candidate:8} bare {runs['bare']['rps']:8.0f} req/s   commune page "
                  f"{runs['commune page']['rps']:8.0f}   app floor {runs['floor']['rps']:8.0f}", flush=True)
        # The application's own throughput decides (what production serves), not its ratio to bare: gthread keeps
        # connections alive, which speeds the bare endpoint up more than the app.
        worker_class = max(("sync", "gthread"), key=lambda c: sum(
            report["worker_classes"][c][k]["rps"] for k in ("commune page", "floor")))
    report["worker_class"] = worker_class
    print(f"  worker class: {worker_class}", flush=True)

    rows = []
    bare_runs = []
    cached_app, bare = app_server(worker_class), bare_server(worker_class)
    plain_app = None if args.skip_uncached else app_server(worker_class, cache=False)
    try:
        bare_runs.append(run(bare, "/", warm={}))
        floor = run(cached_app, "/healthz", warm={})
        for page in selected(pages, args.only):
            path, script, headers = _prepare(page, cached_app.port, values, directory)
            if page.cached:  # fill every worker's cache and check that answers come from it
                hits = [_request(cached_app.port, "GET", path)[1].get("X-Cache") for _ in range(8)]
                if "HIT" not in hits:
                    raise RuntimeError(f"{page.name} is not served from the response cache")
            result = run(cached_app, path, script, warm=headers if page.method == "GET" else None,
                         connections=page.connections)
            row = {"page": page.name, "path": path, "public": page.public, "cached": page.cached, **result}
            if result["statuses"] and set(result["statuses"]) != {page.expect}:
                raise RuntimeError(f"{page.name}: answers {result['statuses']}, expected only {page.expect}")
            if page.cached and plain_app is not None:  # the same page with the cache off, right after
                row["uncached"] = run(plain_app, path, warm={}, connections=page.connections)
            rows.append(row)
            print(f"  {page.name:32} {result['rps']:7.0f} req/s  p50 {_ms_cell(result['p50_ms']):>6} ms  "
                  f"p99 {_ms_cell(result['p99_ms']):>6} ms  {result['statuses'] or ''}"
                  + (f"   cache off {row['uncached']['rps']:6.0f} req/s" if "uncached" in row else ""), flush=True)
            if len(rows) % 3 == 0:
                bare_runs.append(run(bare, "/"))  # bare again now and then: the machine's load drifts
        bare_runs.append(run(bare, "/"))
    finally:
        for server in (cached_app, bare, plain_app):
            if server is not None:
                server.stop()
    report["machine"]["load_after"] = [round(x, 2) for x in os.getloadavg()]
    bare_rps = sum(r["rps"] for r in bare_runs) / len(bare_runs)
    for row in rows:
        row["ratio"] = row["rps"] / bare_rps
        if "uncached" in row:
            row["uncached"]["ratio"] = row["uncached"]["rps"] / bare_rps
    errors = [line for line in log.read_text().splitlines() if "Error" in line or "Traceback" in line]
    report.update({"bare_runs": bare_runs, "bare_rps": bare_rps, "floor": {**floor, "ratio": floor["rps"] / bare_rps},
                   "pages": rows, "server_errors": errors[:20]})
    return report


def machine() -> dict:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0, 0, 0)
    cpu = ""
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "")
    except OSError:
        pass
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    import gunicorn

    return {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version(), "gunicorn": gunicorn.__version__,
            "wrk": wrk_version.strip(), "load_before": [round(x, 2) for x in load],
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def _data_line(report: dict) -> str:
    if report.get("data") != "scale":
        return "Data: the demo (SQLite)."
    rows = report.get("rows") or {}
    return (f"Data: the scale data set (PostgreSQL, served as {APP_ROLE} under row-level security): "
            f"{report['communes']:,} communes, "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(rows.items())) + " (statistics' row counts).")


def _cell_name(row: dict, default_connections: int, default_seconds: float) -> str:
    name = row["page"]
    if row.get("connections", default_connections) != default_connections:
        name += f" (-c{row['connections']})"
    return name + _longer(row, default_seconds)


def _longer(result: dict, default_seconds: float) -> str:
    """What a row's figures rest on when it is not the usual: a longer run, few answers, requests timed out."""
    notes = []
    if result.get("seconds", default_seconds) != default_seconds:
        notes.append(f"{result['seconds']:g} s")
    if result.get("requests") is not None and result["requests"] < ROW_REQUESTS:
        notes.append(f"{result['requests']} answers")
    if result.get("timeouts"):
        notes.append(f"{result['timeouts']} timed out")
    return f" ({', '.join(notes)})" if notes else ""


def _rps(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def _ms_cell(value: float | None) -> str:
    return "—" if value is None or value != value else (f"{value:,.0f}" if value >= 100 else f"{value:.1f}")


def _ratio(value: float) -> str:
    return f"{value:.2f}" if value >= 0.1 else f"{value:.3f}" if value >= 0.01 else f"{value:.4f}"


def table(report: dict) -> str:
    lines = [
        _data_line(report),
        "",
        f"{report['machine']['date']}: {report['machine']['cpus']} vCPUs ({report['machine']['cpu']}), Python "
        f"{report['machine']['python']}, gunicorn {report['machine']['gunicorn']} with 2 {report['worker_class']} "
        f"workers (gunicorn.conf.py), wrk -t2 -c{report['connections']} for {report['seconds']:g} s per row "
        f"(timeout {report.get('timeout', 5):g} s), load average before {report['machine']['load_before'][0]}, "
        f"after {report['machine'].get('load_after', ['?'])[0]}.",
        "",
        f"Bare Flask: {report['bare_rps']:.0f} req/s (mean of {len(report['bare_runs'])} runs spread over the "
        f"run: {', '.join(str(round(r['rps'])) for r in report['bare_runs'])}); the app's floor (`/healthz`): {report['floor']['rps']:.0f} req/s = "
        f"{report['floor']['ratio']:.2f} of bare.",
        "",
        "| page | req/s | p50 ms | p99 ms | ratio to bare | cache off: req/s | cache off: ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in report["pages"]:
        off = row.get("uncached")
        lines.append(
            f"| {_cell_name(row, report['connections'], report['seconds'])} | {_rps(row['rps'])} | {_ms_cell(row['p50_ms'])} | "
            f"{_ms_cell(row['p99_ms'])} | **{_ratio(row['ratio'])}** | "
            + (f"{_rps(off['rps'])}{_longer(off, report['seconds'])} | {_ratio(off['ratio'])} |" if off else "— | — |")
        )
    if report.get("worker_classes"):
        lines += ["", "| worker class | bare req/s | commune page req/s | app floor req/s |", "|---|---|---|---|"]
        for name, runs in report["worker_classes"].items():
            lines.append(f"| {name} | {runs['bare']['rps']:.0f} | {runs['commune page']['rps']:.0f} | "
                         f"{runs['floor']['rps']:.0f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="per measurement, at most 10")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--worker-class", choices=("auto", "sync", "gthread"), default="auto")
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
                        help="the Redis production needs (rate limits, the cache's stamp); a database of its own")
    parser.add_argument("--skip-uncached", action="store_true", help="do not measure the cached pages cache-off")
    parser.add_argument("--keep", type=Path, default=None,
                        help="keep the demo database in this folder and reuse it next time (skips the seeding)")
    parser.add_argument("--database-url", default=None,
                        help="measure the scale data instead of the demo: the owner's URL of a PostgreSQL database "
                             f"loaded by `flask seed-scale`; the servers run as {APP_ROLE}")
    parser.add_argument("--timeout", type=float, default=None,
                        help="wrk's per-request timeout in seconds (default 5, 60 on the scale data)")
    parser.add_argument("--only", action="append", default=[], metavar="TEXT",
                        help="measure only the pages whose name contains TEXT (repeatable); the results file is "
                             "left as it is")
    args = parser.parse_args()
    if args.database_url and args.keep:
        parser.error("--keep is for the demo database; --database-url measures the database it names")
    args.timeout = min(max(args.timeout or (60.0 if args.database_url else 5.0), 1.0), 120.0)
    args.seconds = min(max(args.seconds, 1.0), 10.0)
    args.connections = min(max(args.connections, 1), 64)
    if not shutil.which("wrk"):
        print("wrk is missing: apt-get install -y wrk", file=sys.stderr)
        return 2
    os.environ.setdefault("APP_ENV", "development")
    with tempfile.TemporaryDirectory(prefix="gialam-bench-") as tmp:
        directory = args.keep or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        saved = directory / "values.json"
        if args.database_url:
            print("Finding the pages' values in the scale data...", flush=True)
            values, pages, results = {**setup_scale(args.database_url, directory), "data": "scale"}, SCALE_PAGES, SCALE_RESULTS
        elif args.keep and saved.exists():
            values, pages, results = {**DEMO_VALUES, **json.loads(saved.read_text())}, PAGES + RENDERED_PAGES, RESULTS
        else:
            print("Setting up the demo database...", flush=True)
            values, pages, results = setup(directory), PAGES + RENDERED_PAGES, RESULTS
            saved.write_text(json.dumps(values))
        values["sepay_key"] = "bench-sepay-" + secrets.token_hex(8)
        report = measure(args, values, directory, pages)
    print()
    print(table(report))
    if not args.only:  # a partial run does not replace the full one's results
        results.parent.mkdir(parents=True, exist_ok=True)
        results.write_text(json.dumps(report, indent=2, ensure_ascii=False))
        print(f"\nwritten to {results.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
