"""Reads of the tenant registry (a global table: no scoping needed)."""

from functools import cache

from sqlalchemy import String, bindparam, select

from app.extensions import db
from tenants.models import Tenant


@cache
def _by_slug():
    """The statement of ``get_by_slug``, built once (on first use: the models are all mapped by then)."""
    return select(Tenant).where(Tenant.slug == bindparam("slug", type_=String))


def get_by_slug(slug: str) -> Tenant | None:
    """The tenant with this slug. One statement object, given the slug as a bind parameter: SQLAlchemy keeps its
    cache key on the object, so a request pays for running it only. ``get_by_slug_built`` builds it per call: the
    definition tests/tenants/test_by_slug.py holds this to."""
    return db.session.scalar(_by_slug(), {"slug": slug})


def get_by_slug_built(slug: str) -> Tenant | None:
    return db.session.scalar(select(Tenant).where(Tenant.slug == slug))


def list_active() -> list[Tenant]:
    return list(db.session.scalars(select(Tenant).where(Tenant.status == "active").order_by(Tenant.code)))


def list_all() -> list[Tenant]:
    return list(db.session.scalars(select(Tenant).order_by(Tenant.code, Tenant.id)))


def in_force_page(on, *, offset: int, limit: int, q: str = "", district: str = "") -> tuple[int, list[Tenant]]:
    """(how many, one page) of the units in force on ``on`` (``lineage.in_force``, in the same order: code, id),
    optionally those whose slug contains the slugified ``q`` (names are folded into slugs, so "bat trang" finds
    Bát Tràng) or whose code is ``q``, and of one district (``district``: its code)."""
    from sqlalchemy import func

    from tenants import lineage

    where = list(lineage.in_force_where(on))
    where += _matching(q, district)
    total = db.session.scalar(select(func.count()).select_from(Tenant).where(*where))
    rows = db.session.scalars(select(Tenant).where(*where).order_by(Tenant.code, Tenant.id).offset(offset).limit(limit))
    return int(total or 0), list(rows)


def count_active() -> int:
    from sqlalchemy import func

    return int(db.session.scalar(select(func.count()).select_from(Tenant).where(Tenant.status == "active")) or 0)


def active_districts() -> list[tuple[str, list[tuple[str, str, int]]]]:
    """The active communes grouped: [(province, [(district code, district name, communes)])], in name order; one
    aggregate query (the landing page at national scale lists these, not the 3,321 communes)."""
    from sqlalchemy import func

    rows = db.session.execute(
        select(Tenant.province_name, Tenant.district_code, Tenant.district_name, func.count())
        .where(Tenant.status == "active")
        .group_by(Tenant.province_name, Tenant.district_code, Tenant.district_name)
        .order_by(Tenant.province_name, Tenant.district_name, Tenant.district_code)).all()
    provinces: dict[str, list[tuple[str, str, int]]] = {}
    for province, code, name, n in rows:
        provinces.setdefault(province, []).append((code, name, int(n)))
    return list(provinces.items())


def find_active(q: str = "", district: str = "", limit: int = 60) -> tuple[int, list[Tenant]]:
    """(how many, the first ``limit`` in code order) of the active communes whose slug contains the slugified
    ``q`` or whose code is ``q``, and of the district ``district`` (its code) when given."""
    from sqlalchemy import func

    where = [Tenant.status == "active"]
    where += _matching(q, district)
    total = db.session.scalar(select(func.count()).select_from(Tenant).where(*where))
    rows = db.session.scalars(select(Tenant).where(*where).order_by(Tenant.code, Tenant.id).limit(limit))
    return int(total or 0), list(rows)


def _matching(q: str, district: str) -> list:
    """Conditions: the slug contains the slugified ``q`` (names are folded into slugs, so "bat trang" finds Bát
    Tràng) or the code is ``q``; the district's code is ``district``. Empty ones add nothing."""
    from sqlalchemy import or_

    from app.text import slugify

    where = []
    if q:
        folded = slugify(q)
        where.append(or_(Tenant.code == q.strip(), *([Tenant.slug.contains(folded, autoescape=True)] if folded else [])))
    if district:
        where.append(Tenant.district_code == district)
    return where
