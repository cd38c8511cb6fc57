"""Synthetic national data set (``flask seed-scale``): thousands of communes as tenants, their vendors with bank
accounts, a national catalogue and years of one-stop dossiers, loaded on PostgreSQL with ``COPY ... FROM STDIN``
through the psycopg 3 connection under the SQLAlchemy session (no ORM object per row, no INSERT per row).

One loader per domain, each writing the columns of the domain's own model table (``Model.__table__``): a column
added later that is NOT NULL without a server default makes the loader stop with its name, so the seed keeps up
with the schema instead of silently writing half a row.

What holds, whatever the sizes (tests/test_seed_scale.py checks it):
- tenants are created first (unique slugs, codes after the highest numeric code already present), and every row
  written names one of them;
- a vendor has one active payment account; (bank BIN, account number) is unique across the install;
- a product belongs to its vendor's commune, with stock >= reserved = 0 (no order holds any of it);
- a dossier follows its procedure: due time from the working-time rules (tenants/onestop/worktime.py), a code
  ``<unit code>-YYMMDD-NNNN`` unique per commune and day with the day's counter row, status fields consistent with
  the status (received/due/finished/returned times, on-time judgement); a fee paid by VietQR has a succeeded intent
  on the commune's fee account with amount_received = amount, a fee awaited has an open intent with nothing
  received.

COPY FROM is refused by PostgreSQL on tables with row-level security for a role that is subject to it, so the
command runs as the database owner with BYPASSRLS (or a superuser), across tenants explicitly (``all_tenants``).
"""

from __future__ import annotations

import bisect
import random
import secrets
import time as clock
from collections.abc import Callable, Iterable
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import Table, text

from app.extensions import db
from app.text import slugify
from tenants.scoping import all_tenants

MAX_CODE = 99_999  # tenants.code is five digits (the national statistics code)
COPY_CHUNK = 5_000  # rows between two progress-bar updates

PROVINCES = (
    "Hà Nội", "Hà Giang", "Cao Bằng", "Bắc Kạn", "Tuyên Quang", "Lào Cai", "Điện Biên", "Lai Châu", "Sơn La",
    "Yên Bái", "Hòa Bình", "Thái Nguyên", "Lạng Sơn", "Quảng Ninh", "Bắc Giang", "Phú Thọ", "Vĩnh Phúc", "Bắc Ninh",
    "Hải Dương", "Hải Phòng", "Hưng Yên", "Thái Bình", "Hà Nam", "Nam Định", "Ninh Bình", "Thanh Hóa", "Nghệ An",
    "Hà Tĩnh", "Quảng Bình", "Quảng Trị", "Thừa Thiên Huế", "Đà Nẵng", "Quảng Nam", "Quảng Ngãi", "Bình Định",
    "Phú Yên", "Khánh Hòa", "Ninh Thuận", "Bình Thuận", "Kon Tum", "Gia Lai", "Đắk Lắk", "Đắk Nông", "Lâm Đồng",
    "Bình Phước", "Tây Ninh", "Bình Dương", "Đồng Nai", "Bà Rịa - Vũng Tàu", "Hồ Chí Minh", "Long An", "Tiền Giang",
    "Bến Tre", "Trà Vinh", "Vĩnh Long", "Đồng Tháp", "An Giang", "Kiên Giang", "Cần Thơ", "Hậu Giang", "Sóc Trăng",
    "Bạc Liêu", "Cà Mau",
)
SYLLABLES_A = ("An", "Bình", "Tân", "Phú", "Hòa", "Thạnh", "Long", "Phước", "Vĩnh", "Hưng", "Đông", "Tây", "Nam",
               "Bắc", "Thuận", "Mỹ", "Quang", "Xuân", "Trung", "Hồng", "Kim", "Ngọc", "Thanh", "Đức")
SYLLABLES_B = ("Lập", "Sơn", "Hà", "Lợi", "Thịnh", "Phong", "Hiệp", "Khánh", "Lộc", "Thành", "Tiến", "Yên", "Mỹ",
               "Hải", "Điền", "Xá", "Trạch", "Lương", "Định", "Quý", "Nghĩa", "Châu")
