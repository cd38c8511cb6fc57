"""The district's figures: the registry where each domain plugs in its per-commune counts (``register``), and the
composite score. A provider's contract: README ("District dashboard") and docs/decisions.md ("District figures")."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from flask_babel import lazy_gettext as _l

from app.formatting import VN_TZ

FiguresFn = Callable[[date, date], dict[int, dict[str, int]]]
# Optional, for the monthly trend in one query: (start, end) -> {first day of a month: {tenant_id: {key: int}}}.
MonthlyFn = Callable[[date, date], dict[date, dict[int, dict[str, int]]]]

ONESTOP_KEYS = ("received", "on_time", "online", "cashless_paid", "fee_dossiers", "results", "digitised",
                "ratings_total", "ratings_unsatisfied", "overdue")
MARKET_KEYS = ("vendors", "vendors_with_bank_account", "sales", "qr_sales", "sales_amount", "qr_sales_amount")
MARKETPLACE_KEYS = ("producers", "products", "orders", "paid_value")
PAYMENTS_KEYS = ("money_received", "payments")

LABELS = {
    "received": _l("Dossiers received"),
    "on_time": _l("Settled on time"),
    "online": _l("Received online"),
    "cashless_paid": _l("Fees paid without cash"),
    "fee_dossiers": _l("Dossiers with a fee"),
    "results": _l("Results produced"),
    "digitised": _l("Results digitised"),
    "ratings_total": _l("Ratings"),
    "ratings_unsatisfied": _l("Unsatisfied ratings"),
    "overdue": _l("Overdue"),
    "vendors": _l("Vendors"),
    "vendors_with_bank_account": _l("Vendors with a bank account"),
    "sales": _l("Sales"),
    "qr_sales": _l("Sales paid by QR"),
    "sales_amount": _l("Sales value"),
    "qr_sales_amount": _l("Value paid by QR"),
    "producers": _l("Producers"),
    "products": _l("Products"),
    "orders": _l("Orders"),
    "paid_value": _l("Paid orders value"),
    "money_received": _l("Money received"),
    "payments": _l("Payments"),
}
MONEY_KEYS = frozenset({"sales_amount", "qr_sales_amount", "paid_value", "money_received"})


@dataclass(frozen=True)
class Provider:
    name: str
    keys: tuple[str, ...]
    compute: FiguresFn
    monthly: MonthlyFn | None = None


_PROVIDERS: dict[str, Provider] = {}


def register(name: str, compute: FiguresFn, keys: Iterable[str], monthly: MonthlyFn | None = None,
             labels: dict | None = None, money: Iterable[str] = ()) -> FiguresFn:
    """Register (or replace, for the same name) a domain's provider; keys must not collide with another's.

    ``monthly``, when given, answers the dashboard's monthly trend in one query; without it the trend calls
    ``compute`` once per month. ``labels`` name the domain's keys on the dashboard and in the CSV, and ``money``
    says which are amounts in đồng: a new domain brings its own, from its package."""
    global MONEY_KEYS
    keys = tuple(keys)
    for other in _PROVIDERS.values():
        if other.name != name and set(other.keys) & set(keys):
            raise ValueError(f"figure keys {sorted(set(other.keys) & set(keys))} already belong to {other.name!r}")
    _PROVIDERS[name] = Provider(name, keys, compute, monthly)
    LABELS.update(labels or {})
    MONEY_KEYS = MONEY_KEYS | frozenset(money)
    return compute


def unregister(name: str) -> None:
    _PROVIDERS.pop(name, None)


def providers() -> list[Provider]:
    return list(_PROVIDERS.values())


def registered_keys() -> list[str]:
    return [key for provider in _PROVIDERS.values() for key in provider.keys]


def local_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00) in Hà Nội, as UTC instants: ``since <= t < until``."""
    since = datetime.combine(start, time.min, tzinfo=VN_TZ).astimezone(timezone.utc)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=VN_TZ).astimezone(timezone.utc)
    return since, until


def period_rows(statements: dict, build: Callable[[bool], object], start: date, end: date, by_month: bool):
    """Run a provider's district statement for the period from ``start`` to ``end`` (Hà Nội days, both included).
    The statement, ``build(by_month)``, is built once per process and database dialect and kept in the provider's
    own ``statements`` (building it cost more than running it from SQLAlchemy's compiled cache, issue #17); the
    period is bound at execution: ``since``/``until`` (``local_bounds``, for stored times) and ``first_day``/
    ``last_day`` (the dates, for stored days). docs/decisions.md, "Second read, #17 session"."""
    from app.extensions import db

    key = (db.session.get_bind().dialect.name, by_month)
    statement = statements.get(key)
    if statement is None:
        statement = statements.setdefault(key, build(by_month))
    since, until = local_bounds(start, end)
    return db.session.execute(statement, {"since": since, "until": until, "first_day": start, "last_day": end})


def local_month(column):
    """SQL for the first day of the Hà Nội calendar month of a stored UTC time (for a provider's ``monthly``);
    read the values back with ``as_month``. Hà Nội is UTC+7 all year (no daylight saving)."""
    from sqlalchemy import func

    from app.extensions import db

    if db.session.get_bind().dialect.name == "postgresql":
        return func.date_trunc("month", func.timezone("Asia/Ho_Chi_Minh", column))
    return func.strftime("%Y-%m-01", column, "+7 hours")


