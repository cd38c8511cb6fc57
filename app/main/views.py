from flask import abort, current_app, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _

from app.links import external_url
from app.main import bp
from tenants import queries as tenant_queries
from flask import render_template

from app.cache import cached_for_visitors


LANDING_ALL_UP_TO = 60  # up to this many communes the landing page lists them all (a district: 22), filtered in place
LANDING_MATCHES = 60  # beyond it, the communes of one district or of a search, at most this many


@bp.route("/")
@cached_for_visitors()  # the communes, nothing else
def index():
    """Every commune when they are few (a district's); at a province's or the nation's size (3,321) the provinces
    and their districts, a search, and the communes of the district or search chosen (``?district=``, ``?q=``)."""
    total = tenant_queries.count_active()
    if total <= LANDING_ALL_UP_TO:
        return render_template("main/index.html", communes=tenant_queries.list_active(), total=total, grouped=False)
    q = request.args.get("q", "").replace("\x00", "").strip()[:100]
    district = request.args.get("district", "").strip()[:10]
    groups = tenant_queries.active_districts()
    found, shown = (tenant_queries.find_active(q, district, limit=LANDING_MATCHES) if q or district else (0, None))
    chosen = next((name for _p, districts in groups for code, name, _n in districts if code == district), None)
    return render_template("main/index.html", communes=shown, total=total, grouped=True, groups=groups, q=q,
                           district=district, district_name=chosen, found=found)


@bp.route("/lang/<code>", methods=["GET", "POST"])
def set_language(code: str):
    """Remember the chosen language in the session and go back where the user was."""
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    session["lang"] = code
    target = request.referrer or url_for("main.index")
    if not target.startswith(request.host_url):
        target = url_for("main.index")
    return redirect(target)


COMMUNES_PER_PAGE = 100  # /api/communes's default page: a district's communes fit, the nation's 3,321 do not
COMMUNES_MAX_PER_PAGE = 500


def _positive(name: str, default: int, largest: int) -> int | None:
    value = request.args.get(name, "")
    if not value:
        return default
    return int(value) if value.isdecimal() and 0 < int(value) <= largest else None


@bp.route("/api/communes")
@cached_for_visitors("reorganisation_lines")
def api_communes():
    """The units in force today, or on ``?on=YYYY-MM-DD``, each with the slugs of its predecessors and successors
    (tenants/lineage.py), a page at a time: ``?page=`` (from 1) of ``?per_page=`` units (default
    ``COMMUNES_PER_PAGE``, at most ``COMMUNES_MAX_PER_PAGE``), in the order of their codes, optionally ``?q=`` (a
    name with or without accents, or a code) and ``?district=`` (a district's code). The body stays a JSON list; the
    total is in ``X-Total-Count`` and the other pages in ``Link`` (RFC 8288: first, prev, next, last)."""
    from datetime import date

    from app.clock import utcnow
    from app.formatting import to_local
    from tenants import lineage

    on = request.args.get("on", "")
    try:
        day = date.fromisoformat(on) if on else to_local(utcnow()).date()
    except ValueError:
        return jsonify({"error": {"message": _("Give the date as YYYY-MM-DD."), "param": "on"}}), 400
    page = _positive("page", 1, 1_000_000)
    if page is None:
        return jsonify({"error": {"message": _("page must be a whole number of at least 1."), "param": "page"}}), 400
    per_page = _positive("per_page", COMMUNES_PER_PAGE, COMMUNES_MAX_PER_PAGE)
    if per_page is None:
        return jsonify({"error": {"message": _("per_page must be a whole number from 1 to %(max)s.",
                                               max=COMMUNES_MAX_PER_PAGE), "param": "per_page"}}), 400
    q = request.args.get("q", "").replace("\x00", "")[:100]
    district = request.args.get("district", "")[:10]
    total, units = tenant_queries.in_force_page(day, offset=(page - 1) * per_page, limit=per_page, q=q,
                                                district=district)
    predecessors, successors = lineage.neighbours([t.id for t in units])
    response = jsonify([
        {"slug": t.slug, "name": t.name, "kind": t.kind, "code": t.code,
         "valid_from": t.valid_from.isoformat() if t.valid_from else None,
         "valid_until": t.valid_until.isoformat() if t.valid_until else None,
         "predecessors": [p.slug for p in predecessors[t.id]], "successors": [s.slug for s in successors[t.id]]}
        for t in units
    ])
    response.headers["X-Total-Count"] = str(total)
    last = max(1, -(-total // per_page))
    links = {"first": 1, "prev": page - 1 if page > 1 else None, "next": page + 1 if page < last else None,
             "last": last}
    response.headers["Link"] = ", ".join(
        f'<{external_url("main.api_communes", **{**request.args.to_dict(), "page": n})}>; rel="{rel}"'
        for rel, n in links.items() if n is not None)
    return response


@bp.route("/healthz")
def healthz():
    return {"status": "ok"}
