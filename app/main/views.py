from flask import abort, current_app, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _

from app.main import bp
from tenants import queries as tenant_queries
from flask import render_template

from app.cache import cached_for_visitors


@bp.route("/")
@cached_for_visitors()  # the communes, nothing else
def index():
    return render_template("main/index.html", communes=tenant_queries.list_active())


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


@bp.route("/api/communes")
@cached_for_visitors("reorganisation_lines")
def api_communes():
    """The units in force today, or on ``?on=YYYY-MM-DD``, each with the slugs of its predecessors and successors
    (tenants/lineage.py)."""
    from datetime import date

    from app.clock import utcnow
    from app.formatting import to_local
    from tenants import lineage

    on = request.args.get("on", "")
    try:
        day = date.fromisoformat(on) if on else to_local(utcnow()).date()
    except ValueError:
        return jsonify({"error": {"message": _("Give the date as YYYY-MM-DD."), "param": "on"}}), 400
    units = lineage.in_force(day)
    predecessors, successors = lineage.neighbours([t.id for t in units])
    return jsonify([
        {"slug": t.slug, "name": t.name, "kind": t.kind, "code": t.code,
         "valid_from": t.valid_from.isoformat() if t.valid_from else None,
         "valid_until": t.valid_until.isoformat() if t.valid_until else None,
         "predecessors": [p.slug for p in predecessors[t.id]], "successors": [s.slug for s in successors[t.id]]}
        for t in units
    ])


@bp.route("/healthz")
def healthz():
    return {"status": "ok"}
