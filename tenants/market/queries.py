"""What the market's pages read: the vendor's ledger and totals, the commune's figures, the district's figures.

Figures are aggregate queries (COUNT/SUM with CASE, GROUP BY), never rows summed in Python. A day is a Vietnamese
calendar day (UTC+7, no daylight saving). Commune queries are scoped by tenants/scoping.py; ``district_figures`` is
the one explicit cross-tenant read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import and_, bindparam, case, func, literal, null, select, union_all

from app import bounds
from app.errors import ValidationError
from app.extensions import db
from app.formatting import local_midnight, to_local
from tenants.market.models import GOODS_CATEGORY_CODES, Market, MarketSale, Stall
from tenants.market.statuses import PAID, QR, SALE_METHODS, SALE_STATUSES
from tenants.scoping import all_tenants
from tenants.vendors import payments as vendor_payments
from tenants.vendors.models import Vendor

LEDGER_PAGE = 50


def today() -> date:
    return to_local(datetime.now(timezone.utc)).date()


def _local_day(column):
    """The Vietnamese calendar day of a UTC timestamp, in SQL (SQLite keeps UTC as naive text)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("Asia/Ho_Chi_Minh", column))
    return func.date(column, "+7 hours")


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


# --- the vendor's ledger ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LedgerFilter:
    start: date
    end: date  # inclusive
    method: str | None = None
    status: str | None = None

    @classmethod
    def from_args(cls, args) -> LedgerFilter:
        """From query arguments; anything unreadable falls back to the default (the last 30 days), never an
        error."""
        month_ago = today() - timedelta(days=29)

        def read(name, default):
            try:
                return bounds.day(args.get(name), name) if args.get(name) else default
            except ValidationError:
                return default

        start, end = read("start", month_ago), read("end", today())
        if end < start:
            start, end = end, start
        if (end - start).days > 400:
            start = end - timedelta(days=400)
        method = args.get("method") if args.get("method") in SALE_METHODS else None
        status = args.get("status") if args.get("status") in SALE_STATUSES else None
        return cls(start, end, method, status)

    def as_args(self) -> dict:
        args = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.method:
            args["method"] = self.method
        if self.status:
            args["status"] = self.status
        return args


def _ledger_query(vendor_id: int, f: LedgerFilter):
    query = select(MarketSale).where(
        MarketSale.vendor_id == vendor_id,
        MarketSale.created_at >= local_midnight(f.start),
        MarketSale.created_at < local_midnight(f.end + timedelta(days=1)),
    )
    if f.method:
        query = query.where(MarketSale.method == f.method)
    if f.status:
        query = query.where(MarketSale.status == f.status)
    return query


LEDGER_COLUMNS = ("id", "amount", "method", "status", "created_at", "note")  # what the ledger's lines print


def ledger(vendor_id: int, f: LedgerFilter, page: int = 1, per_page: int = LEDGER_PAGE) -> list:
    """A page of the vendor's sales, newest first: rows of ``LEDGER_COLUMNS`` (read as attributes, ``row.amount``),
    not ORM objects: the page prints six columns of fifty sales (issue #17; tests/tenants/market/
    test_sales_page_speed.py keeps them equal to the objects')."""
    query = _ledger_query(vendor_id, f).with_only_columns(*(getattr(MarketSale, c) for c in LEDGER_COLUMNS))
    query = query.order_by(MarketSale.created_at.desc(), MarketSale.id.desc())
    return list(db.session.execute(query.limit(per_page).offset((max(page, 1) - 1) * per_page)))


def ledger_rows(vendor_id: int, f: LedgerFilter) -> list[MarketSale]:
    """Every sale of the filter, oldest first (the CSV export)."""
    return list(db.session.scalars(_ledger_query(vendor_id, f).order_by(MarketSale.created_at, MarketSale.id)))


@dataclass(frozen=True)
class Totals:
    sales: int = 0
    amount: int = 0
    qr_sales: int = 0
    qr_amount: int = 0

    @property
    def cash_amount(self) -> int:
        return self.amount - self.qr_amount


def _totals_columns():
    is_qr = MarketSale.method == QR
    return (
        func.count(MarketSale.id),
        func.coalesce(func.sum(MarketSale.amount), 0),
        func.coalesce(func.sum(case((is_qr, 1), else_=0)), 0),
        func.coalesce(func.sum(case((is_qr, MarketSale.amount), else_=0)), 0),
    )


def _paid_between(start: date, end: date):
    return and_(MarketSale.status == PAID, MarketSale.paid_at >= local_midnight(start),
                MarketSale.paid_at < local_midnight(end + timedelta(days=1)))