def as_month(value) -> date:
    """A value of ``local_month`` as a ``date`` (SQLite gives text, PostgreSQL a timestamp)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def origin(model):
    """SQL for the commune a record of ``model`` (a ``tenants.scoping.RemembersOrigin``) came from: the one that held
    it before a reorganisation moved it, else its own. A provider groups by ``(origin(Model), Model.tenant_id)`` and
    answers ``{(origin, holder): {...}}``: ``collect`` counts the record under the unit in force at the period's end
    that the lineage leads it to (docs/decisions.md, "Figures that stay true")."""
    from sqlalchemy import func

    return func.coalesce(model.origin_tenant_id, model.tenant_id)


def per_holder(rows: dict, by_origin: bool) -> dict:
    """A provider's ``{(origin, holder): values}`` as its caller asked: as they are (``by_origin``, the registry's
    call), else summed per commune that holds the records today (``{tenant_id: values}``, as before #18)."""
    if by_origin:
        return rows
    out: dict[int, dict[str, int]] = {}
    for (_origin, holder), values in rows.items():
        into = out.setdefault(holder, {})
        for key, value in values.items():
            into[key] = into.get(key, 0) + value
    return out


def attribute(computed: dict, history, day: date) -> Iterable[tuple[int, dict]]:
    """A provider's answer as (unit in force on ``day``, values): its keys are tenant ids (a record counts under the
    commune that holds it) or (origin, holder) pairs (``origin``)."""
    for key, values in computed.items():
        origin_id, holder = key if isinstance(key, tuple) else (key, key)
        yield (history.unit_at(origin_id, holder, day) if history is not None else holder), values


def collect(tenant_ids: Iterable[int], start: date, end: date, history=None) -> dict[int, dict[str, int]]:
    """Every registered key for every commune in ``tenant_ids`` (zero where a provider has no row for it): with the
    lineage (``tenants.lineage.history()``), each record counted under the unit it belongs to at ``end``."""
    tenant_ids = list(tenant_ids)
    rows: dict[int, dict[str, int]] = {tid: {} for tid in tenant_ids}
    for provider in _PROVIDERS.values():
        computed = provider.compute(start, end) or {}
        for tid in tenant_ids:
            for key in provider.keys:
                rows[tid][key] = 0
        for tid, values in attribute(computed, history, end):
            if tid in rows:
                for key in provider.keys:
                    rows[tid][key] += int(values.get(key, 0) or 0)
    return rows


# --------------------------------------------------------------------------------------------- the score
@dataclass(frozen=True)
class Component:
    """One rate of the composite score: numerator / denominator (both counts), weight in points out of 100."""

    key: str
    label: object
    numerator: str
    denominator: str
    weight: int
    inverse: bool = False  # the rate of the complement (satisfied = 1 - unsatisfied / total)


# Modelled on Decision 766/QĐ-TTg (2022), the index set for serving citizens and businesses in administrative
# procedures and public services: progress (on time), online service, online payment, digitisation, satisfaction;
# and, for the markets, the cashless shift the district pursues.
COMPONENTS = (
    Component("on_time", _l("Settled on time"), "on_time", "received", 20),
    Component("online", _l("Received online"), "online", "received", 15),
    Component("cashless", _l("Fees paid without cash"), "cashless_paid", "fee_dossiers", 15),
    # Of the results produced, not of the dossiers received: a refused, withdrawn or open dossier has no result.
    Component("digitised", _l("Results digitised"), "digitised", "results", 15),
    Component("satisfaction", _l("Satisfied ratings"), "ratings_unsatisfied", "ratings_total", 15, inverse=True),
    Component("bank_accounts", _l("Vendors with a bank account"), "vendors_with_bank_account", "vendors", 10),
    Component("qr_share", _l("Sales paid by QR"), "qr_sales", "sales", 10),
)


@dataclass
class Score:
    value: float | None  # 0-100, None when no component can be computed
    rates: dict[str, float | None] = field(default_factory=dict)  # component key -> 0..1, None = absent


def rates(values: dict[str, int]) -> dict[str, float | None]:
    """Each component's rate from the integer counts: None when its provider is absent or its denominator is 0."""
    out: dict[str, float | None] = {}
    for c in COMPONENTS:
        if c.numerator not in values or c.denominator not in values or not values[c.denominator]:
            out[c.key] = None
            continue
        rate = min(max(values[c.numerator] / values[c.denominator], 0.0), 1.0)
        out[c.key] = 1.0 - rate if c.inverse else rate
    return out


def score(values: dict[str, int]) -> Score:
    """100 x the weighted mean of the rates that exist (weights of absent rates are left out, not counted as 0)."""
    commune_rates = rates(values)
    present = [(c.weight, commune_rates[c.key]) for c in COMPONENTS if commune_rates[c.key] is not None]
    if not present:
        return Score(None, commune_rates)
    total_weight = sum(w for w, _r in present)
    return Score(round(100 * sum(w * r for w, r in present) / total_weight, 1), commune_rates)
