from flask import abort, current_app, jsonify, redirect, request, session, url_for

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
@cached_for_visitors()
def api_communes():
    return jsonify(
        [{"slug": t.slug, "name": t.name, "kind": t.kind, "code": t.code} for t in tenant_queries.list_active()]
    )


@bp.route("/healthz")
def healthz():
    return {"status": "ok"}