_LEDGER_TOTALS: dict[tuple[str, bool], object] = {}  # (dialect, by method) -> the statement of ledger_totals


def _ledger_totals_statement(by_method: bool):
    """The vendor's paid sales per Hà Nội day of payment, with the vendor, the period (``since``, ``until``: UTC
    instants) and, ``by_method``, the method bound at execution: built once per process (``ledger_totals``);
    tests/tenants/market/test_sales_page_speed.py keeps its answers equal to a statement built for the values."""
    where = [MarketSale.vendor_id == bindparam("vendor_id"), MarketSale.status == PAID,
             MarketSale.paid_at >= bindparam("since"), MarketSale.paid_at < bindparam("until")]
    if by_method:
        where.append(MarketSale.method == bindparam("method"))
    day = _local_day(MarketSale.paid_at)
    return select(day, *_totals_columns()).where(*where).group_by(day).order_by(day)


def ledger_totals(vendor_id: int, f: LedgerFilter) -> tuple[Totals, list[tuple[date, Totals]], list[tuple[str, Totals]]]:
    """(paid total, per day, per month) of the vendor's paid sales in the filter's dates (and method)."""
    if f.status and f.status != PAID:
        return Totals(), [], []
    key = (db.session.get_bind().dialect.name, bool(f.method))
    statement = _LEDGER_TOTALS.get(key)
    if statement is None:  # built once per process: building it cost more than running it (issue #17)
        statement = _LEDGER_TOTALS.setdefault(key, _ledger_totals_statement(by_method=bool(f.method)))
    values = {"vendor_id": vendor_id, "since": local_midnight(f.start), "until": local_midnight(f.end + timedelta(days=1))}
    if f.method:
        values["method"] = f.method
    rows = db.session.execute(statement, values).all()
    per_day = [(_as_date(d), Totals(*map(int, rest))) for d, *rest in rows]
    months: dict[str, list[int]] = {}
    for d, t in per_day:
        acc = months.setdefault(d.strftime("%m/%Y"), [0, 0, 0, 0])
        for i, value in enumerate((t.sales, t.amount, t.qr_sales, t.qr_amount)):
            acc[i] += value
    per_month = [(label, Totals(*values)) for label, values in months.items()]
    total = Totals(*(sum(getattr(t, k) for _d, t in per_day) for k in ("sales", "amount", "qr_sales", "qr_amount")))
    return total, per_day, per_month


def day_totals(vendor_id: int, day: date, f: LedgerFilter | None = None, per_day=None) -> Totals:
    """The vendor's paid total of ``day`` (every method). When ``f``, whose ``ledger_totals`` gave ``per_day``,
    already covers that day with no method nor status narrowing it, the day's line of ``per_day`` is that total: the
    sales page's "paid today" costs no second statement on its default view (the last 30 days). Otherwise one
    statement (``ledger_totals`` of that day)."""
    if (f is not None and per_day is not None and f.start <= day <= f.end and not f.method
            and f.status in (None, PAID)):
        return next((totals for d, totals in per_day if d == day), Totals())
    return ledger_totals(vendor_id, LedgerFilter(day, day))[0]


# --- the commune's figures ----------------------------------------------------------------------------------------

def _has_bank_account():
    return vendor_payments.has_active_account(Vendor.id, Vendor.tenant_id)


def _is_market_vendor():
    """The market's vendors are its household businesses (``Vendor.at_market``), active: the marketplace's producers
    (a shop, no stall) are not market vendors in any figure (#19 item 2)."""
    return and_(Vendor.active.is_(True), Vendor.at_market.is_(True))


def vendor_figures(own=None) -> tuple[int, int]:
    """(market vendors, market vendors with an active bank account): one aggregate query. ``own``: a
    ``tenants.lineage.OwnFigures``, the criteria that keep a commune's own across a reorganisation."""
    row = db.session.execute(
        select(func.count(Vendor.id), func.coalesce(func.sum(case((_has_bank_account(), 1), else_=0)), 0))
        .where(_is_market_vendor(), *(own.where(Vendor) if own else ()))
    ).one()
    return int(row[0]), int(row[1])


def sales_totals(start: date, end: date, own=None) -> Totals:
    row = db.session.execute(select(*_totals_columns()).where(_paid_between(start, end),
                                                              *(own.where(MarketSale) if own else ()))).one()
    return Totals(*map(int, row))


