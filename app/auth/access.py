"""Authorisation helpers that know the tenant. Someone else's commune answers 404: its records do not exist here."""

from functools import wraps

from flask import abort, g
from flask_login import current_user

from app.auth.models import STAFF_ROLES
from app.extensions import login_manager


def is_commune_staff(user, tenant_id: int, *roles: str) -> bool:
    """The staff-of-this-commune rule: one of ``roles`` (the commune's staff by default) in the commune, or a
    district admin, who oversees every commune."""
    return bool(user.is_authenticated
                and (user.is_district_admin or user.has_role(tenant_id, *(roles or STAFF_ROLES))))


def commune_staff_required(*roles: str):
    """The signed-in user must hold one of ``roles`` in ``g.tenant`` (district admins oversee every commune)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            tenant = g.get("tenant")
            if tenant is None:
                abort(404)
            if not is_commune_staff(current_user, tenant.id, *roles):
                abort(404)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def district_admin_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_district_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def home_endpoint_for(user) -> tuple[str, dict]:
    """Where a user lands after signing in: the district overview, their first commune's desk, or a vendor's home
    (the sales page of a stallholder, the shop of a producer: tenants/vendors decides) (a deactivated commune has no
    pages: its staff land on the public home page instead of a 404)."""
    if user.is_district_admin:
        return "district.index", {}
    staff = sorted((m for m in user.commune_memberships if m.role in STAFF_ROLES and m.tenant.status != "inactive"),
                   key=lambda m: m.id)
    if staff:
        return "communes.desk", {"tenant_slug": staff[0].tenant.slug}
    vendors = sorted((m for m in user.commune_memberships if m.role == "vendor" and m.tenant.status != "inactive"),
                     key=lambda m: m.id)
    if vendors:  # a stallholder sells from their phone, a producer looks after its shop: the vendor's home says which
        return "vendors.home", {"tenant_slug": vendors[0].tenant.slug}
    return "main.index", {}