COMMUNES_PER_DISTRICT = 12

VENDOR_TRADES = (("Hộ kinh doanh", "household"), ("HTX", "cooperative"))
VENDOR_WORDS = ("Minh Phát", "Thành Công", "Hoa Sen", "Bảo An", "Hương Quê", "Đồng Xanh", "Sông Hồng", "Tâm Phúc",
                "Quê Nhà", "Việt Xanh", "Lúa Vàng", "Mây Tre")
# (name, marketplace category, market goods category)
PRODUCT_KINDS = (
    ("Gạo tám thơm", "thuc-pham", "rice"), ("Gạo nếp cái hoa vàng", "thuc-pham", "rice"),
    ("Nước mắm truyền thống", "thuc-pham", "dry_goods"), ("Mật ong hoa nhãn", "thuc-pham", "dry_goods"),
    ("Miến dong", "thuc-pham", "dry_goods"), ("Bưởi Diễn", "thuc-pham", "fruit"), ("Vải thiều", "thuc-pham", "fruit"),
    ("Chè búp", "do-uong", "dry_goods"), ("Cà phê rang xay", "do-uong", "dry_goods"),
    ("Rượu nếp", "do-uong", "dry_goods"), ("Trà hoa cúc", "thao-duoc", "dry_goods"),
    ("Cao gắm", "thao-duoc", "dry_goods"), ("Bình gốm men lam", "thu-cong-my-nghe", "ceramics"),
    ("Giỏ mây tre đan", "thu-cong-my-nghe", "household_goods"), ("Chiếu cói", "thu-cong-my-nghe", "household_goods"),
    ("Lan hồ điệp", "sinh-vat-canh", "flowers"), ("Đào thế", "sinh-vat-canh", "flowers"),
    ("Tour làng nghề một ngày", "du-lich-cong-dong", "other"),
)
PRODUCT_GRADES = ("loại 1", "đặc biệt", "hữu cơ", "truyền thống", "gói 500 g", "hộp quà", "túi 1 kg", "")
UNITS = ("kg", "chai", "hộp", "gói", "cái", "chậu")


class ScaleError(Exception):
    """The seed cannot run here (not PostgreSQL, a role subject to row-level security, sizes out of range)."""


@dataclass
class Sizes:
    communes: int
    products: int
    dossiers: int
    vendors: int
    months: int = 12
    seed: int = 766

    def check(self) -> None:
        if self.communes < 1:
            raise ScaleError("--communes must be at least 1.")
        if min(self.products, self.dossiers, self.vendors) < 0:
            raise ScaleError("Sizes cannot be negative.")
        if self.products and not self.vendors:
            raise ScaleError("Products need vendors: give --vendors.")
        if not 1 <= self.months <= 60:
            raise ScaleError("--months must be between 1 and 60.")


@dataclass
class Report:
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


# A progress bar: ``bar(label, length)`` returns a context manager whose value has ``update(n)``.
BarFactory = Callable[[str, int], object]


class _Silent:
    def update(self, n: int) -> None:
        pass


def silent_bar(_label: str, _length: int):
    return nullcontext(_Silent())


# ---------------------------------------------------------------------------------------------------- plumbing


def check_database(connection) -> None:
    """Refuse anything but PostgreSQL, and a role that row-level security would stop from COPYing."""
    if connection.dialect.name != "postgresql":
        raise ScaleError("seed-scale loads with PostgreSQL's COPY and runs on PostgreSQL only; this database is "
                         f"{connection.dialect.name}. Point DATABASE_URL at PostgreSQL (as its owner).")
    ok = connection.execute(text("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")).scalar()
    if not ok:
        raise ScaleError("seed-scale must run as the database owner with BYPASSRLS (or a superuser): PostgreSQL "
                         "refuses COPY into tables with row-level security for the application role.")


