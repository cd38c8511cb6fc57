"""What each domain shows on a commune's two front pages, registered from the domain's own package: the staff desk
(figures, charts and links, each tile for the roles that see it) and the public home page (links and a section).
The core composes both pages from here and names no domain (tests/test_import_rules.py). A new tile is a few lines
in the domain's ``__init__.py``::

    from tenants import tiles
    tiles.on_desk(tiles.DeskTile("heritage", links=(tiles.Link(_l("Heritage"), "heritage.index"),),
                                 read=lambda: [tiles.Figure(_l("Relics"), queries.relic_count())]))

A tile whose figures are counts gives their scalar subqueries instead of a ``read``: the desk reads every tile's in
one statement (``counts=lambda: (queries.relic_count_subquery(),), from_counts=lambda relics: [tiles.Figure(...)]``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from app.auth.access import is_commune_staff
from app.auth.models import STAFF_ROLES


@dataclass(frozen=True)
class Link:
    label: object  # a lazy translation
    endpoint: str  # the domain's own endpoint, taking the commune's slug (or nothing)
    primary: bool = False  # a main button; else a secondary one
    testid: str | None = None


@dataclass(frozen=True)
class Figure:
    """A number on the desk: what it counts, read in the commune when the desk is shown."""

    label: object
    value: int
    money: bool = False  # shown as 1.250.000 ₫
    endpoint: str | None = None  # the figure links there
    attention: bool = False  # highlighted when not zero: something waits for a person
    testid: str | None = None


@dataclass(frozen=True)
class Chart:
    """A column chart on the desk (app/templates/_charts.html): rows of (label, value, value as text)."""

    label: object
    rows: list
    testid: str = "chart"


@dataclass(frozen=True)
class DeskTile:
    name: str
    links: tuple[Link, ...] = ()
    read: Callable[[], Iterable[Figure | Chart]] | None = None  # read in the active commune, once per desk shown
    roles: tuple[str, ...] = STAFF_ROLES  # who sees the tile (district admins see every tile: oversight)
    order: int = 50
    # A tile whose figures are counts: ``counts()`` gives their scalar subqueries (``select(func.count())...
    # .scalar_subquery()``), which the desk reads with every other tile's in ONE statement, and
    # ``from_counts(*values)`` turns their values into the tile's figures (issue #17: a statement per tile was most
    # of the desk's work). Both or neither.
    counts: Callable[[], tuple] | None = None
    from_counts: Callable[..., Iterable[Figure | Chart]] | None = None


@dataclass(frozen=True)
class Section:
    """A domain's part of the home page: its template, rendered with ``context``."""

    template: str
    context: dict = field(default_factory=dict)


@dataclass(frozen=True)
class HomeTile:
    name: str
    links: tuple[Link, ...] = ()
    section: Callable[[], Section] | None = None  # read in the active commune
    shown: tuple[str, ...] = ()  # the tables the section shows: the cached home page is renewed when they change
    order: int = 50


_DESK: dict[str, DeskTile] = {}
_HOME: dict[str, HomeTile] = {}


def on_desk(tile: DeskTile) -> DeskTile:
    """Register (or replace, by name) a tile of the desk."""
    if (tile.counts is None) != (tile.from_counts is None):
        raise ValueError(f"desk tile {tile.name!r}: counts and from_counts go together")
    _DESK[tile.name] = tile
    return tile


def on_home(tile: HomeTile) -> HomeTile:
    """Register (or replace, by name) a tile of the home page."""
    _HOME[tile.name] = tile
    return tile


def desk_tiles() -> list[DeskTile]:
    """Every registered desk tile, in order."""
    return _ordered(_DESK.values())


def remove(name: str) -> None:
    _DESK.pop(name, None)
    _HOME.pop(name, None)


def _ordered(tiles):
    return sorted(tiles, key=lambda tile: (tile.order, tile.name))


@dataclass
class Desk:
    figures: list[Figure]
    charts: list[Chart]
    links: list[Link]


def desk(user, tenant) -> Desk:
    """The desk of ``tenant`` as ``user`` sees it: the tiles of their roles, read in the active commune: the
    counts of every tile in one statement, then each tile's own ``read``."""
    sees: dict[tuple[str, ...], bool] = {}  # by the tiles' roles: most tiles share STAFF_ROLES, asked once
    for roles in {tile.roles for tile in _DESK.values()}:
        sees[roles] = is_commune_staff(user, tenant.id, *roles)
    shown = [tile for tile in _ordered(_DESK.values()) if sees[tile.roles]]
    values = _read_counts(shown)
    page = Desk([], [], [])
    for tile in shown:
        items = list(tile.read()) if tile.read else []
        if tile.counts is not None:
            items.extend(tile.from_counts(*values[tile.name]))
        for item in items:
            (page.charts if isinstance(item, Chart) else page.figures).append(item)
        page.links.extend(tile.links)
    return page


def _read_counts(shown: list[DeskTile]) -> dict[str, tuple]:
    """{tile's name: the values of its ``counts()``}: every tile's subqueries in one SELECT (scoped to the active
    commune by tenants/scoping.py like any other statement: it applies to the subqueries too)."""
    from sqlalchemy import select

    from app.extensions import db

    columns = [(tile.name, tile.counts()) for tile in shown if tile.counts is not None]
    if not columns:
        return {}
    row = db.session.execute(select(*(c for _name, counts in columns for c in counts))).one()
    values, at = {}, 0
    for name, counts in columns:
        values[name] = tuple(int(v or 0) for v in row[at:at + len(counts)])
        at += len(counts)
    return values


@dataclass
class Home:
    links: list[Link]
    sections: list[Section]


def home() -> Home:
    page = Home([], [])
    for tile in _ordered(_HOME.values()):
        page.links.extend(tile.links)
        if tile.section is not None:
            page.sections.append(tile.section())
    return page


def home_tables() -> tuple[str, ...]:
    """The tables the home page's sections show (for the response cache)."""
    return tuple(sorted({table for tile in _HOME.values() for table in tile.shown}))
