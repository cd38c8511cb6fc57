"""Per-request tenant resolution from the URL prefix ``/c/<tenant_slug>/`` into ``g.tenant``."""

from flask import Flask, abort, flash, g, redirect, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.errors import DomainError

from tenants.queries import get_by_slug
from tenants.scoping import activate_tenant, deactivate_tenant


READS = ("GET", "HEAD", "OPTIONS")


class CommuneClosed(DomainError):
    """A change asked of a commune that no longer works (merged into another, or inactive): nothing is changed."""

    status = 403


def closed_message(tenant):
    if tenant.status == "merged" and tenant.successor is not None:
        return _l("%(name)s has been merged into %(successor)s: its records can be read but no longer changed, and "
                  "it accepts nothing new. Work continues in %(successor)s.", name=tenant.display_name,
                  successor=tenant.successor.display_name)
    return _l("%(name)s no longer works on this platform: its records can be read but no longer changed, and it "
              "accepts nothing new.", name=tenant.display_name)


def init_app(app: Flask) -> None:
    @app.url_value_preprocessor
    def resolve_tenant(endpoint, values):
        if not values or "tenant_slug" not in values:
            return
        slug = values.pop("tenant_slug")
        tenant = get_by_slug(slug)
        if tenant is None or tenant.status == "inactive":
            abort(404)
        if tenant.status == "merged" and tenant.successor is not None:
            moved = redirect_to_successor(tenant, slug)  # its pages live on at the successor's (issue 18)
            if moved is not None:
                abort(moved)
        g.tenant = tenant
        g.tenant_token = activate_tenant(tenant)
        if tenant.status != "active" and request.method not in READS:
            # a merged commune is read-only for its staff, and refuses what citizens and shoppers would send it
            raise CommuneClosed(closed_message(tenant))

    expecting: dict[str, bool] = app.extensions.setdefault("endpoints_expecting_tenant", {})

    @app.url_defaults
    def add_tenant_slug(endpoint, values):
        tenant = g.get("tenant")
        if tenant is None or "tenant_slug" in values:
            return
        wants = expecting.get(endpoint)
        if wants is None:  # remembered per endpoint: the routes are all registered before the first request (#17)
            wants = expecting[endpoint] = app.url_map.is_endpoint_expecting(endpoint, "tenant_slug")
        if wants:
            values["tenant_slug"] = tenant.slug

    @app.teardown_request
    def release_tenant(exc):
        token = g.pop("tenant_token", None)
        if token is not None:
            deactivate_tenant(token)


def redirect_to_successor(tenant, slug: str):
    """Everything under /c/<slug of a merged unit>/ answers with a permanent redirect to the same page of the unit
    in force that succeeded it (records keep their ids and codes when they move: tenants/lineage.py), query string
    included: printed receipt slips, rating QRs and stall posters keep working. 301 for reads, 308 for the rest (the
    method and body are kept). Staff get a notice of where they are now."""
    from tenants.lineage import current_successor

    successor = current_successor(tenant)
    if successor.status != "active":  # a chain that ends in a unit no longer in force: stay, read-only
        return None
    path = request.path  # /c/<slug>/... and /api/c/<slug>/...: the first /c/<slug> segment is the commune's
    old = f"/c/{slug}"
    at = path.find(old + "/") if (old + "/") in path else path.find(old)
    target = path[:at] + f"/c/{successor.slug}" + path[at + len(old):]
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    if current_user.is_authenticated and request.method in ("GET", "HEAD"):
        flash(_("%(old)s merged into %(new)s: you are now on %(new)s's pages.", old=tenant.display_name,
                new=successor.display_name), "info")
    return redirect(target, 301 if request.method in ("GET", "HEAD") else 308)
