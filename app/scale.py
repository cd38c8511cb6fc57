"""Synthetic national data set (``flask seed-scale``): thousands of communes as tenants, their vendors with bank
accounts, a national catalogue with its orders, a market in every commune with its stalls and sales, and a year of
one-stop dossiers, loaded on PostgreSQL with ``COPY ... FROM STDIN`` through the psycopg 3 connection under the
SQLAlchemy session (no ORM object per row, no INSERT per row).

One loader per domain, each writing the columns of the domain's own model table (``Model.__table__``): a column
added later that is NOT NULL without a server default makes the loader stop with its name, so the seed keeps up
with the schema instead of silently writing half a row.

What holds, whatever the sizes (tests/test_seed_scale.py checks it):
- tenants are created first (unique slugs, codes after the highest numeric code already present), and every row
  written names one of them;
- a vendor has one active payment account; (bank BIN, account number) is unique across the install;
- a product belongs to its vendor's commune; ``reserved`` is the sum of the quantities of its lines in sub-orders
  awaiting payment (the only ones holding stock in marketplace/services.py), and stock >= reserved >= 0;
- an order is a checkout of published products: one sub-order per vendor (in the vendor's commune), lines at the
  product's price and name; line totals add up to the sub-order's subtotal, subtotals to the order's total. Every
  sub-order has its ``marketplace_order`` intent on the vendor's own account for exactly the subtotal: succeeded
  with amount_received = amount once paid (then confirmed, shipped, delivered as time passed), open until the hold
  ends while awaiting payment, canceled with nothing received when it expired or the vendor canceled it;
- every commune has a market (one in seven has two); a stall is let to a vendor of its commune or free; a sale is
  made at its vendor's stall (market, number and goods copied from it, as services.record_qr_sale does). A QR sale
  has a ``market_sale`` intent on the vendor's own account for exactly the sale: succeeded with amount_received =
  amount when paid, canceled with nothing received when the transfer never came; a cash sale has none;
- a dossier follows its procedure: due time from the working-time rules (tenants/onestop/worktime.py), a code
  ``<unit code>-YYMMDD-NNNN`` unique per commune and day with the day's counter row, status fields consistent with
  the status (received/due/finished/returned times, on-time judgement); a fee paid by VietQR has a succeeded intent
  on the commune's fee account with amount_received = amount, a fee awaited has an open intent with nothing
  received;
- reference codes (and order codes) are made from the row's id, so they are unique across the loaders and across
  runs without a look-up (``Codes``); nothing is dated in the future.

COPY FROM is refused by PostgreSQL on tables with row-level security for a role that is subject to it, so the
command runs as the database owner with BYPASSRLS (or a superuser), across tenants explicitly (``all_tenants``).
"""

from __future__ import annotations

import bisect
import json
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
    sales: int = 0
    orders: int = 0
    months: int = 12
    seed: int = 766

    def check(self) -> None:
        if self.communes < 1:
            raise ScaleError("--communes must be at least 1.")
        if min(self.products, self.dossiers, self.vendors, self.sales, self.orders) < 0:
            raise ScaleError("Sizes cannot be negative.")
        if (self.products or self.sales) and not self.vendors:
            raise ScaleError("Products and market sales need vendors: give --vendors.")
        if self.orders and not self.products:
            raise ScaleError("Orders need products: give --products.")
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


class _IdBlocks:
    """Ids of a table taken as rows are made, when their number is not known beforehand: reserved from the
    sequence a block at a time (at most one block's remainder is left unused)."""

    BLOCK = 10_000

    def __init__(self, connection, table: Table) -> None:
        self.connection, self.table = connection, table
        self.next = self.end = 0

    def take(self) -> int:
        if self.next == self.end:
            self.next = _reserve_ids(self.connection, self.table, self.BLOCK)
            self.end = self.next + self.BLOCK
        taken = self.next
        self.next += 1
        return taken


def _copy_with_intents(connection, rows: Iterable[tuple], intents: list, table: Table, columns: tuple[str, ...],
                       chunk_size: int = 50_000) -> int:
    """COPY ``rows`` into ``table`` by chunks, each after the payment intents its rows point at (the generator of
    ``rows`` appends them to ``intents``, which is emptied at every chunk); returns the rows written."""
    from app.payments.models import PaymentIntent

    written, chunk = 0, []

    def flush() -> int:
        if intents:
            copy_rows(connection, PaymentIntent.__table__, INTENT_COLUMNS, intents)
            intents.clear()
        count = copy_rows(connection, table, columns, chunk) if chunk else 0
        chunk.clear()
        return count

    for row in rows:
        chunk.append(row)
        if len(chunk) >= chunk_size:
            written += flush()
    return written + flush()


