"""Synthetic national data set (``flask seed-scale``): the core's part. Thousands of communes as tenants with their
fee accounts, then each domain's scale loader (beside its demo: ``tenants/vendors/scale.py``,
``marketplace/scale.py``, ``tenants/market/scale.py``, ``tenants/onestop/scale.py``; payments' part, accounts and
intents, in ``app/payments/scale.py``), loaded on PostgreSQL with ``COPY ... FROM STDIN`` through the psycopg 3
connection under the SQLAlchemy session (no ORM object per row, no INSERT per row).

The core keeps the COPY plumbing, the sizes and the run; a domain registers its loader (``register``) from its
package, and the core imports none of them. A loader writes the columns of its own model tables: a column added
later that is NOT NULL without a server default stops it with the column's name. What holds whatever the sizes, and
what is left out: docs/decisions.md ("Scale data"); tests/test_seed_scale.py checks it.

COPY FROM is refused by PostgreSQL on tables with row-level security for a role that is subject to it, so the
command runs as the database owner with BYPASSRLS (or a superuser), across tenants explicitly (``all_tenants``).
"""

from __future__ import annotations

import json
import random
import time as clock
from collections.abc import Callable, Iterable
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone

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

# Made-up people of the data set (applicants, shoppers): family, middle and given names, every combination.
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương", "Lý")
MIDDLE = ("Văn", "Thị", "Minh", "Thu", "Đức", "Ngọc", "Quang", "Thanh", "Hữu", "Kim")
GIVEN = ("An", "Bình", "Châu", "Dũng", "Hà", "Hải", "Hạnh", "Hùng", "Lan", "Linh", "Mai", "Nam", "Phương", "Quân",
         "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Yến")


def person_names() -> list[str]:
    return [f"{f} {m} {g}" for f in FAMILY for m in MIDDLE for g in GIVEN]


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


def reserve_ids(connection, table: Table, n: int) -> int:
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
        raise ScaleError(f"{table.name} has no column {', '.join(unknown)}: update its scale loader.")
    missing = [c.name for c in table.c if c.name not in columns and not c.nullable and c.server_default is None
               and not (c.primary_key and c.autoincrement in (True, "auto"))]
    if missing:
        raise ScaleError(f"seed-scale does not fill {table.name}.{', '.join(missing)} (NOT NULL, no server default): "
                         "update its scale loader.")


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


class IdBlocks:
    """Ids of a table taken as rows are made, when their number is not known beforehand: reserved from the
    sequence a block at a time (at most one block's remainder is left unused)."""

    BLOCK = 10_000

    def __init__(self, connection, table: Table) -> None:
        self.connection, self.table = connection, table
        self.next = self.end = 0

    def take(self) -> int:
        if self.next == self.end:
            self.next = reserve_ids(self.connection, self.table, self.BLOCK)
            self.end = self.next + self.BLOCK
        taken = self.next
        self.next += 1
        return taken


@contextmanager
def timed(report: Report, name: str):
    start = clock.perf_counter()
    yield
    report.seconds[name] = round(clock.perf_counter() - start, 1)


def spread(total: int, parts: int) -> list[int]:
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


def json_object(**values: str) -> str:
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
    first_id = reserve_ids(connection, table, sizes.communes)
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


# ---------------------------------------------------------------------------------------------------- the run


@dataclass
class Run:
    """One run of the seed, as each domain's loader sees it. ``loaded`` holds what a loader leaves for the later
    ones (the vendors, for the market's stalls and the marketplace's products)."""

    sizes: Sizes
    tenants: list[tuple[int, str, str]]  # (id, code, display name)
    money: object  # payments' part: accounts, reference codes, intents (app/payments/scale.py, Money)
    commune_accounts: dict  # tenant id -> its fee account (money.Account)
    rng: random.Random  # the run's main generator: vendors, catalogue and dossiers draw from it in turn
    now: datetime
    bar: BarFactory
    report: Report
    loaded: dict[str, object] = field(default_factory=dict)

    def generator(self, name: str) -> random.Random:
        """A generator of the loader's own (seeded from the run's seed), so that its sizes change no other draw."""
        return random.Random(f"{self.sizes.seed}:{name}")

    def connection(self):
        return db.session.connection()

    def timed(self, name: str):
        return timed(self.report, name)


@dataclass(frozen=True)
class Loader:
    name: str
    load: Callable[[Run], None]
    order: int


_LOADERS: dict[str, Loader] = {}


def register(name: str, load: Callable[[Run], None], *, order: int) -> None:
    """A domain's scale loader, run in ``order`` after the communes (registered from the domain's package)."""
    _LOADERS[name] = Loader(name, load, order)


def loaders() -> list[Loader]:
    return sorted(_LOADERS.values(), key=lambda loader: loader.order)


def seed(sizes: Sizes, *, prefix: str = "GL", bar: BarFactory = silent_bar, now: datetime | None = None) -> Report:
    """Load the data set, one transaction per loader; returns the counts written and the seconds each took.

    Bulk seeding commits as it goes (each domain's rows once they are written, so a failure keeps the domains
    before it); the generators are seeded from ``sizes.seed``, so a run gives the same data whatever the machine."""
    from app.payments.scale import Money

    sizes.check()
    now = now or datetime.now(timezone.utc)
    report = Report()
    with all_tenants():  # every loader names the tenant of each row itself
        check_database(db.session.connection())
        with timed(report, "communes"):
            connection = db.session.connection()
            rng = random.Random(sizes.seed)
            tenants = load_tenants(connection, sizes, rng, bar)
            money = Money(connection, prefix)
            accounts = money.commune_accounts(connection, tenants, bar)
            db.session.commit()
        report.counts["tenants"] = len(tenants)
        report.counts["commune_accounts"] = len(accounts)
        run = Run(sizes, tenants, money, accounts, rng, now, bar, report)
        for loader in loaders():
            loader.load(run)
            db.session.commit()
        report.counts["payment_intents"] = sum(report.counts.get(k, 0) for k in ("fee_intents", "sale_intents",
                                                                                 "order_intents"))
        with timed(report, "vacuum"):
            db.session.commit()
            # VACUUM, not only ANALYZE: the loaded tables' visibility map is empty until a vacuum sets it, and until
            # then PostgreSQL cannot answer from an index alone (the district's covering indexes read the heap row
            # by row). VACUUM cannot run in a transaction: a connection of its own, in autocommit.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM (ANALYZE)"))
    return report
