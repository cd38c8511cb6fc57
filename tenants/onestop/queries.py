"""What the one-stop pages read: the procedures, the office schedule, the work queue, search, a dossier's control
sheet, and the Decision 766 figures (aggregate queries, never loading dossiers). Queries carry no tenant filter: tenants/scoping.py adds it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, or_, select
from sqlalchemy.orm import lazyload

from app.errors import NotFound
from app.extensions import db
from app.text import fold, normalize
from tenants.onestop import statuses
from tenants.onestop.models import DayOff, Dossier, DossierDocument, DossierEvent, OfficeSchedule, Procedure, Rating
from tenants.onestop.worktime import DEFAULT_SCHEDULE, Schedule
from tenants.scoping import all_tenants

QUEUE_PAGE = 50
DUE_SOON = timedelta(hours=4)  # marked "due soon" this long before the due time


def procedures(active_only: bool = True) -> list[Procedure]:
    query = select(Procedure).order_by(Procedure.sector, Procedure.name, Procedure.id)
    if active_only:
        query = query.where(Procedure.active.is_(True))
    return list(db.session.scalars(query))


def get_procedure(procedure_id: int) -> Procedure:
    procedure = db.session.scalar(select(Procedure).where(Procedure.id == procedure_id))
    if procedure is None:
        raise NotFound(_l("No such procedure."))
    return procedure


def office_schedule() -> OfficeSchedule | None:
    return db.session.scalar(select(OfficeSchedule))


def days_off() -> list[DayOff]:
    return list(db.session.scalars(select(DayOff).order_by(DayOff.day)))


def schedule() -> Schedule:
    """The active commune's working-time schedule: its office hours (or the defaults) and its days off."""
    row = office_schedule()
    own_days = frozenset(db.session.scalars(select(DayOff.day)))
    if row is None:
        return Schedule(periods=DEFAULT_SCHEDULE.periods, weekdays=DEFAULT_SCHEDULE.weekdays,
                        same_day_cutoff=DEFAULT_SCHEDULE.same_day_cutoff, days_off=own_days)
    return Schedule.from_settings((row.morning_start, row.morning_end), (row.afternoon_start, row.afternoon_end),
                                  row.weekdays, row.same_day_cutoff, own_days)


def get_dossier(dossier_id: int) -> Dossier:
    # A query, not Session.get: the scoping must see it (another commune's dossier does not exist here).
    dossier = db.session.scalar(select(Dossier).where(Dossier.id == dossier_id))
    if dossier is None:
        raise NotFound(_l("No such dossier."))
    return dossier


def get_by_code(code: str) -> Dossier:
    """The active commune's dossier by its code, for the public look-up: without its officer (a user joined into
    this statement, then one more statement for their memberships, which the public pages never use; loaded if
    something asks)."""
    code = normalize(code).upper()[:32]
    dossier = (db.session.scalar(select(Dossier).where(Dossier.code == code).options(lazyload(Dossier.officer)))
               if code else None)
    if dossier is None:
        raise NotFound(_l("No dossier has this code."))
    return dossier


def find_by_code_anywhere(code: str) -> Dossier | None:
    """The public look-up by code: across communes, since a citizen's code names its unit but not its slug."""
    code = normalize(code).upper()[:32]
    if not code:
        return None
    with all_tenants():
        return db.session.scalar(select(Dossier).where(Dossier.code == code).order_by(Dossier.id.desc()).limit(1))


def work_queue(now: datetime, search: str = "", status: str | None = None, limit: int = QUEUE_PAGE) -> list[Dossier]:
    """Open dossiers (and those waiting for reception) by due time, the soonest first; a search looks at the code
    and the folded applicant name, in every state."""
    query = select(Dossier)
    search = normalize(search)
    if search:
        folded = fold(search)
        query = query.where(or_(Dossier.code == search.upper(),
                                Dossier.applicant_name_folded.contains(folded, autoescape=True)))
    elif status in statuses.BY_VALUE:
        query = query.where(Dossier.status == status)
    else:
        query = query.where(Dossier.status.in_(statuses.OPEN + (statuses.REGISTERED.value, statuses.PROCESSED.value)))
    never = case((Dossier.due_at.is_(None), 1), else_=0)
    query = query.order_by(never, Dossier.due_at, Dossier.id).limit(limit)
    return list(db.session.scalars(query))