def sales_per_day(start: date, end: date) -> list[tuple[date, Totals]]:
    """Every day of the period (zeros included), oldest first."""
    day = _local_day(MarketSale.paid_at)
    found = {_as_date(d): Totals(*map(int, rest)) for d, *rest in db.session.execute(
        select(day, *_totals_columns()).where(_paid_between(start, end)).group_by(day))}
    return [(start + timedelta(days=i), found.get(start + timedelta(days=i), Totals()))
            for i in range((end - start).days + 1)]


def sales_per_market(start: date, end: date) -> list[tuple[str, Totals]]:
    rows = db.session.execute(
        select(Market.name, *_totals_columns())
        .select_from(MarketSale)
        .join(Market, and_(Market.id == MarketSale.market_id, Market.tenant_id == MarketSale.tenant_id))
        .where(_paid_between(start, end)).group_by(Market.id, Market.name).order_by(Market.name)
    ).all()
    return [(name, Totals(*map(int, rest))) for name, *rest in rows]


def sales_per_category(start: date, end: date) -> list[tuple[str, Totals]]:
    rows = dict((code, Totals(*map(int, rest))) for code, *rest in db.session.execute(
        select(MarketSale.goods_category, *_totals_columns()).where(_paid_between(start, end))
        .group_by(MarketSale.goods_category)))
    order = {code: i for i, code in enumerate(GOODS_CATEGORY_CODES)}
    return sorted(rows.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))


def market_count(own=None) -> tuple[int, int, int]:
    """(markets, stalls, stalls let to a vendor); ``own``: as ``vendor_figures``."""
    markets = db.session.scalar(select(func.count(Market.id)).where(Market.active.is_(True),
                                                                    *(own.where(Market) if own else ())))
    stalls, let = db.session.execute(
        select(func.count(Stall.id), func.coalesce(func.sum(case((Stall.vendor_id.is_not(None), 1), else_=0)), 0))
        .where(*(own.where(Stall) if own else ()))
    ).one()
    return int(markets or 0), int(stalls), int(let)


def share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def public_stats(start: date, end: date, own=None) -> dict:
    """The commune's public figures (GET /api/c/<slug>/market/stats); ``own``: as ``vendor_figures``."""
    vendors, with_account = vendor_figures(own)
    totals = sales_totals(start, end, own)
    markets, stalls, let = market_count(own)
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "markets": markets,
        "stalls": stalls,
        "stalls_let": let,
        "vendors": vendors,
        "vendors_with_bank_account": with_account,
        "bank_account_adoption": share(with_account, vendors),
        "sales": totals.sales,
        "sales_amount": totals.amount,
        "qr_sales": totals.qr_sales,
        "qr_sales_amount": totals.qr_amount,
        "qr_share_count": share(totals.qr_sales, totals.sales),
        "qr_share_amount": share(totals.qr_amount, totals.amount),
    }


# --- the district ---------------------------------------------------------------------------------------------------

DISTRICT_KEYS = ("vendors", "vendors_with_bank_account", "sales", "qr_sales", "sales_amount", "qr_sales_amount")


def _district_rows(start: date, end: date, by_month: bool):
    """The rows of ``_district_statement`` for the period from ``start`` to ``end`` (Hà Nội days, both included)."""
    from app.district.figures import statement

    # built once per process: building it costs more than running it from the cache
    return db.session.execute(statement("market", by_month, _district_statement), {"since": local_midnight(start),
                                          "until": local_midnight(end + timedelta(days=1))})


def _district_statement(by_month: bool):
    """Vendor counts and the period's paid sale totals, each aggregated per tenant_id (and, ``by_month``, per Hà Nội
    month of payment: vendor counts, of now, have no month), stacked (UNION ALL) and summed: at most two short rows
    per commune leave each side, however many sales there are. The period is bound at execution (``since``,
    ``until``: UTC instants), so that the statement is built once (``app.district.figures.statement``)."""
    from app.district.figures import local_month, origin

    is_qr = MarketSale.method == QR
    vendor_from, sale_from = origin(Vendor), origin(MarketSale)  # the commune before a reorganisation
    vendor_rows = select(
        vendor_from.label("origin"), Vendor.tenant_id.label("tenant_id"),
        (null() if by_month else literal(0)).label("month"),
        func.count().label("vendors"),
        func.sum(case((_has_bank_account(), 1), else_=0)).label("with_account"),
        literal(0).label("sales"), literal(0).label("qr_sales"),
        literal(0).label("amount"), literal(0).label("qr_amount"),
    ).where(_is_market_vendor()).group_by(vendor_from, Vendor.tenant_id)
    month = local_month(MarketSale.paid_at)
    sale_rows = select(
        sale_from, MarketSale.tenant_id.label("tenant_id"),
        month if by_month else literal(0),
        literal(0), literal(0), func.count(),
        func.sum(case((is_qr, 1), else_=0)),
        func.sum(MarketSale.amount),
        func.sum(case((is_qr, MarketSale.amount), else_=0)),
    ).where(MarketSale.status == PAID, MarketSale.paid_at >= bindparam("since"), MarketSale.paid_at < bindparam("until")
            ).group_by(sale_from, MarketSale.tenant_id, *([month] if by_month else []))
    stacked = union_all(vendor_rows, sale_rows).subquery()
    return select(
        stacked.c.origin, stacked.c.tenant_id, stacked.c.month,
        func.sum(stacked.c.vendors), func.sum(stacked.c.with_account), func.sum(stacked.c.sales),
        func.sum(stacked.c.qr_sales), func.sum(stacked.c.amount), func.sum(stacked.c.qr_amount),  # DISTRICT_KEYS
    ).group_by(stacked.c.origin, stacked.c.tenant_id, stacked.c.month)


