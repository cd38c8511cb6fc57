"""What the heritage pages read: the register's lists, a relic's page, and the figures (a commune's and the
district's). Reads carry no tenant filter of their own: the scoping mechanism adds it, except the district's, which
read across communes explicitly (``all_tenants``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import bindparam, func, literal, null, select, union_all

from app.extensions import db
from app.formatting import to_local
from app.text import fold
from tenants.heritage import festivals as lunar
from tenants.heritage.models import AudioGuide, Artefact, Board, BoardScan, Festival, Relic, Stele
from tenants.scoping import all_tenants

FIGURE_KEYS = ("relics", "boards", "artefacts", "steles", "scans")
MONTHS_SHOWN = 12


def today() -> date:
    """Today in Vietnam: the day a scan is counted on and festivals are reckoned from."""
    return to_local(datetime.now(timezone.utc)).date()


# --- the register ------------------------------------------------------------------------------------------------

@dataclass
class RelicRow:
    relic: Relic
    artefacts: int = 0
    steles: int = 0
    boards: int = 0


def register(search: str = "", published_only: bool = False) -> list[RelicRow]:
    """Every relic of the commune (by name), with how many artefacts, steles and boards each has: four queries,
    whatever the number of relics. ``search`` matches names with or without accents."""
    query = select(Relic).order_by(Relic.name, Relic.id)
    if published_only:
        query = query.where(Relic.published.is_(True))
    relics = list(db.session.scalars(query))
    if search:
        wanted = fold(search)
        relics = [r for r in relics if wanted in fold(r.name) or wanted in fold(r.name_en) or wanted in fold(r.address)]
    rows = {relic.id: RelicRow(relic) for relic in relics}
    for model, attribute in ((Artefact, "artefacts"), (Stele, "steles"), (Board, "boards")):
        counted = select(model.relic_id, func.count()).group_by(model.relic_id)
        if model is Board:
            counted = counted.where(Board.active.is_(True))
        for relic_id, count in db.session.execute(counted):
            if relic_id in rows:
                setattr(rows[relic_id], attribute, count)
    return list(rows.values())


@dataclass
class FestivalView:
    festival: Festival
    next_date: date | None


@dataclass
class RelicPage:
    relic: Relic
    festivals: list[FestivalView] = field(default_factory=list)
    artefacts: list[Artefact] = field(default_factory=list)
    steles: list[Stele] = field(default_factory=list)
    audio: dict[str, AudioGuide] = field(default_factory=dict)
    boards: list[Board] = field(default_factory=list)


def relic_page(relic: Relic, on: date | None = None, with_boards: bool = False) -> RelicPage:
    """Everything a relic's page shows, in a fixed number of queries; festivals with their next solar date."""
    on = on or today()
    page = RelicPage(relic)
    for festival in db.session.scalars(select(Festival).where(Festival.relic_id == relic.id)
                                       .order_by(Festival.lunar_month, Festival.lunar_day, Festival.id)):
        page.festivals.append(FestivalView(festival, lunar.next_date(festival.lunar_month, festival.lunar_day, on,
                                                                     festival.days)))
    page.artefacts = list(db.session.scalars(select(Artefact).where(Artefact.relic_id == relic.id)
                                             .order_by(Artefact.inventory_number, Artefact.id)))
    page.steles = list(db.session.scalars(select(Stele).where(Stele.relic_id == relic.id)
                                          .order_by(Stele.kind.desc(), Stele.title, Stele.id)))
    page.audio = {guide.language: guide for guide in db.session.scalars(
        select(AudioGuide).where(AudioGuide.relic_id == relic.id))}
    if with_boards:
        page.boards = list(db.session.scalars(select(Board).where(Board.relic_id == relic.id)
                                              .order_by(Board.number)))
    return page


@dataclass
class BoardRow:
    board: Board
    relic_name: str
    scans: int


def boards() -> list[BoardRow]:
    """The commune's boards by number, each with its relic's name and its scans so far."""
    scans = (select(BoardScan.board_id, func.sum(BoardScan.scans).label("scans"))
             .group_by(BoardScan.board_id).subquery())
    rows = db.session.execute(
        select(Board, Relic.name, func.coalesce(scans.c.scans, 0))
        .join(Relic, Relic.id == Board.relic_id)
        .outerjoin(scans, scans.c.board_id == Board.id)
        .order_by(Board.number))
    return [BoardRow(board, name, int(count)) for board, name, count in rows]


def board_for_scan(board_id: int) -> Board | None:
    return db.session.scalar(select(Board).where(Board.id == board_id))


# --- figures -----------------------------------------------------------------------------------------------------

def _month_of(column):
    if db.session.get_bind().dialect.name == "postgresql":
        return func.date_trunc("month", column)
    return func.strftime("%Y-%m-01", column)


