"""Application factory: create_app() wires configuration, extensions, tenancy, blueprints, errors and commands."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from flask import Flask, g, request, session

from config import INSTANCE_DIR, check_production, config_from_env, development_secrets, trusted_hosts


def _normalise_database_url(url: str | None) -> str | None:
    """Accept the usual postgres:// and postgresql:// forms and use psycopg 3."""
    if url and url.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class GialamFlask(Flask):
    """Flask with one transaction boundary: every view runs as a unit of work (app/transactions.py)."""

    def dispatch_request(self):
        from app.transactions import run_request

        return run_request(super().dispatch_request)

    # Flask asks of every hook and view, on every request, whether it is a coroutine function (about a dozen
    # inspect calls a request): the answer for a function never changes, so the plain ones are remembered (#17).
    KNOWN_SYNC_MAX = 4096

    def ensure_sync(self, func):
        known = self.__dict__.setdefault("_known_sync", set())
        try:
            if func in known:
                return func
        except TypeError:  # an unhashable callable: asked every time, as Flask does
            return super().ensure_sync(func)
        answer = super().ensure_sync(func)
        if answer is func and len(known) < self.KNOWN_SYNC_MAX:
            known.add(func)
        return answer


def create_app(config: Mapping | type | None = None) -> Flask:
    app = GialamFlask(__name__, instance_path=str(INSTANCE_DIR), instance_relative_config=False)
    app.config.from_object(config_from_env())
    if isinstance(config, type):
        app.config.from_object(config)
    elif config:
        app.config.from_mapping(config)
    if app.config.get("ENV_NAME") == "development":
        # Random per install, kept under instance/ (never constants in the code); the environment still wins.
        for name, value in development_secrets(INSTANCE_DIR).items():
            if not app.config.get(name):
                app.config[name] = value
    check_production(app.config)
    app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config) if app.config.get("PRODUCTION") else None
    app.json.ensure_ascii = False  # Vietnamese stays readable in JSON answers
    app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {}

    from app import cache, shedding
    from app.auth import blank_page

    blank_page.init_app(app)  # WSGI middleware directly around Flask: the blank sign-in page for a cookie-less visitor
    shedding.init_app(app)  # WSGI middleware around Flask: a request that waited too long gets 503 at once
    cache.init_app(app)  # WSGI middleware, outside the shedder (a cached page is served in a storm), inside ProxyFix
    if app.config["TRUSTED_PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from app import bounds, uploads

    uploads.init_app(app)  # per-view upload limits apply before any hook reads the form (CSRF)
    bounds.init_app(app)  # then control characters anywhere in the request are refused, before any other hook
    register_extensions(app)
    register_tenancy(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_request_hooks(app)
    register_commands(app)
    from app import records

    records.init_app(app)  # the audit trail's pages and hooks; checks the domains' record-keeping declarations
    return app


def _select_locale() -> str:
    from flask import current_app, has_request_context

    languages = current_app.config["LANGUAGES"]
    # Outside a request (CLI, jobs) messages such as domain errors are still translated: default language.
    chosen = (request.args.get("lang") or session.get("lang")) if has_request_context() else None
    if chosen in languages:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def register_extensions(app: Flask) -> None:
    from app import formatting
    from app.extensions import babel, csrf, db, limiter, login_manager, migrate

    from app import models  # noqa: F401  (the whole schema, for Alembic and the scoping hooks)

    if str(app.config.get("RATELIMIT_STORAGE_URI", "")).startswith(("redis", "unix")):
        from app.redis_health import client_options

        options = dict(app.config.get("RATELIMIT_STORAGE_OPTIONS") or {})
        options.setdefault("key_prefix", app.config["RATELIMIT_KEY_PREFIX"])
        # A Redis that is down, unreachable or silent fails within REDIS_TIMEOUT_SECONDS once, then at once until it
        # answers (app/redis_health.py), with limits' StorageError, which the limiter and app/auth/throttle.py turn
        # into counting in memory, instead of hanging a worker.
        options = {**client_options(app.config, app.config["RATELIMIT_STORAGE_URI"]), **options}
        options.setdefault("wrap_exceptions", True)
        app.config["RATELIMIT_STORAGE_OPTIONS"] = options
    db.init_app(app)
    migrations = Path(app.root_path).parent / "migrations"
    migrate.init_app(app, db, directory=str(migrations), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale, timezone_selector=lambda: "Asia/Ho_Chi_Minh")
    from app import jinja_gettext

    jinja_gettext.install(app)  # the templates' _() reads the request's catalogue directly (#17)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    from flask_babel import lazy_gettext

    login_manager.login_message = lazy_gettext("Please sign in to see this page.")
    formatting.init_app(app)

    from app.auth import sessions

    sessions.init_app(app)


def register_tenancy(app: Flask) -> None:
    from tenants import resolution

    resolution.init_app(app)


def register_blueprints(app: Flask) -> None:
    from app.auth import bp as auth_bp
    from app.district import api_bp as district_api_bp, bp as district_bp
    from app.extensions import csrf
    from app.main import bp as main_bp
    from app.payments.api import bp as api_bp
    from app.payments.views_keys import bp as api_keys_bp
    from app.payments.bank.receivers import bp as bank_receivers_bp
    from app.payments.views_staff import bp as reconciliation_bp
    from app.payments.views_public import bp as payments_bp
    from marketplace import api_bp as marketplace_api_bp, bp as marketplace_bp, vendor_bp as marketplace_vendor_bp
    from tenants.heritage import api_bp as heritage_api_bp, bp as heritage_bp
    from tenants.market import api_bp as market_api_bp
    from tenants.market import bp as market_bp
    from tenants.notices import bp as notices_bp
    from tenants.onestop import bp as onestop_bp, lookup_bp as onestop_lookup_bp, public_bp as onestop_public_bp
    from tenants.vendors import bp as vendors_bp
    from tenants.views import bp as communes_bp

    for bp in (main_bp, auth_bp, district_bp, communes_bp, notices_bp, onestop_bp, onestop_public_bp,
               onestop_lookup_bp, vendors_bp, market_bp, market_api_bp, marketplace_bp, marketplace_vendor_bp,
               marketplace_api_bp, payments_bp, api_bp, bank_receivers_bp, reconciliation_bp, api_keys_bp,
               district_api_bp, heritage_bp, heritage_api_bp):
        app.register_blueprint(bp)
    from app.notify.views import bp as notify_bp

    app.register_blueprint(notify_bp)
    # Machine-to-machine endpoints authenticate by key or signature, not by a browser session.
    csrf.exempt(api_bp)
    csrf.exempt(bank_receivers_bp)



def register_errorhandlers(app: Flask) -> None:
    from flask import render_template
    from flask_wtf.csrf import CSRFError

    from app.errors import DomainError, NotFound, page_response
    from app.transactions import RetriesExhausted

    def render_error(status: int, template: str | None = None, **context):
        if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
            return {"error": {"status": status, "message": context.get("message", "")}}, status
        return render_template(template or f"errors/{status}.html", status=status, **context), status

    @app.errorhandler(400)
    def bad_request(err):
        """A 400 that no blueprint answered: a request refused before routing (an untrusted Host) has no blueprint.
        On /v1 it is the API's JSON error all the same (issue 16); elsewhere werkzeug's page, as before."""
        if request.path == "/v1" or request.path.startswith("/v1/"):
            from flask import jsonify

            response = jsonify({"error": {"type": "invalid_request_error",
                                          "message": err.description or "Invalid request."}})
            response.status_code = 400
            return response
        return err

    @app.errorhandler(403)
    def forbidden(err):
        return render_error(403)

    @app.errorhandler(404)
    def not_found(err):
        return render_error(404)

    @app.errorhandler(NotFound)
    def domain_not_found(err):
        return render_error(404)

    @app.errorhandler(DomainError)
    def domain_error(err):
        if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
            return render_error(err.status, message=str(err.message))
        return page_response(err)

    @app.errorhandler(RetriesExhausted)
    def busy(err):
        from flask_babel import gettext

        app.logger.warning("%s %s: %s", request.method, request.path, err)
        response, status = render_error(503, "errors/400.html",
                                        message=gettext("The service is busy. Please try again in a moment."))
        if isinstance(response, dict):
            from flask import jsonify

            response = jsonify(response)
        else:
            response = app.make_response(response)
        response.status_code = 503
        response.headers["Retry-After"] = "1"
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(err):
        from flask_babel import gettext

        return render_error(400, "errors/400.html", message=gettext("The form expired or was not sent from this site. Please try again."))

    @app.errorhandler(413)
    def too_large(err):
        from flask_babel import gettext

        return render_error(413, "errors/400.html", message=gettext("What was sent is too large."))

    @app.errorhandler(429)
    def too_many(err):
        from flask_babel import gettext

        return render_error(429, "errors/400.html", message=gettext("Too many attempts. Please wait a minute and try again."))

    @app.errorhandler(500)
    def server_error(err):
        from app.extensions import db

        db.session.rollback()
        return render_error(500)


def register_request_hooks(app: Flask) -> None:
    from flask_babel import get_locale

    from app import static_files

    static_files.init_app(app)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'",
        )
        if app.config.get("PRODUCTION"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        # A page shown to a signed-in user (staff, vendors) is theirs alone: no browser or proxy cache keeps it
        # (the back button on a shared computer after sign-out, a proxy serving it to someone else). Pages that
        # never load the user (the payer's QR image, public pages of anonymous visitors) keep their own caching.
        user = g.get("_login_user")
        if user is not None and user.is_authenticated:
            response.headers["Cache-Control"] = "no-store"
            response.headers.pop("Expires", None)
        return response

    from app.links import external_url

    app.jinja_env.globals["external_url"] = external_url  # links that leave the site (og:url): PUBLIC_BASE_URL
    from tenants.resolution import closed_message

    app.jinja_env.globals["commune_closed_message"] = closed_message  # a merged commune's pages say so

    @app.context_processor
    def inject_globals():
        return {"current_locale": str(get_locale()), "tenant": g.get("tenant")}


def register_commands(app: Flask) -> None:
    from app.cli import register

    register(app)
