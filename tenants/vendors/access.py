"""Who is a vendor here: the signed-in user's vendor membership of the commune and the vendor it acts for."""

from __future__ import annotations

from functools import wraps

from flask import abort, g
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db, login_manager
from tenants.scoping import tenant_context
from tenants.vendors.models import VendorMembership


def vendor_membership(user, tenant_id: int):
    """The user's vendor membership in the commune (auth's role "vendor"), or None."""
    return next((m for m in user.memberships if m.tenant_id == tenant_id and m.role == "vendor"), None)


def vendor_of(user, tenant_id: int) -> int | None:
    """The id of the vendor the user acts for in the commune, or None (not a vendor there)."""
    membership = vendor_membership(user, tenant_id) if user.is_authenticated else None
    if membership is None:
        return None
    with tenant_context(tenant_id):
        return db.session.scalar(select(VendorMembership.vendor_id)
                                 .where(VendorMembership.membership_id == membership.id))


def vendor_required(view):
    """The signed-in user must be a vendor of ``g.tenant``; ``g.vendor_id`` is then their vendor. Anyone else gets
    404 (a vendor's pages do not exist for other vendors, staff or other communes)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        tenant = g.get("tenant")
        vendor_id = vendor_of(current_user, tenant.id) if tenant is not None else None
        if vendor_id is None:
            abort(404)
        g.vendor_id = vendor_id
        return view(*args, **kwargs)

    return wrapped
