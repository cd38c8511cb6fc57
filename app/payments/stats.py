"""Figures for the charts: money received per day in a commune, and per commune across the district.

Commune money is what was paid into the commune's own accounts (owner_kind 'commune'): QR sales and marketplace
orders are paid into vendors' own accounts and are the vendors' money, not the commune's (docs/decisions.md).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, select

from app.extensions import db
from app.formatting import VN_TZ, format_vnd, to_local
from app.clock import utcnow
from app.payments.models import PaymentAccount, PaymentIntent
from tenants.models import Tenant
from tenants.queries import list_active
from tenants.scoping import all_tenants


def chart_rows(pairs) -> list[tuple[str, int, str]]:
    """(label, amount) pairs -> the rows app/templates/_charts.html draws: (label, amount, "1.250.000 ₫").
    A date is labelled dd/mm."""
    return [(label.strftime("%d/%m") if isinstance(label, date) else label, amount, format_vnd(amount))
            for label, amount in pairs]


def _commune_paid():
    """The succeeded intents paid into a commune's own account (not a vendor's): the condition every figure here
    shares. A correlated EXISTS on the intent's account (same tenant, same id), so it needs no join."""
    into_commune_account = (
        select(PaymentAccount.id)
        .where(PaymentAccount.tenant_id == PaymentIntent.tenant_id, PaymentAccount.id == PaymentIntent.account_id,
               PaymentAccount.owner_kind == "commune")
        .exists()
    )
    return (PaymentIntent.status == "succeeded") & into_commune_account


def received_per_day(days: int = 14, today: date | None = None) -> list[tuple[date, int]]:
    """The active commune's money received per local day, oldest first, days without money included (zeros).

    One query over two columns; grouping by Vietnamese calendar day happens here, the same on SQLite and PostgreSQL.
    """
    today = today or to_local(utcnow()).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, time.min, tzinfo=VN_TZ).astimezone(timezone.utc)  # local midnight
    totals = {first + timedelta(days=i): 0 for i in range(days)}
    rows = db.session.execute(
        select(PaymentIntent.succeeded_at, PaymentIntent.amount_received)
        .where(_commune_paid(), PaymentIntent.succeeded_at >= since)
    )
    for succeeded_at, amount in rows:
        day = to_local(succeeded_at).date()
        if day in totals:
            totals[day] += amount
    return sorted(totals.items())


def received_per_commune(days: int = 30) -> list[tuple[Tenant, int, int]]:
    """(commune, money received, payments) over the last ``days`` days for every active commune, most first.

    A district view: one explicit cross-tenant aggregate.
    """
    since = utcnow() - timedelta(days=days)
    with all_tenants():
        sums = {
            tenant_id: (total or 0, count)
            for tenant_id, total, count in db.session.execute(
                select(PaymentIntent.tenant_id, func.sum(PaymentIntent.amount_received), func.count())
                .where(_commune_paid(), PaymentIntent.succeeded_at >= since)
                .group_by(PaymentIntent.tenant_id)
            )
        }
    rows = [(t, *sums.get(t.id, (0, 0))) for t in list_active()]
    return sorted(rows, key=lambda row: (-row[1], row[0].code))


def _district_rows(since: datetime, until: datetime, by_month: bool):
    """The rows of ``_district_sums`` for [since, until): the statement built once per process (per dialect, by
    month or not), the period bound at execution (issue #17: building it cost more than running it on the demo)."""
    from app.district.figures import statement

    return db.session.execute(statement("payments", by_month, _district_statement), {"since": since, "until": until})


def _district_statement(by_month: bool):
    from sqlalchemy import bindparam

    if not by_month:
        month = None
    elif db.session.get_bind().dialect.name == "postgresql":
        month = func.date_trunc("month", func.timezone("Asia/Ho_Chi_Minh", PaymentIntent.succeeded_at))
    else:
        month = func.strftime("%Y-%m-01", PaymentIntent.succeeded_at, "+7 hours")
    at = PaymentIntent.succeeded_at.type
    return _district_sums(bindparam("since", type_=at), bindparam("until", type_=at), month)


def _district_sums(since, until, month=None):
    """Succeeded payments of [since, until) summed per (tenant, account[, month]) first, then only the sums on a
    commune's own account kept and added per tenant (and month): the period's payments are read from
    ix_payment_intents_succeeded_at, and the account check runs on the few thousand sums, not on each payment
    (asked as an EXISTS per payment, PostgreSQL walked every payment of every commune account instead)."""
    from app.district.figures import origin

    month_columns = [month.label("month")] if month is not None else []
    came_from = origin(PaymentIntent)  # the commune before a reorganisation (docs/decisions.md)
    per_account = (
        select(came_from.label("origin"), PaymentIntent.tenant_id, PaymentIntent.account_id, *month_columns,
               func.sum(PaymentIntent.amount_received).label("total"), func.count().label("payments"))
        .where(PaymentIntent.status == "succeeded", PaymentIntent.succeeded_at >= since,
               PaymentIntent.succeeded_at < until)
        .group_by(came_from, PaymentIntent.tenant_id, PaymentIntent.account_id,
                  *([month] if month is not None else []))
        .subquery()
    )
    kept_month = [per_account.c.month] if month is not None else []
    return (
        select(*kept_month, per_account.c.origin, per_account.c.tenant_id, func.sum(per_account.c.total),
               func.sum(per_account.c.payments))
        .join(PaymentAccount, (PaymentAccount.tenant_id == per_account.c.tenant_id)
              & (PaymentAccount.id == per_account.c.account_id) & (PaymentAccount.owner_kind == "commune"))
        .group_by(*kept_month, per_account.c.origin, per_account.c.tenant_id)
    )


def district_figures(since: datetime, until: datetime, by_origin: bool = False) -> dict[int, dict[str, int]]:
    """Money received and payments per commune for payments that succeeded in [since, until) into the commune's own
    account: one aggregate query, across tenants (the district dashboard's payments figures)."""
    from app.district.figures import per_holder

    with all_tenants():
        rows = _district_rows(since, until, by_month=False)
        return per_holder({(came_from, tenant_id): {"money_received": int(total or 0), "payments": int(count)}
                           for came_from, tenant_id, total, count in rows}, by_origin)


def district_monthly(since: datetime, until: datetime, by_origin: bool = False) -> dict[date, dict[int, dict[str, int]]]:
    """The same figures per Vietnamese calendar month and commune, {first day of the month: {tenant_id: {...}}}:
    one aggregate query grouped by commune and month (Hà Nội is UTC+7 all year, no daylight saving)."""
    from app.district.figures import per_holder

    out: dict[date, dict[int, dict[str, int]]] = {}
    with all_tenants():
        rows = _district_rows(since, until, by_month=True)
        for first_day, came_from, tenant_id, total, count in rows:
            if isinstance(first_day, str):
                first_day = date.fromisoformat(first_day)
            elif isinstance(first_day, datetime):
                first_day = first_day.date()
            out.setdefault(first_day, {})[(came_from, tenant_id)] = {"money_received": int(total or 0), "payments": int(count)}
    return {month: per_holder(rows, by_origin) for month, rows in out.items()}