def mark(dossier: Dossier, now: datetime) -> str | None:
    """'overdue', 'due_soon' or None, for an open dossier whose clock runs."""
    from app.clock import as_utc

    if dossier.status not in statuses.OPEN or dossier.due_at is None or dossier.clock_paused_at is not None:
        return None
    due = as_utc(dossier.due_at)
    if due < now:
        return "overdue"
    if due - now <= DUE_SOON:
        return "due_soon"
    return None


def events(dossier_id: int) -> list[DossierEvent]:
    return list(db.session.scalars(select(DossierEvent).where(DossierEvent.dossier_id == dossier_id)
                                   .order_by(DossierEvent.at, DossierEvent.id)))


def documents(dossier_id: int) -> list[DossierDocument]:
    return list(db.session.scalars(select(DossierDocument).where(DossierDocument.dossier_id == dossier_id)
                                   .order_by(DossierDocument.id)))


def get_document(dossier_id: int, document_id: int) -> DossierDocument:
    document = db.session.scalar(select(DossierDocument).where(DossierDocument.id == document_id,
                                                               DossierDocument.dossier_id == dossier_id))
    if document is None:
        raise NotFound(_l("No such document."))
    return document


def rating_of(dossier_id: int) -> Rating | None:
    return db.session.scalar(select(Rating).where(Rating.dossier_id == dossier_id))


def officer_acted_on(dossier_id: int, officer_id: int) -> bool:
    """Whether this officer did a step of this dossier (its control sheet names them)."""
    return db.session.scalar(select(DossierEvent.id).where(DossierEvent.dossier_id == dossier_id,
                                                           DossierEvent.actor_id == officer_id).limit(1)) is not None


# --- Decision 766 figures --------------------------------------------------------------------------------------

