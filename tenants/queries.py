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