def _as_month(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def months_back(end: date, count: int) -> list[date]:
    """The first days of the ``count`` months up to ``end``'s, oldest first."""
    months = [end.replace(day=1)]
    while len(months) < count:
        months.append((months[-1] - timedelta(days=1)).replace(day=1))
    return months[::-1]


def desk_counts() -> tuple[int, int]:
    """Published relics and boards up, in one statement (the desk's tile)."""
    row = db.session.execute(select(*desk_count_subqueries())).one()
    return int(row[0] or 0), int(row[1] or 0)


def desk_count_subqueries() -> tuple:
    """Published relics and boards up, as scalar subqueries (the desk reads them with its other counts)."""
    return (select(func.count()).select_from(Relic).where(Relic.published.is_(True)).scalar_subquery(),
            select(func.count()).select_from(Board).where(Board.active.is_(True)).scalar_subquery())


def figures(on: date | None = None) -> dict:
    """The commune's public figures: relics (published), active boards, digitised artefacts, steles and documents,
    scans in all, and scans per month over the last twelve months."""
    on = on or today()
    counts = {
        "relics": db.session.scalar(select(func.count()).select_from(Relic).where(Relic.published.is_(True))),
        "boards": db.session.scalar(select(func.count()).select_from(Board).where(Board.active.is_(True))),
        "artefacts": db.session.scalar(select(func.count()).select_from(Artefact)),
        "steles": db.session.scalar(select(func.count()).select_from(Stele)),
        "scans": db.session.scalar(select(func.coalesce(func.sum(BoardScan.scans), 0))),
    }
    months = months_back(on, MONTHS_SHOWN)
    month = _month_of(BoardScan.day)
    per_month = {_as_month(m): int(n) for m, n in db.session.execute(
        select(month, func.sum(BoardScan.scans)).where(BoardScan.day >= months[0], BoardScan.day <= on)
        .group_by(month))}
    return {**{key: int(value or 0) for key, value in counts.items()},
            "scans_per_month": [(m, per_month.get(m, 0)) for m in months]}


def _district_rows(start: date, end: date, by_month: bool):
    """The rows of ``_district_statement`` for the period's days: the statement built once per process, the period
    bound at execution (issue #17: building it cost more than running it on the demo)."""
    from app.district.figures import statement

    return db.session.execute(statement("heritage", by_month, _district_statement), {"start": start, "end": end})


def _district_statement(by_month: bool):
    """ONE statement across communes: the register's counts per tenant (rows with no month) stacked (UNION ALL) with
    the scans of the period's days (bound at execution: ``start``, ``end``) per tenant, and per month when
    ``by_month``."""
    from app.district.figures import origin

    month = _month_of(BoardScan.day) if by_month else null()
    day = BoardScan.day.type
    scans = (select(origin(BoardScan).label("origin"), BoardScan.tenant_id, literal("scans").label("key"),
                    month.label("month"), func.sum(BoardScan.scans).label("n"))
             .where(BoardScan.day >= bindparam("start", type_=day), BoardScan.day <= bindparam("end", type_=day))
             .group_by(origin(BoardScan), BoardScan.tenant_id, *((month,) if by_month else ())))
    stock = [
        select(origin(model), model.tenant_id, literal(key), null(), func.count()).where(*where)
        .group_by(origin(model), model.tenant_id)
        for key, model, where in (("relics", Relic, (Relic.published.is_(True),)),
                                  ("boards", Board, (Board.active.is_(True),)),
                                  ("artefacts", Artefact, ()), ("steles", Stele, ()))
    ]
    return union_all(scans, *stock)


def district_figures(start: date, end: date, by_origin: bool = False) -> dict[int, dict[str, int]]:
    """Per commune (tenant_id): published relics, boards up, artefacts, steles and documents (the register as it
    stands) and the scans of the period's days, in one aggregate query; communes with none of it are absent."""
    from app.district.figures import per_holder

    out: dict[int, dict[str, int]] = {}
    with all_tenants():
        for came_from, holder, key, _month, value in _district_rows(start, end, by_month=False):
            tenant_id = (came_from, holder)  # the commune before a reorganisation, the one now (docs/decisions.md)
            out.setdefault(tenant_id, dict.fromkeys(FIGURE_KEYS, 0))[key] = int(value or 0)
    return per_holder(out, by_origin)


def district_monthly(start: date, end: date, by_origin: bool = False) -> dict[date, dict[int, dict[str, int]]]:
    """The same per month in one query: the register as it stands, the scans of each month's days."""
    from app.district.figures import per_holder

    stock: dict[int, dict[str, int]] = {}
    scans: dict[date, dict[int, int]] = {}
    with all_tenants():
        for came_from, holder, key, month, value in _district_rows(start, end, by_month=True):
            tenant_id = (came_from, holder)
            if key == "scans":
                scans.setdefault(_as_month(month), {})[tenant_id] = int(value or 0)
            else:
                stock.setdefault(tenant_id, dict.fromkeys(FIGURE_KEYS, 0))[key] = int(value or 0)
    out: dict[date, dict[int, dict[str, int]]] = {}
    for first in months_back(end, 1 + (end.year - start.year) * 12 + end.month - start.month):
        in_month = scans.get(first, {})
        out[first] = {tenant_id: {**stock.get(tenant_id, dict.fromkeys(FIGURE_KEYS, 0)),
                                  "scans": in_month.get(tenant_id, 0)}
                      for tenant_id in set(stock) | set(in_month)}
    return {month: per_holder(rows, by_origin) for month, rows in out.items()}