@contextmanager
def _timed(report: Report, name: str):
    start = clock.perf_counter()
    yield
    report.seconds[name] = round(clock.perf_counter() - start, 1)


def _spread(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


class Codes:
    """Codes made from unique ids, so they are unique without a look-up: ``n -> (n * factor + offset) mod
    base**length`` is one-to-one (the factor is prime to the base), written in ``alphabet``. Factor and offset are
    constants, not drawn from the seed: runs with different seeds write different ids, hence different codes. The
    factor scatters neighbouring ids, so codes look drawn at random as the application's are."""

    FACTOR = 1_000_003  # a prime, neither 2 nor 31: prime to both alphabets' sizes (31, 32)
    OFFSET = 766_766_766

    def __init__(self, prefix: str, alphabet: str, length: int) -> None:
        self.prefix, self.alphabet, self.length = prefix, alphabet, length
        self.space = len(alphabet) ** length
        self.offset = self.OFFSET % self.space

    def __call__(self, n: int) -> str:
        if not 0 < n < self.space:
            raise ScaleError(f"Id {n} out of the range of unique codes.")
        value, base, out = (n * self.FACTOR + self.offset) % self.space, len(self.alphabet), []
        for _ in range(self.length):
            value, digit = divmod(value, base)
            out.append(self.alphabet[digit])
        return self.prefix + "".join(reversed(out))


def _json(**values: str) -> str:
    return json.dumps(values, ensure_ascii=False)


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
        rows.append((account[0], tenant_id, "commune", f"Lệ phí - {display}"[:120], account[1], account[2],
                     f"UBND {display}".upper()[:120], True))
    with bar("Fee accounts", len(rows)) as progress:
        copy_rows(connection, table, ("id", "tenant_id", "owner_kind", "label", "bank_bin", "account_number",
                                      "holder_name", "active"), rows, progress)
    return accounts


# ---------------------------------------------------------------------------------------------------- vendors


@dataclass(frozen=True)
class VendorRow:
    """What the later loaders need of a seeded vendor: its commune, name, goods and bank account."""

    id: int
    tenant_id: int
    name: str
    goods: str
    account_id: int
    bank_bin: str
    account_number: str


def vendor_name(i: int) -> str:
    trade, _kind = VENDOR_TRADES[1 if i % 10 == 0 else 0]
    return f"{trade} {VENDOR_WORDS[i % len(VENDOR_WORDS)]} {i + 1}"


def load_vendors(connection, tenants, sizes: Sizes, numbers: AccountNumbers, bins, rng, bar) -> list[VendorRow]:
    """V vendors spread over the communes, each with its own bank account."""
    from app.payments.models import PaymentAccount
    from tenants.vendors.models import Vendor, VendorAccount

    n = sizes.vendors
    first_vendor = _reserve_ids(connection, Vendor.__table__, n)
    first_account = _reserve_ids(connection, PaymentAccount.__table__, n)
    tenant_of = [tenants[rng.randrange(len(tenants))][0] for _ in range(n)]
    goods = [kind[2] for kind in PRODUCT_KINDS]
    numbers_of = [numbers.take() for _ in range(n)]

    def vendors():
        for i in range(n):
            kind = VENDOR_TRADES[1 if i % 10 == 0 else 0][1]
            name = vendor_name(i)
            yield (first_vendor + i, tenant_of[i], kind, name, f"{slugify(name)}-{first_vendor + i}",
                   f"Chủ hộ {i + 1}", f"09{(first_vendor + i) % 100_000_000:08d}", goods[i % len(goods)], "", True)

    def accounts():
        for i in range(n):
            yield (first_account + i, tenant_of[i], "vendor", "Tài khoản bán hàng", bins[i % len(bins)],
                   numbers_of[i], f"CHU HO {i + 1}", True)

    def links():
        for i in range(n):
            yield tenant_of[i], first_vendor + i, first_account + i

    with bar("Vendors", n) as progress:
        copy_rows(connection, Vendor.__table__, ("id", "tenant_id", "kind", "business_name", "slug", "owner_name",
                                                 "phone", "goods_category", "description", "active"),
                  vendors(), progress)
    with bar("Vendor accounts", n) as progress:
        copy_rows(connection, PaymentAccount.__table__, ("id", "tenant_id", "owner_kind", "label", "bank_bin",
                                                         "account_number", "holder_name", "active"),
                  accounts(), progress)
        copy_rows(connection, VendorAccount.__table__, ("tenant_id", "vendor_id", "account_id"), links())
    return [VendorRow(first_vendor + i, tenant_of[i], vendor_name(i), goods[i % len(goods)], first_account + i,
                      bins[i % len(bins)], numbers_of[i]) for i in range(n)]


# ---------------------------------------------------------------------------------------------------- marketplace

ORDER_AWAITING_SHARE = 0.02  # orders placed within the hold, still awaiting payment (their stock is held)
SUB_ORDER_SIZES = (1,) * 70 + (2,) * 22 + (3,) * 8  # vendors per order (one sub-order each)
LINE_SIZES = (1,) * 60 + (2,) * 28 + (3,) * 12  # products per sub-order
QUANTITIES = (1,) * 55 + (2,) * 25 + (3,) * 10 + (5,) * 6 + (10,) * 4
VENDOR_CANCEL_REASONS = ("Hết hàng, xin lỗi quý khách", "Không giao được đến địa chỉ này")


@dataclass
class _SubOrderPlan:
    vendor: VendorRow
    lines: list[tuple[int, int]]  # (product index, quantity)
    subtotal: int
    status: str
    hold_expires_at: datetime
    paid_at: datetime | None = None
    confirmed_at: datetime | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    canceled_at: datetime | None = None  # the vendor canceled before payment
    expired_at: datetime | None = None  # the hold ran out unpaid (the intent was abandoned)
    cancel_reason: str | None = None


@dataclass
class _OrderPlan:
    created_at: datetime
    buyer: int  # index into the names
    phone: str
    address: str
    subs: list[_SubOrderPlan]


PRODUCT_COLUMNS = (
    "id", "tenant_id", "vendor_id", "category", "name", "name_folded", "name_lower", "slug", "description", "price",
    "unit", "stock", "reserved", "images", "ocop_stars", "ocop_certificate", "status", "featured", "created_at",
    "updated_at")


def plan_products(connection, vendors: list[VendorRow], sizes: Sizes, rng, now) -> list[list]:
    """P product rows (PRODUCT_COLUMNS), each of a random vendor and in that vendor's commune; ``stock`` is what is
    on hand besides any reservation, ``reserved`` 0 until the orders are planned (``load_marketplace``)."""
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
    rows = []
    for i in range(n):
        vendor = vendors[rng.randrange(len(vendors))]
        name, (category, folded, lower, slug) = choices[rng.randrange(len(choices))]
        stock = rng.randrange(0, 500)
        stars = rng.choice((None, None, None, 3, 4, 5))
        created = now - timedelta(minutes=rng.randrange(0, 60 * 24 * 365))
        rows.append([first + i, vendor.tenant_id, vendor.id, category, name, folded, lower, f"{slug}-{first + i}",
                     "", rng.randrange(2, 500) * 1_000, UNITS[i % len(UNITS)], stock, 0, "[]", stars,
                     f"OCOP-{first + i}" if stars else None, "published" if i % 20 else "draft", i % 97 == 0,
                     created, created])
    return rows


def plan_orders(products: list[list], vendors: list[VendorRow], tenants, sizes: Sizes, rng, now,
                hold: timedelta) -> list[_OrderPlan]:
    """O checkouts of published products as ``marketplace.services.checkout`` makes them (one sub-order per vendor,
    lines of distinct products at their price), then what became of each sub-order. The last 2 % were placed within
    the hold and still await payment: their lines are added to the products' ``reserved`` (and to their stock, so
    stock >= reserved); earlier ones were paid (then confirmed, shipped, delivered as time passed), expired unpaid,
    or canceled by the vendor before payment, none of which holds stock any more."""
    from tenants.onestop.demo import FAMILY, GIVEN, MIDDLE

    by_vendor: dict[int, list[int]] = {}
    for index, row in enumerate(products):
        if row[16] == "published":
            by_vendor.setdefault(row[2], []).append(index)
    vendor_of = {v.id: v for v in vendors}
    sellers = [vendor_of[vendor_id] for vendor_id in sorted(by_vendor)]
    if not sellers:
        raise ScaleError("Orders need published products: give more --products.")
    n_names = len(FAMILY) * len(MIDDLE) * len(GIVEN)
    now = now.replace(microsecond=0)
    awaiting = max(1, round(sizes.orders * ORDER_AWAITING_SHARE))
    older = sizes.orders - awaiting
    span = int(30.44 * sizes.months * 86_400)
    hold_s = int(hold.total_seconds())
    moments = sorted(now - timedelta(seconds=rng.randrange(hold_s + 60, span)) for _ in range(older))
    moments += sorted(now - timedelta(seconds=rng.randrange(30, max(hold_s - 30, 31))) for _ in range(awaiting))
    rand, randrange, choice = rng.random, rng.randrange, rng.choice
    reserved: dict[int, int] = {}
    first_sold: dict[int, datetime] = {}
    orders = []
    for number, created in enumerate(moments):
        is_awaiting = number >= older
        hold_end = created + hold
        chosen = rng.sample(sellers, min(choice(SUB_ORDER_SIZES), len(sellers)))
        subs = []
        for vendor in chosen:
            catalogue = by_vendor[vendor.id]
            picked = rng.sample(catalogue, min(choice(LINE_SIZES), len(catalogue)))
            lines = [(index, choice(QUANTITIES)) for index in sorted(picked, key=lambda i: products[i][0])]
            sub = _SubOrderPlan(vendor, lines, sum(products[i][9] * q for i, q in lines), "awaiting_payment",
                                hold_end)
            for index, _quantity in lines:
                if index not in first_sold or created < first_sold[index]:
                    first_sold[index] = created
            if is_awaiting:
                for index, quantity in lines:
                    reserved[index] = reserved.get(index, 0) + quantity
            else:
                fate = rand()
                if fate < 0.05:
                    sub.status, sub.expired_at = "expired", hold_end
                elif fate < 0.07:
                    sub.status, sub.canceled_at = "canceled", created + timedelta(seconds=randrange(60, hold_s))
                    sub.cancel_reason = VENDOR_CANCEL_REASONS[int(fate * 1000) % len(VENDOR_CANCEL_REASONS)]
                else:
                    sub.status, sub.paid_at = "paid", created + timedelta(seconds=randrange(60, hold_s))
                    steps = (("confirmed", "confirmed_at", timedelta(minutes=randrange(10, 360))),
                             ("shipped", "shipped_at", timedelta(hours=randrange(2, 48))),
                             ("delivered", "delivered_at", timedelta(hours=randrange(20, 96))))
                    moment = sub.paid_at
                    for status, column, delay in steps:
                        moment += delay
                        if moment > now:
                            break
                        sub.status = status
                        setattr(sub, column, moment)
            subs.append(sub)
        tenant_display = tenants[randrange(len(tenants))][2]
        orders.append(_OrderPlan(created, randrange(n_names), f"09{randrange(10**8):08d}",
                                 f"Số {randrange(1, 200)}, thôn {randrange(1, 13)}, {tenant_display}", subs))
    for index, quantity in reserved.items():
        products[index][11] += quantity  # stock on hand covers what is held
        products[index][12] = quantity
    for index, moment in first_sold.items():  # listed before anyone ordered it
        if products[index][18] >= moment:
            products[index][18] = products[index][19] = moment - timedelta(days=1 + index % 30)
    return orders


ORDER_COLUMNS = ("id", "code", "buyer_name", "phone", "address", "note", "total", "created_at")
SUB_ORDER_COLUMNS = (
    "id", "tenant_id", "order_id", "vendor_id", "status", "subtotal", "intent_id", "hold_expires_at", "refund_due",
    "late_payment", "cancel_reason", "created_at", "paid_at", "confirmed_at", "shipped_at", "delivered_at",
    "canceled_at")
LINE_COLUMNS = ("id", "tenant_id", "sub_order_id", "product_id", "name", "unit", "unit_price", "quantity")


def load_marketplace(connection, tenants, vendors: list[VendorRow], sizes: Sizes, rng, order_rng, now,
                     reference: Codes, order_code: Codes, hold: timedelta, bar, report: Report) -> None:
    """The catalogue, then the orders: products are COPYed with the reservations of the orders still awaiting
    payment already counted, so the two always agree. A sub-order's payment intent is on its vendor's own account
    (purpose ``marketplace_order``, for exactly its subtotal), as ``marketplace.payments.request_payment`` makes it."""
    from app.payments import vietqr
    from app.payments.models import PaymentIntent
    from marketplace.models import Order, OrderLine, Product, SubOrder
    from marketplace.payments import PURPOSE
    from tenants.onestop.demo import FAMILY, GIVEN, MIDDLE

    with _timed(report, "products"):
        products = plan_products(connection, vendors, sizes, rng, now) if sizes.products else []
        orders = plan_orders(products, vendors, tenants, sizes, order_rng, now, hold) if sizes.orders else []
        with bar("Products", len(products)) as progress:
            report.counts["products"] = copy_rows(connection, Product.__table__, PRODUCT_COLUMNS,
                                                  (tuple(row) for row in products), progress)
    if not orders:
        return
    with _timed(report, "orders"):
        names = [f"{f} {m} {g}" for f in FAMILY for m in MIDDLE for g in GIVEN]
        subs = [sub for order in orders for sub in order.subs]
        n_lines = sum(len(sub.lines) for sub in subs)
        first_order = _reserve_ids(connection, Order.__table__, len(orders))
        first_sub = _reserve_ids(connection, SubOrder.__table__, len(subs))
        first_line = _reserve_ids(connection, OrderLine.__table__, n_lines)
        first_intent = _reserve_ids(connection, PaymentIntent.__table__, len(subs))
        public_ids = [f"pi_{secrets.token_hex(12)}" for _ in subs]

        def order_rows():
            for i, order in enumerate(orders):
                yield (first_order + i, order_code(first_order + i), names[order.buyer], order.phone, order.address,
                       "", sum(sub.subtotal for sub in order.subs), order.created_at)

        def numbered():  # (order id, order code, sub-order id, index of the sub-order, plan)
            k = 0
            for i, order in enumerate(orders):
                code = order_code(first_order + i)
                for sub in order.subs:
                    yield first_order + i, code, first_sub + k, k, order, sub
                    k += 1

        def intent_rows():
            for _order_id, code, sub_id, k, order, sub in numbered():
                intent_id, vendor = first_intent + k, sub.vendor
                ref = reference(intent_id)
                paid = sub.paid_at is not None
                ended = sub.expired_at or sub.canceled_at
                status = "succeeded" if paid else "canceled" if ended else "requires_action"
                reason = ("abandoned" if sub.expired_at else "requested_by_customer") if ended else None
                yield (intent_id, vendor.tenant_id, public_ids[k], vendor.account_id, sub.subtotal,
                       sub.subtotal if paid else 0, 0, "vnd", status, ref, f"Đơn hàng {code}", PURPOSE,
                       _json(order=code, sub_order=str(sub_id)),
                       vietqr.encode(vendor.bank_bin, vendor.account_number, amount=sub.subtotal, memo=ref),
                       sub.hold_expires_at, order.created_at, sub.paid_at or ended or order.created_at, sub.paid_at,
                       reason, ended)

        def sub_rows():
            for order_id, _code, sub_id, k, order, sub in numbered():
                yield (sub_id, sub.vendor.tenant_id, order_id, sub.vendor.id, sub.status, sub.subtotal,
                       public_ids[k], sub.hold_expires_at, False, False, sub.cancel_reason, order.created_at,
                       sub.paid_at, sub.confirmed_at, sub.shipped_at, sub.delivered_at, sub.canceled_at)

        def line_rows():
            line_id = first_line
            for _order_id, _code, sub_id, _k, _order, sub in numbered():
                for index, quantity in sub.lines:
                    product = products[index]
                    yield (line_id, product[1], sub_id, product[0], product[4], product[10], product[9], quantity)
                    line_id += 1

        with bar("Orders", len(orders)) as progress:
            report.counts["orders"] = copy_rows(connection, Order.__table__, ORDER_COLUMNS, order_rows(), progress)
        with bar("Order intents", len(subs)) as progress:
            report.counts["order_intents"] = copy_rows(connection, PaymentIntent.__table__, INTENT_COLUMNS,
                                                       intent_rows(), progress)
        with bar("Sub-orders", len(subs)) as progress:
            report.counts["sub_orders"] = copy_rows(connection, SubOrder.__table__, SUB_ORDER_COLUMNS, sub_rows(),
                                                    progress)
        with bar("Order lines", n_lines) as progress:
            report.counts["order_lines"] = copy_rows(connection, OrderLine.__table__, LINE_COLUMNS, line_rows(),
                                                     progress)


# ---------------------------------------------------------------------------------------------------- market


# Typical sale at a stall, in thousand đồng (low, high), per goods category (tenants/market/demo.py's figures).
SALE_RANGES = {"vegetables": (10, 60), "fruit": (20, 150), "meat": (50, 350), "fish": (40, 300),
               "poultry": (30, 250), "rice": (60, 400), "dry_goods": (15, 200), "cooked_food": (15, 80),
               "flowers": (20, 200), "clothing": (80, 500), "household_goods": (30, 300), "ceramics": (80, 900),
               "other": (20, 200)}
FREE_STALL_GOODS = ("vegetables", "meat", "fish")
STALLS_PER_ROW = 20
STALL_ROWS = "ABCDEFGHJKLM"
MARKET_OPEN, MARKET_HOURS = 5 * 60, 13  # sales from 05:00 to 17:59, Hà Nội time
SALE_CANCELED_SHARE = 0.03  # QR sales whose transfer never came (the intent was abandoned)

MARKET_COLUMNS = ("id", "tenant_id", "name", "slug", "address", "opening_hours", "active", "created_at")
STALL_COLUMNS = ("id", "tenant_id", "market_id", "number", "row", "goods_category", "vendor_id")
SALE_COLUMNS = (
    "id", "tenant_id", "vendor_id", "market_id", "stall_number", "goods_category", "amount", "note", "method",
    "status", "confirmation", "intent_id", "demo", "created_at", "paid_at")


def _market_days(now: datetime, months: int) -> list[datetime]:
    """Hà Nội midnights (as UTC instants) of every day of the last ``months`` months before today: markets open
    every day, and nothing is sold in the future."""
    from app.formatting import VN_TZ

    today = now.astimezone(VN_TZ).date()
    day, days = today - timedelta(days=round(30.44 * months)), []
    while day < today:
        days.append(datetime.combine(day, datetime.min.time(), tzinfo=VN_TZ).astimezone(timezone.utc))
        day += timedelta(days=1)
    return days


def load_market(connection, tenants, vendors: list[VendorRow], sizes: Sizes, rng, now, reference: Codes,
                ttl: timedelta, bar, report: Report) -> None:
    """A market in every commune (two in one of seven), a stall for four vendors of the commune out of five plus
    two free stalls per market, then S sales at those stalls over ``months`` months. A QR sale is paid by a
    ``market_sale`` intent on the vendor's own account for exactly its amount (``record_qr_sale`` then the bank's
    notification), 3 % of them canceled unpaid; a cash sale has no intent. The QR share differs per commune and grows
    over the period, as the demo's does."""
    from app.payments import vietqr
    from app.payments.models import PaymentIntent
    from tenants.market.models import Market, MarketSale, Stall
    from tenants.market.payments import SALE_PURPOSE

    per_commune: dict[int, list[VendorRow]] = {}
    for i, vendor in enumerate(vendors):
        if i % 5 != 4:  # one vendor in five sells on the marketplace only
            per_commune.setdefault(vendor.tenant_id, []).append(vendor)
    counts = [2 if t % 7 == 3 else 1 for t in range(len(tenants))]
    first_market = _reserve_ids(connection, Market.__table__, sum(counts))
    markets, stalls, sellers = [], [], []  # sellers: (vendor, market id, stall number, goods)
    opened = now - timedelta(days=round(30.44 * sizes.months) + 30)
    for (tenant_id, _code, display), count in zip(tenants, counts, strict=True):
        ids = [first_market + len(markets) + m for m in range(count)]
        place = next((display[len(kind):] for kind in ("Thị trấn ", "Phường ", "Xã ") if display.startswith(kind)),
                     display)
        for m, market_id in enumerate(ids):
            name = f"Chợ {place}" if m == 0 else f"Chợ đầu mối {place}"
            markets.append((market_id, tenant_id, name, slugify(name)[:120], f"Trung tâm {display}",
                            "05:00–18:00 hằng ngày", True, opened))
        holders = per_commune.get(tenant_id, [])
        numbers = [0] * count
        for k, vendor in enumerate(holders):
            m = k % count
            stalls.append((ids[m], tenant_id, numbers[m], vendor.goods, vendor.id))
            numbers[m] += 1
        for m in range(count):
            for free in range(2):
                stalls.append((ids[m], tenant_id, numbers[m], FREE_STALL_GOODS[free], None))
                numbers[m] += 1
    first_stall = _reserve_ids(connection, Stall.__table__, len(stalls))
    stall_rows = []
    for i, (market_id, tenant_id, position, goods, vendor_id) in enumerate(stalls):
        if position < len(STALL_ROWS) * STALLS_PER_ROW:  # A01 .. A20, B01 .. in rows "Dãy A", "Dãy B" ...
            letter = STALL_ROWS[position // STALLS_PER_ROW]
            number, row = f"{letter}{position % STALLS_PER_ROW + 1:02d}", f"Dãy {letter}"
        else:
            number, row = f"N{position + 1}", "Dãy ngoài"
        stall_rows.append((first_stall + i, tenant_id, market_id, number, row, goods, vendor_id))
        if vendor_id is not None:
            sellers.append((vendor_id, market_id, number, goods))
    with bar("Markets", len(markets)) as progress:
        report.counts["markets"] = copy_rows(connection, Market.__table__, MARKET_COLUMNS, markets, progress)
    with bar("Stalls", len(stall_rows)) as progress:
        report.counts["stalls"] = copy_rows(connection, Stall.__table__, STALL_COLUMNS, stall_rows, progress)
    report.counts["market_sales"] = report.counts["sale_intents"] = 0
    if not sizes.sales:
        return
    if not sellers:
        raise ScaleError("Market sales need vendors with a stall: give more --vendors.")

    days = _market_days(now, sizes.months)
    if not days:
        raise ScaleError("No market day in the chosen months.")
    vendor_of = {v.id: v for v in vendors}
    qr_base = {tenant_id: 0.35 + 0.5 * rng.random() for tenant_id, _c, _d in tenants}
    first_sale = _reserve_ids(connection, MarketSale.__table__, sizes.sales)
    intent_ids = _IdBlocks(connection, PaymentIntent.__table__)
    minutes = MARKET_HOURS * 60
    span = len(days) * minutes
    intents: list[tuple] = []
    state = {"intents": 0}
    minute = [timedelta(minutes=MARKET_OPEN + m) for m in range(minutes)]
    delays = [timedelta(seconds=s) for s in range(5, 41)]
    lifetime = ttl

    def sales(progress):
        sale_id = first_sale
        rand, randrange = rng.random, rng.randrange
        for (vendor_id, market_id, number, goods), k in zip(sellers, _spread(sizes.sales, len(sellers)),
                                                            strict=True):
            vendor = vendor_of[vendor_id]
            tenant_id, low, high = vendor.tenant_id, *SALE_RANGES.get(goods, SALE_RANGES["other"])
            share = qr_base[tenant_id]
            label = f"{vendor.name} #{number}"
            metadata = _json(vendor=str(vendor_id))
            for key in sorted(randrange(span) for _ in range(k)):
                day, at = divmod(key, minutes)
                created = days[day] + minute[at]
                amount = randrange(low, high + 1) * 1000
                if rand() < min(0.95, share * (0.75 + 0.35 * key / span)):
                    intent_id = intent_ids.take()
                    ref = reference(intent_id)
                    expires = created + lifetime
                    if rand() < SALE_CANCELED_SHARE:
                        status, confirmation, paid_at = "canceled", None, None
                        intents.append((intent_id, tenant_id, f"pi_{secrets.token_hex(12)}", vendor.account_id,
                                        amount, 0, 0, "vnd", "canceled", ref, label, SALE_PURPOSE, metadata,
                                        vietqr.encode(vendor.bank_bin, vendor.account_number, amount=amount,
                                                      memo=ref),
                                        expires, created, expires, None, "abandoned", expires))
                    else:
                        status, confirmation, paid_at = "paid", "bank", created + delays[randrange(len(delays))]
                        intents.append((intent_id, tenant_id, f"pi_{secrets.token_hex(12)}", vendor.account_id,
                                        amount, amount, 0, "vnd", "succeeded", ref, label, SALE_PURPOSE, metadata,
                                        vietqr.encode(vendor.bank_bin, vendor.account_number, amount=amount,
                                                      memo=ref),
                                        expires, created, paid_at, paid_at, None, None))
                    state["intents"] += 1
                    yield (sale_id, tenant_id, vendor_id, market_id, number, goods, amount, "", "qr", status,
                           confirmation, intent_id, False, created, paid_at)
                else:
                    yield (sale_id, tenant_id, vendor_id, market_id, number, goods, amount, "", "cash", "paid",
                           "cash", None, False, created, created)
                sale_id += 1
            progress.update(k)

    with bar("Market sales", sizes.sales) as progress:
        written = _copy_with_intents(connection, sales(progress), intents, MarketSale.__table__, SALE_COLUMNS)
    report.counts["market_sales"] = written
    report.counts["sale_intents"] = state["intents"]


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
    "updated_at", "succeeded_at", "cancellation_reason", "canceled_at",
)
RATING_LEVELS = ("very_satisfied",) * 75 + ("satisfied",) * 23 + ("unsatisfied",) * 2


def load_onestop(connection, tenants, accounts, sizes: Sizes, rng, now, reference: Codes, bar,
                 report: Report) -> None:
    """The demo's fifteen procedures in every commune, then D dossiers over ``months`` months with their day
    counters, fee intents and ratings."""
    from app.payments import vietqr
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
                        ref = reference(intent_id)
                        created = received + timedelta(minutes=1)
                        intents.append((
                            intent_id, tenant_id, f"pi_{secrets.token_hex(12)}", account_id, fee,
                            fee if paid else 0, 0, "vnd", "succeeded" if paid else "requires_payment_method", ref,
                            f"Lệ phí hồ sơ {dossier_code}", PURPOSE, f'{{"dossier": "{dossier_code}"}}',
                            vietqr.encode(bank_bin, account_number, amount=fee, memo=ref),
                            (now + fee_lifetime) if not paid else created + fee_lifetime, created,
                            fee_paid or created, fee_paid, None, None))
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
    # Intents first (dossiers point at them): _copy_with_intents writes each chunk after its intents.
    with bar("Dossiers", sizes.dossiers) as progress:
        written = _copy_with_intents(connection, dossiers(progress), intents, Dossier.__table__, DOSSIER_COLUMNS)
    report.counts["onestop_dossiers"] = written
    report.counts["fee_intents"] = state["intent"]
    with bar("Day counters", len(counters)) as progress:
        report.counts["onestop_dossier_counters"] = copy_rows(
            connection, DossierCounter.__table__, ("tenant_id", "day", "last"), counters, progress)
    with bar("Ratings", len(ratings)) as progress:
        report.counts["onestop_ratings"] = copy_rows(
            connection, Rating.__table__, ("tenant_id", "dossier_id", "level", "reason", "rated_at"), ratings,
            progress)




# ---------------------------------------------------------------------------------------------------- the run


def seed(sizes: Sizes, *, prefix: str = "GL", bar: BarFactory = silent_bar, now: datetime | None = None) -> Report:
    """Load the data set in one transaction per domain; returns the counts written and the seconds each took.

    The communes, vendors, catalogue and dossiers draw from one random generator seeded with ``sizes.seed``; the
    orders and the markets from their own (seeded from it too), so ``--sales`` and ``--orders`` change no draw of
    the other loaders (the orders still add what they hold to the products' stock and reservation)."""
    from flask import current_app

    from app.payments.bank.notifications import REFERENCE_ALPHABET, REFERENCE_LENGTH
    from marketplace.services import _CODE_ALPHABET as ORDER_CODE_ALPHABET

    sizes.check()
    now = now or datetime.now(timezone.utc)
    rng = random.Random(sizes.seed)
    report = Report()
    reference = Codes(prefix, REFERENCE_ALPHABET, REFERENCE_LENGTH)
    order_code = Codes("DH", ORDER_CODE_ALPHABET, 8)
    hold = timedelta(minutes=current_app.config.get("MARKETPLACE_HOLD_MINUTES") or 30)
    ttl = timedelta(minutes=current_app.config.get("PAYMENT_INTENT_TTL_MINUTES") or 30)
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
        # products, then orders (each timed inside: the products are written once the orders' holds are known)
        load_marketplace(db.session.connection(), tenants, vendors, sizes, rng, random.Random(f"{sizes.seed}:orders"),
                         now, reference, order_code, hold, bar, report)
        db.session.commit()
        with _timed(report, "market"):
            load_market(db.session.connection(), tenants, vendors, sizes, random.Random(f"{sizes.seed}:market"), now,
                        reference, ttl, bar, report)
            db.session.commit()
        with _timed(report, "onestop"):
            load_onestop(db.session.connection(), tenants, accounts, sizes, rng, now, reference, bar, report)
            db.session.commit()
        report.counts["payment_intents"] = sum(report.counts.get(k, 0) for k in ("fee_intents", "sale_intents",
                                                                                 "order_intents"))
        with _timed(report, "vacuum"):
            db.session.commit()
            # VACUUM, not only ANALYZE: the loaded tables' visibility map is empty until a vacuum sets it, and until
            # then PostgreSQL cannot answer from an index alone (the district's covering indexes read the heap row
            # by row). VACUUM cannot run in a transaction: a connection of its own, in autocommit.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM (ANALYZE)"))
    return report