def _reserve_ids(connection, table: Table, n: int) -> int:
    """The first of ``n`` consecutive ids taken from the table's sequence (the rows are COPYed with their ids, so
    foreign keys between the loaders need no read-back)."""
    seq = connection.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}).scalar()
    first = connection.execute(text("SELECT nextval(CAST(:s AS regclass))"), {"s": seq}).scalar()
    if n > 1:
        connection.execute(text("SELECT setval(CAST(:s AS regclass), :v)"), {"s": seq, "v": first + n - 1})
    return first


def _check_columns(table: Table, columns: tuple[str, ...]) -> None:
    unknown = [c for c in columns if c not in table.c]
    if unknown:
        raise ScaleError(f"{table.name} has no column {', '.join(unknown)}: update app/scale.py.")
    missing = [c.name for c in table.c if c.name not in columns and not c.nullable and c.server_default is None
               and not (c.primary_key and c.autoincrement in (True, "auto"))]
    if missing:
        raise ScaleError(f"seed-scale does not fill {table.name}.{', '.join(missing)} (NOT NULL, no server default): "
                         "update app/scale.py.")


def copy_rows(connection, table: Table, columns: tuple[str, ...], rows: Iterable[tuple], bar=None) -> int:
    """COPY ``rows`` (tuples in ``columns`` order) into ``table`` through the driver connection; returns the count."""
    _check_columns(table, columns)
    raw = connection.connection.driver_connection
    count = 0
    with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
            if bar is not None and count % COPY_CHUNK == 0:
                bar.update(COPY_CHUNK)
    if bar is not None:
        bar.update(count % COPY_CHUNK)
    return count


@contextmanager
def _timed(report: Report, name: str):
    start = clock.perf_counter()
    yield
    report.seconds[name] = round(clock.perf_counter() - start, 1)


