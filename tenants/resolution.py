"""Per-request tenant resolution from the URL prefix ``/c/<tenant_slug>/`` into ``g.tenant``."""

from flask import Flask, abort, flash, g, redirect, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.errors import DomainError

from tenants.queries import get_by_slug
from tenants.scoping import activate_tenant, deactivate_tenant


READS = ("GET", "HEAD", "OPTIONS")
_ANSWER_FOR_THEIR_PAST: set[str] = set()


def answers_for_its_past(endpoint: str) -> None:
    """Declare that ``endpoint`` (a commune's public figures, ``?from=YYYY-MM-DD``) answers for a merged unit itself,
    read-only, when the period asked starts while the unit was in force, instead of redirecting to its successor
    (docs/decisions.md, "Figures that stay true")."""
    _ANSWER_FOR_THEIR_PAST.add(endpoint)


def _asks_its_past(endpoint: str, tenant) -> bool:
    from datetime import date

    if endpoint not in _ANSWER_FOR_THEIR_PAST or tenant.valid_until is None:
        return False
    try:
        return date.fromisoformat(request.args.get("from", "")) <= tenant.valid_until
    except ValueError:
        return False


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
        if tenant.status == "merged" and tenant.successor is not None and not _asks_its_past(endpoint, tenant):
            moved = redirect_to_successor(tenant, slug, endpoint, values)  # its pages live on at the successor's
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

    @app.after_request
    def given_away(response):
        """A unit that gave part of itself away and stays in force: an address of a record it no longer holds (a
        404 here) redirects to the successor that received it."""
        tenant = g.get("tenant")
        if response.status_code != 404 or tenant is None or tenant.status != "active" \
                or request.method not in READS:
            return response
        named = _named_record(request.endpoint, request.view_args)
        if not named:
            return response
        from tenants.lineage import record_successor

        holder = record_successor(tenant, named)
        if holder is None or holder.id == tenant.id or holder.status != "active":
            return response
        return _redirect(tenant.slug, holder, 301)

    @app.teardown_request
    def release_tenant(exc):
        token = g.pop("tenant_token", None)
        if token is not None:
            deactivate_tenant(token)


#: The address arguments that name a record, and where the record is found: a split unit's address redirects to
#: the successor that received that record (its id or code is kept when it moves).
RECORDS = {
    "dossier_id": ("onestop_dossiers", "id"), "code": ("onestop_dossiers", "code"),
    "market_id": ("markets", "id"), "vendor_id": ("vendors", "id"), "sale_id": ("market_sales", "id"),
    "public_id": ("payment_intents", "public_id"), "transfer_id": ("bank_transfers", "id"),
    "product_id": ("products", "id"), "sub_order_id": ("sub_orders", "id"), "notice_id": ("notices", "id"),
    "relic_id": ("heritage_relics", "id"), "board_id": ("heritage_boards", "id"),
    "procedure_id": ("onestop_procedures", "id"), "key_id": ("api_keys", "id"),
}
REFUNDS = ("payment_refunds", "public_id")


def _named_record(endpoint, values) -> list[tuple[str, str, object]]:
    found = []
    typed = request.args.get("code", "").strip()
    if endpoint and endpoint.startswith("onestop_lookup.") and typed and "code" not in (values or {}):
        found.append(("onestop_dossiers", "code", typed[:40]))  # the look-up form: ?code=<dossier code>
    for arg, value in (values or {}).items():
        where = RECORDS.get(arg)
        if arg == "public_id" and endpoint and endpoint.startswith("reconciliation.refund"):
            where = REFUNDS
        if where is not None:
            found.append((*where, value))
    return found


def redirect_to_successor(tenant, slug: str, endpoint=None, values=None):
    """Everything under /c/<slug of a merged unit>/ answers with a permanent redirect to the same page of the unit
    in force that succeeded it (for a split unit, the successor that received the record the address names; the
    default successor for the rest) (records keep their ids and codes when they move: tenants/lineage.py), query string
    included: printed receipt slips, rating QRs and stall posters keep working. 301 for reads, 308 for the rest (the
    method and body are kept). Staff get a notice of where they are now."""
    from tenants.lineage import current_successor, record_successor

    holder = record_successor(tenant, _named_record(endpoint, values))
    successor = holder or current_successor(tenant)
    if successor.status != "active":  # a chain that ends in a unit no longer in force: stay, read-only
        return None
    if holder is not None and holder.id != tenant.successor_id and current_user.is_authenticated \
            and request.method in ("GET", "HEAD"):
        flash(_("%(old)s was split: this record is now kept by %(new)s.", old=tenant.display_name,
                new=holder.display_name), "info")
        return _redirect(slug, holder, 301)
    if current_user.is_authenticated and request.method in ("GET", "HEAD"):
        flash(_("%(old)s merged into %(new)s: you are now on %(new)s's pages.", old=tenant.display_name,
                new=successor.display_name), "info")
    return _redirect(slug, successor, 301 if request.method in ("GET", "HEAD") else 308)


def _redirect(slug: str, successor, status: int):
    """The same path and query under ``successor``'s slug instead of ``slug``."""
    path = request.path  # /c/<slug>/... and /api/c/<slug>/...: the first /c/<slug> segment is the commune's
    old = f"/c/{slug}"
    at = path.find(old + "/") if (old + "/") in path else path.find(old)
    target = path[:at] + f"/c/{successor.slug}" + path[at + len(old):]
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    return redirect(target, status)


def moved_commune_filter(arg: str = "commune"):
    """A public address outside ``/c/`` that names a commune in its query (``/marketplace/search?commune=<slug>``,
    the category pages, ``GET /api/products``), for a commune a reorganisation closed: a permanent redirect to the
    same address naming the unit in force that succeeded it (the default successor of a split unit), else None."""
    from urllib.parse import urlencode

    from werkzeug.datastructures import MultiDict

    from tenants.lineage import current_successor

    slug = request.args.get(arg)
    if not slug or len(slug) > 80 or "\x00" in slug:
        return None
    tenant = get_by_slug(slug)
    if tenant is None or tenant.status != "merged" or tenant.successor is None:
        return None
    successor = current_successor(tenant)
    if successor.status != "active" or successor.id == tenant.id:
        return None
    args = MultiDict(request.args)
    args.setlist(arg, [successor.slug])
    return redirect(f"{request.path}?{urlencode(list(args.items(multi=True)))}", 301)