def district_figures(start: date, end: date, by_origin: bool = False) -> dict[int, dict[str, int]]:
    """Per commune (tenant_id): active vendors, those with an active bank account, and the paid sales of the
    period from ``start`` to ``end`` (Hà Nội days, both included: count and amount, all and by QR). ONE aggregate
    query across tenants: vendor rows and sale rows are stacked (UNION ALL) and summed per tenant_id. Communes with
    neither are absent."""
    with all_tenants():
        rows = _district_rows(start, end, by_month=False).all()
    from app.district.figures import per_holder

    return per_holder({
        (came_from, tenant_id): dict(zip(DISTRICT_KEYS, (int(v or 0) for v in values), strict=True))
        for came_from, tenant_id, _month, *values in rows
    }, by_origin)


def district_monthly(start: date, end: date, by_origin: bool = False) -> dict[date, dict[int, dict[str, int]]]:
    """The same per Hà Nội month of payment, {first day of the month: {tenant_id: {...}}}, in ONE query: every month
    from ``start``'s to ``end``'s counts the vendors of now (as ``district_figures`` does for any period)."""
    from app.district.figures import as_month, per_holder

    months = []
    month = start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    vendors: dict[int, tuple[int, int]] = {}
    sales: dict[date, dict[int, list[int]]] = {}
    with all_tenants():
        for came_from, holder, month, n_vendors, with_account, *flows in _district_rows(start, end, by_month=True):
            tenant_id = (came_from, holder)
            if month is None:
                vendors[tenant_id] = (int(n_vendors or 0), int(with_account or 0))
            else:
                sales.setdefault(as_month(month), {})[tenant_id] = [int(v or 0) for v in flows]
    out: dict[date, dict[int, dict[str, int]]] = {}
    for month in months:
        in_month = sales.get(month, {})
        out[month] = {
            tenant_id: dict(zip(DISTRICT_KEYS, (*vendors.get(tenant_id, (0, 0)), *in_month.get(tenant_id, (0, 0, 0, 0))),
                                strict=True))
            for tenant_id in set(vendors) | set(in_month)
        }
    return {month: per_holder(rows, by_origin) for month, rows in out.items()}


# --- lists for staff pages --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class VendorRow:
    vendor: Vendor
    bank_bin: str | None
    account_number: str | None
    stalls: str


def vendor_list() -> list[VendorRow]:
    """Every vendor with its active account and stall numbers: two queries whatever the number of vendors."""
    account = vendor_payments.active_vendor_accounts()
    rows = db.session.execute(
        select(Vendor, account.c.bank_bin, account.c.account_number)
        .outerjoin(account, account.c.vendor_id == Vendor.id)
        .order_by(Vendor.active.desc(), Vendor.business_name, Vendor.id)
    ).all()
    numbers: dict[int, list[str]] = {}
    for vendor_id, number in db.session.execute(
            select(Stall.vendor_id, Stall.number).where(Stall.vendor_id.is_not(None)).order_by(Stall.number)):
        numbers.setdefault(vendor_id, []).append(number)
    seen, out = set(), []
    for vendor, bank_bin, number in rows:
        if vendor.id in seen:
            continue
        seen.add(vendor.id)
        out.append(VendorRow(vendor, bank_bin, number, ", ".join(numbers.get(vendor.id, []))))
    return out


def stall_counts() -> dict[int, tuple[int, int]]:
    """market_id -> (stalls, stalls let)."""
    return {market_id: (int(total), int(let or 0)) for market_id, total, let in db.session.execute(
        select(Stall.market_id, func.count(Stall.id),
               func.sum(case((Stall.vendor_id.is_not(None), 1), else_=0))).group_by(Stall.market_id))}