def _spread(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


# ---------------------------------------------------------------------------------------------------- tenants


def load_tenants(connection, sizes: Sizes, rng: random.Random, bar: BarFactory) -> list[tuple[int, str, str]]:
    """N communes grouped by twelve into districts of the 63 provinces; returns (id, code, display name)."""
    from tenants.models import Tenant

    table = Tenant.__table__
    codes = connection.execute(text("SELECT code FROM tenants")).scalars().all()
    start = max([int(c) for c in codes if c.isdigit()], default=0) + 1
    if start + sizes.communes - 1 > MAX_CODE:
        raise ScaleError(f"Only {MAX_CODE - start + 1} five-digit commune codes are left after the existing ones.")
    first_id = _reserve_ids(connection, table, sizes.communes)
    tenants, rows = [], []
    for i in range(sizes.communes):
        tenant_id, code = first_id + i, f"{start + i:05d}"
        name = f"{SYLLABLES_A[i % len(SYLLABLES_A)]} {SYLLABLES_B[(i // len(SYLLABLES_A)) % len(SYLLABLES_B)]}"
        district = i // COMMUNES_PER_DISTRICT
        province = PROVINCES[district % len(PROVINCES)]
        kind = "phường" if i % 9 == 0 else "thị trấn" if i % 9 == 1 else "xã"
        rows.append((tenant_id, f"{slugify(name)}-{code}", name, kind, code, f"Huyện {district + 1}",
                     f"{district % 1000:03d}", province, "active"))
        tenants.append((tenant_id, code, f"{kind[:1].upper()}{kind[1:]} {name}"))
    with bar("Communes", len(rows)) as progress:
        copy_rows(connection, table, ("id", "slug", "name", "kind", "code", "district_name", "district_code",
                                      "province_name", "status"), rows, progress)
    return tenants


# ---------------------------------------------------------------------------------------------------- payments


class AccountNumbers:
    """Account numbers unique across the install: a prefix no other seed uses, then a running number."""

    def __init__(self, connection, prefix: str) -> None:
        from app.payments.models import PaymentAccount

        width = PaymentAccount.__table__.c.account_number.type.length - len(prefix) - 2
        last = connection.execute(text("SELECT max(account_number) FROM payment_accounts WHERE account_number LIKE "
                                       ":p"), {"p": prefix + "%"}).scalar()
        self.prefix, self.width = prefix, width
        self.next = int(last[len(prefix):]) + 1 if last else 1

    def take(self) -> str:
        number = f"{self.prefix}{self.next:0{self.width}d}"
        self.next += 1
        return number


def _bank_bins() -> list[str]:
    from app.payments.banks import all_banks

    return [bank.bin for bank in all_banks()][:20]


def load_commune_accounts(connection, tenants, numbers: AccountNumbers, bins, bar) -> dict[int, tuple]:
    """One fee account per commune; returns tenant id -> (account id, bank BIN, account number)."""
    from app.payments.models import PaymentAccount

    table = PaymentAccount.__table__
    first = _reserve_ids(connection, table, len(tenants))
    accounts, rows = {}, []
    for i, (tenant_id, _code, display) in enumerate(tenants):
        account = (first + i, bins[i % len(bins)], numbers.take())
        accounts[tenant_id] = account
        rows.append((account[0], tenant_id, "commune", None, f"Lệ phí - {display}"[:120], account[1], account[2],
                     f"UBND {display}".upper()[:120], True))
    with bar("Fee accounts", len(rows)) as progress:
        copy_rows(connection, table, ("id", "tenant_id", "owner_kind", "vendor_id", "label", "bank_bin",
                                      "account_number", "holder_name", "active"), rows, progress)
    return accounts


# ---------------------------------------------------------------------------------------------------- market


def load_vendors(connection, tenants, sizes: Sizes, numbers: AccountNumbers, bins, rng, bar) -> list[int]:
    """V vendors spread over the communes, each with its own bank account; returns vendor index -> tenant id."""
    from app.payments.models import PaymentAccount
    from tenants.market.models import Vendor

    n = sizes.vendors
    first_vendor = _reserve_ids(connection, Vendor.__table__, n)
    first_account = _reserve_ids(connection, PaymentAccount.__table__, n)
    tenant_of = [tenants[rng.randrange(len(tenants))][0] for _ in range(n)]
    goods = [kind[2] for kind in PRODUCT_KINDS]

    def vendors():
        for i in range(n):
            trade, kind = VENDOR_TRADES[1 if i % 10 == 0 else 0]
            name = f"{trade} {VENDOR_WORDS[i % len(VENDOR_WORDS)]} {i + 1}"
            yield (first_vendor + i, tenant_of[i], kind, name, f"{slugify(name)}-{first_vendor + i}",
                   f"Chủ hộ {i + 1}", f"09{(first_vendor + i) % 100_000_000:08d}", goods[i % len(goods)], "", True)

    def accounts():
        for i in range(n):
            yield (first_account + i, tenant_of[i], "vendor", first_vendor + i, "Tài khoản bán hàng",
                   bins[i % len(bins)], numbers.take(), f"CHU HO {i + 1}", True)

    with bar("Vendors", n) as progress:
        copy_rows(connection, Vendor.__table__, ("id", "tenant_id", "kind", "business_name", "slug", "owner_name",
                                                 "phone", "goods_category", "description", "active"),
                  vendors(), progress)
    with bar("Vendor accounts", n) as progress:
        copy_rows(connection, PaymentAccount.__table__, ("id", "tenant_id", "owner_kind", "vendor_id", "label",
                                                         "bank_bin", "account_number", "holder_name", "active"),
                  accounts(), progress)
    return [(first_vendor + i, tenant_of[i]) for i in range(n)]


# ---------------------------------------------------------------------------------------------------- marketplace


def load_products(connection, vendors, sizes: Sizes, rng, now, bar) -> None:
    """P products, each of a random vendor and in that vendor's commune; nothing reserved (no open order)."""
    from marketplace.models import Product
    from marketplace.search import folded_key, lower_key

    n = sizes.products
    first = _reserve_ids(connection, Product.__table__, n)
    names = {}
    for kind, category, _goods in PRODUCT_KINDS:
        for grade in PRODUCT_GRADES:
            name = f"{kind} {grade}".strip()
            names[name] = (category, folded_key(name), lower_key(name), slugify(name))
    choices = list(names.items())

    def rows():
        for i in range(n):
            vendor_id, tenant_id = vendors[rng.randrange(len(vendors))]
            name, (category, folded, lower, slug) = choices[rng.randrange(len(choices))]
            stock = rng.randrange(0, 500)
            stars = rng.choice((None, None, None, 3, 4, 5))
            created = now - timedelta(minutes=rng.randrange(0, 60 * 24 * 365))
            yield (first + i, tenant_id, vendor_id, category, name, folded, lower, f"{slug}-{first + i}",
                   "", rng.randrange(2, 500) * 1_000, UNITS[i % len(UNITS)], stock, 0, "[]", stars,
                   f"OCOP-{first + i}" if stars else None, "published" if i % 20 else "draft", i % 97 == 0,
                   created, created)

    with bar("Products", n) as progress:
        copy_rows(connection, Product.__table__, (
            "id", "tenant_id", "vendor_id", "category", "name", "name_folded", "name_lower", "slug", "description",
            "price", "unit", "stock", "reserved", "images", "ocop_stars", "ocop_certificate", "status", "featured",
            "created_at", "updated_at"), rows(), progress)


# ---------------------------------------------------------------------------------------------------- one-stop


class _Clock:
    """Working-time answers, memoised: dossiers are received at a few fixed minutes of each working day, so the
    due and finish times repeat and worktime computes each one once."""

    SLOTS = tuple(range(7 * 60 + 10, 11 * 60 + 30, 20)) + tuple(range(13 * 60 + 40, 17 * 60, 20))

    def __init__(self, now: datetime, months: int) -> None:
        from tenants.onestop import worktime

        self.worktime = worktime
        self.schedule = worktime.DEFAULT_SCHEDULE
        local_now = worktime.local(now)
        day, days = (local_now - timedelta(days=round(30.44 * months))).date(), []
        while day < local_now.date():
            if self.schedule.is_working_day(day):
                days.append(day)
            day += timedelta(days=1)
        self.days = days
        self._moments: dict[int, datetime] = {}
        self._due: dict[tuple, datetime] = {}
        self._after: dict[tuple, datetime] = {}

    def moment(self, key: int) -> datetime:
        """Key = day index * len(SLOTS) + slot; the moment in UTC."""
        found = self._moments.get(key)
        if found is None:
            day, slot = divmod(key, len(self.SLOTS))
            local = datetime.combine(self.days[day], datetime.min.time(), tzinfo=self.worktime.VN_TZ)
            found = (local + timedelta(minutes=self.SLOTS[slot])).astimezone(timezone.utc)
            self._moments[key] = found
        return found

    def due(self, key: int, index: int, proc) -> datetime:
        found = self._due.get((key, index))
        if found is None:
            found = self.worktime.due_time(self.schedule, self.moment(key), time_unit=proc[2], time_amount=proc[3],
                                           same_day=proc[4])
            self._due[(key, index)] = found
        return found

    def after(self, key: int, minutes: int) -> datetime:
        found = self._after.get((key, minutes))
        if found is None:
            found = self.worktime.add_working_minutes(self.schedule, self.moment(key), minutes).astimezone(
                timezone.utc)
            self._after[(key, minutes)] = found
        return found


DOSSIER_COLUMNS = (
    "id", "tenant_id", "code", "procedure_id", "channel", "status", "applicant_name", "applicant_name_folded",
    "applicant_id_number", "applicant_phone", "applicant_address", "applicant_email", "request_note", "sets",
    "submitted_at", "received_at", "due_at", "paused_minutes", "supplement_requests", "supplement_items",
    "apology_reason", "reason", "finished_at", "finished_on_time", "processing_minutes", "returned_at",
    "result_file_key", "result_note", "fee_amount", "fee_intent_id", "fee_method", "fee_paid_at",
)
INTENT_COLUMNS = (
    "id", "tenant_id", "public_id", "account_id", "amount", "amount_received", "amount_refunded", "currency",
    "status", "reference_code", "description", "purpose", "metadata", "qr_payload", "expires_at", "created_at",
    "updated_at", "succeeded_at",
)
RATING_LEVELS = ("very_satisfied",) * 75 + ("satisfied",) * 23 + ("unsatisfied",) * 2


def load_onestop(connection, tenants, accounts, sizes: Sizes, rng, now, prefix: str, bar, report: Report) -> None:
    """The demo's fifteen procedures in every commune, then D dossiers over ``months`` months with their day
    counters, fee intents and ratings."""
    from app.payments import vietqr
    from app.payments.bank.notifications import REFERENCE_ALPHABET, REFERENCE_LENGTH
    from app.payments.models import PaymentIntent
    from app.text import fold
    from tenants.onestop.demo import FAMILY, GIVEN, MIDDLE, PROCEDURES
    from tenants.onestop.models import Dossier, DossierCounter, Procedure, Rating
    from tenants.onestop.payments import FEE_TTL, PURPOSE

    per = len(PROCEDURES)
    first_proc = _reserve_ids(connection, Procedure.__table__, per * len(tenants))
    proc_rows = [(first_proc + t * per + p, tenant_id, name, sector, unit, amount, same_day, fee,
                  "Tờ khai theo mẫu; giấy tờ tùy thân", online, True)
                 for t, (tenant_id, _c, _d) in enumerate(tenants)
                 for p, (name, sector, unit, amount, same_day, fee, online, _w) in enumerate(PROCEDURES)]
    with bar("Procedures", len(proc_rows)) as progress:
        copy_rows(connection, Procedure.__table__, ("id", "tenant_id", "name", "sector", "time_unit", "time_amount",
                                                    "same_day", "fee", "required_documents", "online", "active"),
                  proc_rows, progress)
    report.counts["onestop_procedures"] = len(proc_rows)
    if not sizes.dossiers:
        return

    work = _Clock(now, sizes.months)
    if not work.days:
        raise ScaleError("No working day in the chosen months.")
    slots = len(_Clock.SLOTS)
    recent = max(0, len(work.days) - 5) * slots  # received in the last five working days: still open
    first_dossier = _reserve_ids(connection, Dossier.__table__, sizes.dossiers)
    # Fee intents: at most one per dossier; ids taken from a reservation as large as the worst case would waste
    # the sequence, so reserve for the dossiers of procedures with a fee only.
    fee_share = sum(w for *_x, fee, _o, w in PROCEDURES if fee) / sum(p[7] for p in PROCEDURES)
    intent_budget = int(sizes.dossiers * fee_share * 1.1) + 100
    first_intent = _reserve_ids(connection, PaymentIntent.__table__, intent_budget)
    weights = [p[7] for p in PROCEDURES]
    cumulative, total = [], 0
    for w in weights:
        total += w
        cumulative.append(total)
    names = [f"{f} {m} {g}" for f in FAMILY for m in MIDDLE for g in GIVEN]
    folded_names = [fold(n) for n in names]
    budgets = [amount * (60 if unit == "hours" else work.schedule.minutes_per_day)
               for _n, _s, unit, amount, *_rest in PROCEDURES]
    reference_start = rng.randrange(len(REFERENCE_ALPHABET) ** (REFERENCE_LENGTH - 1))
    alphabet, base = REFERENCE_ALPHABET, len(REFERENCE_ALPHABET)

    def reference(n: int) -> str:
        value, out = reference_start + n, []
        for _ in range(REFERENCE_LENGTH):
            value, digit = divmod(value, base)
            out.append(alphabet[digit])
        return prefix + "".join(reversed(out))

    intents: list[tuple] = []
    counters: list[tuple] = []
    ratings: list[tuple] = []
    state = {"intent": 0}
    per_tenant = _spread(sizes.dossiers, len(tenants))
    fee_lifetime = FEE_TTL

    def dossiers(progress):
        next_id = first_dossier
        rand, randrange = rng.random, rng.randrange
        span = len(work.days) * slots
        for (tenant_id, code, display), k in zip(tenants, per_tenant, strict=True):
            account_id, bank_bin, account_number = accounts[tenant_id]
            keys = sorted(randrange(span) for _ in range(k))
            day_of_prev, seq = -1, 0
            for key in keys:
                day = key // slots
                if day != day_of_prev:
                    if seq:
                        counters.append((tenant_id, work.days[day_of_prev], seq))
                    day_of_prev, seq = day, 0
                seq += 1
                index = bisect.bisect_right(cumulative, rand() * total)
                proc = PROCEDURES[index]
                _pname, _sector, _unit, _amount, same_day, fee, online, _w = proc
                received = work.moment(key)
                dossier_code = f"{code}-{work.days[day]:%y%m%d}-{seq:04d}"
                channel = "online" if online and rand() < 0.3 else ("post" if rand() < 0.01 else "counter")
                submitted = received - timedelta(hours=3) if channel == "online" else received
                name_i = randrange(len(names))
                fate = rand()
                due = work.due(key, index, proc)
                received_at, due_at, finished, on_time, minutes, returned, result_key = received, due, None, None, \
                    None, None, None
                reason, fee_method, fee_paid, intent_id = "", None, None, None
                if key >= recent:
                    status = ("registered" if channel == "online" and fate < 0.15 else
                              "awaiting_fee" if fee and fate < 0.3 else
                              "received" if fate < 0.4 else "processing")
                    if status == "registered":
                        received_at = due_at = None
                elif fate < 0.01:
                    status, received_at, due_at, reason = "refused", None, None, "Hồ sơ không thuộc thẩm quyền"
                    finished, on_time = received + timedelta(minutes=30), True
                elif fate < 0.015:
                    status, reason = "withdrawn", "Công dân xin rút hồ sơ"
                    finished = work.after(key, 30)
                    on_time = finished <= due
                else:
                    status = "returned"
                    budget = budgets[index]
                    if fate > 0.97:  # late
                        minutes = budget + (60, 240, 960)[int(fate * 1000) % 3]
                    elif same_day:
                        minutes = (20, 45, 90)[int(fate * 1000) % 3]
                    else:
                        minutes = max(10, budget * (1 + int(fate * 1000) % 4) // 4)
                    finished = work.after(key, minutes)
                    if same_day and fate <= 0.97:
                        finished = min(finished, due)
                    on_time = finished <= due
                    returned = finished + timedelta(minutes=5 + int(fate * 10_000) % 115)
                    result_key = f"scale/{dossier_code}.pdf"
                if fee and status in ("returned", "processing", "withdrawn", "awaiting_fee"):
                    paid = status != "awaiting_fee"
                    by_qr = not paid or rand() < 0.8
                    if paid:
                        fee_method, fee_paid = ("vietqr" if by_qr else "cash"), received + timedelta(minutes=5)
                    if by_qr:
                        n = state["intent"]
                        if n >= intent_budget:
                            raise ScaleError("More fee intents than reserved ids (internal error).")
                        state["intent"] = n + 1
                        intent_id = first_intent + n
                        ref = reference(n)
                        created = received + timedelta(minutes=1)
                        intents.append((
                            intent_id, tenant_id, f"pi_{secrets.token_hex(12)}", account_id, fee,
                            fee if paid else 0, 0, "vnd", "succeeded" if paid else "requires_payment_method", ref,
                            f"Lệ phí hồ sơ {dossier_code}", PURPOSE, f'{{"dossier": "{dossier_code}"}}',
                            vietqr.encode(bank_bin, account_number, amount=fee, memo=ref),
                            (now + fee_lifetime) if not paid else created + fee_lifetime, created,
                            fee_paid or created, fee_paid))
                if status == "returned" and fate * 7 % 1 < 0.5:
                    level = RATING_LEVELS[int(fate * 100_000) % 100]
                    ratings.append((tenant_id, next_id, level, "Phải chờ lâu" if level == "unsatisfied" else "",
                                    returned + timedelta(minutes=2)))
                yield (next_id, tenant_id, dossier_code, first_proc + tenants_index[tenant_id] * per + index,
                       channel, status, names[name_i], folded_names[name_i], f"001{randrange(10**9):09d}",
                       f"09{randrange(10**8):08d}", f"Thôn {1 + name_i % 12}, {display}", "", "", 1, submitted,
                       received_at, due_at, 0, 0, "", "", reason, finished, on_time, minutes, returned, result_key,
                       "", fee, intent_id, fee_method, fee_paid)
                next_id += 1
            if seq:
                counters.append((tenant_id, work.days[day_of_prev], seq))
            progress.update(k)

    tenants_index = {tenant_id: i for i, (tenant_id, _c, _d) in enumerate(tenants)}
    # Intents first (dossiers point at them): generate the dossiers into a buffer per chunk of communes.
    with bar("Dossiers", sizes.dossiers) as progress:
        chunk: list[tuple] = []
        written = 0
        for row in dossiers(progress):
            chunk.append(row)
            if len(chunk) >= 50_000:
                written += _flush_dossiers(connection, chunk, intents, Dossier, PaymentIntent)
        written += _flush_dossiers(connection, chunk, intents, Dossier, PaymentIntent)
    report.counts["onestop_dossiers"] = written
    report.counts["payment_intents"] = state["intent"]
    with bar("Day counters", len(counters)) as progress:
        report.counts["onestop_dossier_counters"] = copy_rows(
            connection, DossierCounter.__table__, ("tenant_id", "day", "last"), counters, progress)
    with bar("Ratings", len(ratings)) as progress:
        report.counts["onestop_ratings"] = copy_rows(
            connection, Rating.__table__, ("tenant_id", "dossier_id", "level", "reason", "rated_at"), ratings,
            progress)


def _flush_dossiers(connection, chunk: list, intents: list, Dossier, PaymentIntent) -> int:  # noqa: N803
    if intents:
        copy_rows(connection, PaymentIntent.__table__, INTENT_COLUMNS, intents)
        intents.clear()
    count = copy_rows(connection, Dossier.__table__, DOSSIER_COLUMNS, chunk) if chunk else 0
    chunk.clear()
    return count


# ---------------------------------------------------------------------------------------------------- the run


def seed(sizes: Sizes, *, prefix: str = "GL", bar: BarFactory = silent_bar, now: datetime | None = None) -> Report:
    """Load the data set in one transaction per domain; returns the counts written and the seconds each took."""
    sizes.check()
    now = now or datetime.now(timezone.utc)
    rng = random.Random(sizes.seed)
    report = Report()
    with all_tenants():  # every loader names the tenant of each row itself
        check_database(db.session.connection())
        bins = _bank_bins()
        with _timed(report, "communes"):
            connection = db.session.connection()
            tenants = load_tenants(connection, sizes, rng, bar)
            numbers = AccountNumbers(connection, "9766")
            accounts = load_commune_accounts(connection, tenants, numbers, bins, bar)
            db.session.commit()
        report.counts["tenants"] = len(tenants)
        report.counts["commune_accounts"] = len(accounts)
        with _timed(report, "vendors"):
            vendors = (load_vendors(db.session.connection(), tenants, sizes, numbers, bins, rng, bar)
                       if sizes.vendors else [])
            db.session.commit()
        report.counts["vendors"] = len(vendors)
        with _timed(report, "products"):
            if sizes.products:
                load_products(db.session.connection(), vendors, sizes, rng, now, bar)
            db.session.commit()
        report.counts["products"] = sizes.products
        with _timed(report, "onestop"):
            load_onestop(db.session.connection(), tenants, accounts, sizes, rng, now, prefix, bar, report)
            db.session.commit()
        with _timed(report, "analyze"):
            db.session.connection().execute(text("ANALYZE"))
            db.session.commit()
    return report

