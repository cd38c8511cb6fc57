"""Per-request tenant resolution from the URL prefix ``/c/<tenant_slug>/`` into ``g.tenant``."""

from flask import Flask, abort, flash, g, redirect, request
from flask_babel import gettext as _
from flask_login import current_user

from tenants.queries import get_by_slug
from tenants.scoping import activate_tenant, deactivate_tenant


def init_app(app: Flask) -> None:
    @app.url_value_preprocessor
    def resolve_tenant(endpoint, values):
        if not values or "tenant_slug" not in values:
            return
        slug = values.pop("tenant_slug")
        tenant = get_by_slug(slug)
        if tenant is None or tenant.status == "inactive":
            abort(404)
        if tenant.status == "merged":
            abort(redirect_to_successor(tenant, slug))
        g.tenant = tenant
        g.tenant_token = activate_tenant(tenant)

    @app.url_defaults
    def add_tenant_slug(endpoint, values):
        tenant = g.get("tenant")
        if tenant is not None and "tenant_slug" not in values and app.url_map.is_endpoint_expecting(
            endpoint, "tenant_slug"
        ):
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
