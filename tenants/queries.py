"""Reads of the tenant registry (a global table: no scoping needed)."""

from sqlalchemy import select

from app.extensions import db
from tenants.models import Tenant


def get_by_slug(slug: str) -> Tenant | None:
    return db.session.scalar(select(Tenant).where(Tenant.slug == slug))


def list_active() -> list[Tenant]:
    return list(db.session.scalars(select(Tenant).where(Tenant.status == "active").order_by(Tenant.code)))


def list_all() -> list[Tenant]:
    return list(db.session.scalars(select(Tenant).order_by(Tenant.code, Tenant.id)))


def in_force_page(on, *, offset: int, limit: int, q: str = "", district: str = "") -> tuple[int, list[Tenant]]:
    """(how many, one page) of the units in force on ``on`` (``lineage.in_force``, in the same order: code, id),
    optionally those whose slug contains the slugified ``q`` (names are folded into slugs, so "bat trang" finds
    Bát Tràng) or whose code is ``q``, and of one district (``district``: its code)."""
    from sqlalchemy import func, or_

    from app.text import slugify
    from tenants import lineage

    where = list(lineage.in_force_where(on))
    if q:
        folded = slugify(q)
        where.append(or_(Tenant.code == q.strip(), *([Tenant.slug.contains(folded, autoescape=True)] if folded else [])))
    if district:
        where.append(Tenant.district_code == district)
    total = db.session.scalar(select(func.count()).select_from(Tenant).where(*where))
    rows = db.session.scalars(select(Tenant).where(*where).order_by(Tenant.code, Tenant.id).offset(offset).limit(limit))
    return int(total or 0), list(rows)