FIGURE_KEYS = ("received", "on_time", "online", "cashless_paid", "fee_dossiers", "results", "digitised",
               "ratings_total", "ratings_unsatisfied", "overdue")


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start, end] as local (Hà Nội) dates -> a half-open UTC interval."""
    from app.formatting import VN_TZ

    begin = datetime.combine(start, time(0), tzinfo=VN_TZ).astimezone(timezone.utc)
    finish = datetime.combine(end + timedelta(days=1), time(0), tzinfo=VN_TZ).astimezone(timezone.utc)
    return begin, finish


def _figure_columns(now: datetime, level) -> list:
    """``level``: the SQL of the dossier's rating level (NULL: not rated)."""
    from sqlalchemy import func

    open_ = Dossier.status.in_(statuses.OPEN)
    running_late = and_(open_, Dossier.clock_paused_at.is_(None), Dossier.due_at < now)
    on_time = or_(Dossier.finished_on_time.is_(True),
                  and_(open_, or_(Dossier.clock_paused_at.is_not(None), Dossier.due_at >= now)))

    def count_if(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    return [
        func.count(Dossier.id).label("received"),
        count_if(on_time).label("on_time"),
        count_if(Dossier.channel == "online").label("online"),
        count_if(and_(Dossier.fee_amount > 0, Dossier.fee_method == "vietqr")).label("cashless_paid"),
        count_if(Dossier.fee_amount > 0).label("fee_dossiers"),
        # Digitised: the citizen can get the result electronically (online.result_available: a result file of a
        # dossier processed or returned, downloadable from the applicant's page).
        count_if(and_(Dossier.result_file_key.is_not(None), Dossier.status.in_(statuses.COMPLETED))).label("digitised"),
        count_if(Dossier.status.in_(statuses.COMPLETED)).label("results"),
        func.count(level).label("ratings_total"),
        count_if(level == "unsatisfied").label("ratings_unsatisfied"),
        count_if(running_late).label("overdue"),
    ]


def _figures_query(start: date, end: date, now: datetime, where=(), per_dossier: bool = True):
    """(the query of the counts of FIGURE_KEYS for the dossiers received in [start, end], the SQL of each dossier's
    rating level for more columns: ``figures`` counts the levels).

    A rating comes after reception (services.rate refuses a dossier not yet received), so the ratings of the
    period's dossiers were all given after ``begin``. ``per_dossier`` (one commune's figures): each dossier's rating
    is looked up by its key (a subquery on the unique (tenant_id, dossier_id) index). Joined instead, PostgreSQL
    estimated one row on each side (the scoping's ``tenant_id = n`` and the row-level policy's range on the same
    column multiply their selectivities) and rescanned every rating of the commune for each dossier: 0.4 s for a
    commune's year at national scale, 30 ms this way. Across communes (``per_dossier=False``, the district) the
    ratings are joined (``_figures_select``)."""
    begin, finish = period_bounds(start, end)
    if not per_dossier:
        return _figures_select(begin, finish, now, where), Rating.level
    level = (select(Rating.level).where(Rating.tenant_id == Dossier.tenant_id, Rating.dossier_id == Dossier.id,
                                        Rating.rated_at >= begin).scalar_subquery())
    query = select(*_figure_columns(now, level)).select_from(Dossier)
    return query.where(Dossier.received_at >= begin, Dossier.received_at < finish, *where), level


def _figures_select(begin, finish, now, where=()):
    """The figures' aggregate across communes for dossiers received in [begin, finish) (UTC instants, or bound
    parameters), the ratings joined: the join says ``rated_at >= begin`` so that PostgreSQL hashes only those
    instead of every rating of every commune."""
    return (select(*_figure_columns(now, Rating.level))
            .select_from(Dossier)
            .outerjoin(Rating, and_(Rating.tenant_id == Dossier.tenant_id, Rating.dossier_id == Dossier.id,
                                    Rating.rated_at >= begin))
            .where(Dossier.received_at >= begin, Dossier.received_at < finish, *where))


def _district_rows(start: date, end: date, now: datetime, by_month: bool):
    """Every commune's figures grouped by (origin, holder[, Hà Nội month of reception]): the statement built once
    per process, the period and ``now`` bound at execution (issue #17: building it took longer than running it on
    the demo; the market's provider does the same)."""
    from app.district.figures import statement

    begin, finish = period_bounds(start, end)
    return db.session.execute(statement("onestop", by_month, _district_statement),
                              {"begin": begin, "finish": finish, "now": now})


def _district_statement(by_month: bool):
    from sqlalchemy import bindparam

    from app.district.figures import local_month, origin

    came_from = origin(Dossier).label("origin")  # a dossier's ratings count where the dossier does
    query = _figures_select(bindparam("begin", type_=Dossier.received_at.type),
                            bindparam("finish", type_=Dossier.received_at.type),
                            bindparam("now", type_=Dossier.due_at.type))
    if not by_month:
        return query.add_columns(came_from, Dossier.tenant_id).group_by(came_from, Dossier.tenant_id)
    month = local_month(Dossier.received_at)
    return query.add_columns(month.label("month"), came_from, Dossier.tenant_id).group_by(
        month, came_from, Dossier.tenant_id)


def counts(start: date, end: date, now: datetime, where=()) -> dict[str, int]:
    """The active commune's counts for dossiers received in [start, end] (local dates); ``where``: criteria on
    Dossier that keep a commune's own across a reorganisation (tenants.lineage.own_figures)."""
    row = db.session.execute(_figures_query(start, end, now, where)[0]).one()
    return {key: int(getattr(row, key) or 0) for key in FIGURE_KEYS}


def district_figures(start: date, end: date, now: datetime | None = None,
                     by_origin: bool = False) -> dict[int, dict[str, int]]:
    """Every commune's counts (the keys of FIGURE_KEYS) in ONE aggregate query, grouped by tenant: for the
    district dashboard. Communes with no dossier in the period are absent."""
    from datetime import timezone as tz

    from app.district.figures import per_holder

    now = now or datetime.now(tz.utc)
    with all_tenants():
        rows = _district_rows(start, end, now, by_month=False).all()
    return per_holder({(row.origin, row.tenant_id): {key: int(getattr(row, key) or 0) for key in FIGURE_KEYS}
                       for row in rows}, by_origin)


def district_monthly(start: date, end: date, now: datetime | None = None,
                     by_origin: bool = False) -> dict[date, dict[int, dict[str, int]]]:
    """The same counts per Hà Nội calendar month of reception and per commune, {first day of the month: {tenant_id:
    {...}}}, in ONE aggregate query: the district dashboard's monthly trend."""
    from datetime import timezone as tz

    from app.district.figures import as_month, per_holder

    now = now or datetime.now(tz.utc)
    out: dict[date, dict[tuple[int, int], dict[str, int]]] = {}
    with all_tenants():
        for row in _district_rows(start, end, now, by_month=True):
            out.setdefault(as_month(row.month), {})[(row.origin, row.tenant_id)] = {
                key: int(getattr(row, key) or 0) for key in FIGURE_KEYS}
    return {month: per_holder(rows, by_origin) for month, rows in out.items()}


def _rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def figures(start: date, end: date, now: datetime, where=()) -> dict:
    """The public figures of Decision 766 for the active commune: exactly the keys of the public API, rates as
    fractions 0-1 (None when nothing was received). ``where``: as ``counts``.

    One statement: the counts' query (each dossier of the period with its rating, at most one) also averages the
    processing time of the completed ones and counts the ratings per level. They were two more statements, and
    the ratings' own join of ratings to dossiers was planned at national scale as a loop over the commune's
    ratings rescanning its dossiers (about 0.25 s a page; bench/README.md, "Issue #17", engineer ``scale``)."""
    from sqlalchemy import func

    completed = Dossier.status.in_(statuses.COMPLETED)
    query, rating_level = _figures_query(start, end, now, where)
    per_level = [func.coalesce(func.sum(case((rating_level == level, 1), else_=0)), 0).label(f"rated_{level}")
                 for level in statuses.RATINGS]
    row = db.session.execute(query.add_columns(
        func.avg(case((completed, Dossier.processing_minutes))).label("avg_minutes"), *per_level)).one()
    n = {key: int(getattr(row, key) or 0) for key in FIGURE_KEYS}
    received = n["received"]
    avg_minutes = row.avg_minutes
    ratings = {level: int(getattr(row, f"rated_{level}") or 0) for level in statuses.RATINGS}
    satisfaction = None
    if received:
        satisfaction = round(max(0.0, 1 - (received - n["on_time"]) / received
                                 - n["ratings_unsatisfied"] / received), 4)
    return {
        "received": received,
        "on_time_rate": _rate(n["on_time"], received),
        "avg_processing_hours": round(float(avg_minutes) / 60, 2) if avg_minutes is not None else None,
        "online_rate": _rate(n["online"], received),
        "cashless_fee_rate": _rate(n["cashless_paid"], n["fee_dossiers"]),
        "digitisation_rate": _rate(n["digitised"], n["results"]),  # of the results produced (#19)
        "satisfaction_rate": satisfaction,
        "ratings": ratings,
    }


def received_by_channel(start: date, end: date) -> dict[str, int]:
    from sqlalchemy import func

    begin, finish = period_bounds(start, end)
    by_channel = dict.fromkeys(statuses.CHANNELS, 0)
    for channel, count in db.session.execute(
        select(Dossier.channel, func.count(Dossier.id))
        .where(Dossier.received_at >= begin, Dossier.received_at < finish).group_by(Dossier.channel)
    ):
        by_channel[channel] = int(count)
    return by_channel


def processing_by_procedure(start: date, end: date) -> list[tuple[str, int, float | None]]:
    """(procedure, completed dossiers, average working hours) for dossiers received in the period."""
    from sqlalchemy import func

    begin, finish = period_bounds(start, end)
    rows = db.session.execute(
        select(Procedure.name, func.count(Dossier.id), func.avg(Dossier.processing_minutes))
        .join(Procedure, and_(Procedure.tenant_id == Dossier.tenant_id, Procedure.id == Dossier.procedure_id))
        .where(Dossier.received_at >= begin, Dossier.received_at < finish, Dossier.status.in_(statuses.COMPLETED))
        .group_by(Procedure.name).order_by(func.count(Dossier.id).desc())
    )
    return [(name, int(count), round(float(avg) / 60, 2) if avg is not None else None) for name, count, avg in rows]


def overdue_list(now: datetime, limit: int = 50) -> list[Dossier]:
    return list(db.session.scalars(
        select(Dossier).where(Dossier.status.in_(statuses.OPEN), Dossier.clock_paused_at.is_(None),
                              Dossier.due_at < now).order_by(Dossier.due_at).limit(limit)))


def monthly(end: date, now: datetime, months: int = 12, where=()) -> list[tuple[date, dict[str, int]]]:
    """(first day of month, counts) for the ``months`` months ending with ``end``'s month, oldest first
    (``where``: as ``counts``): one statement grouped by the Hà Nội month of reception, the same counts as
    ``counts`` for each month (it was one statement per month, twelve on the public figures page)."""
    from app.district.figures import as_month, local_month

    firsts = []
    first = end.replace(day=1)
    for _ in range(months):
        firsts.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    firsts.reverse()
    last = ((firsts[-1] + timedelta(days=32)).replace(day=1)) - timedelta(days=1)
    month = local_month(Dossier.received_at)
    found = {as_month(row.month): {key: int(getattr(row, key) or 0) for key in FIGURE_KEYS}
             for row in db.session.execute(_figures_query(firsts[0], last, now, where)[0]
                                           .add_columns(month.label("month")).group_by(month))}
    return [(first, found.get(first, dict.fromkeys(FIGURE_KEYS, 0))) for first in firsts]
