"""Per-request tenant resolution from the URL prefix ``/c/<tenant_slug>/`` into ``g.tenant``."""

from flask import Flask, abort, g

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
