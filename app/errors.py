"""Domain errors raised by services and mapped to responses in one place (views flash them, the API shapes them)."""

from __future__ import annotations


class DomainError(Exception):
    """A rule said no. ``message`` is shown to the user (translated), ``field`` names the input at fault."""

    status = 400

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


class ValidationError(DomainError):
    status = 400


class NotFound(DomainError):
    """Also used for records of another tenant: they do not exist from here."""

    status = 404


class Conflict(DomainError):
    status = 409


# --------------------------------------------------------------------------------------------- pages' answers

BACK_TO = "_back_to"


def back_to(endpoint: str, **values):
    """On a domain error, the page the user goes back to, with the error flashed (the transaction is already rolled
    back: app/transactions.py). The view's own URL values that ``endpoint`` takes are passed on::

        @bp.route("/d/<int:dossier_id>/act/<action>", methods=["POST"])
        @back_to("onestop.dossier")          # -> /d/<dossier_id>, whatever the action
        def act(dossier_id, action): ...

    Without it a refused POST goes back to the page it came from (same site only), else shows the error page."""

    def mark(view):
        setattr(view, BACK_TO, (endpoint, values))
        return view

    return mark


def page_response(err: DomainError):
    """A domain error as a page answers it: 404 for what does not exist here, else the message flashed on the page
    the view names (``back_to``), or the referring page of this site, or the error page (400)."""
    from flask import current_app, flash, redirect, render_template, request, url_for
    from urllib.parse import urlsplit

    if err.status == 404:
        return render_template("errors/404.html", status=404), 404
    target = None
    view = current_app.view_functions.get(request.endpoint or "")
    declared = getattr(view, BACK_TO, None)
    if declared is not None:
        endpoint, fixed = declared
        taken = {key: value for key, value in (request.view_args or {}).items()
                 if current_app.url_map.is_endpoint_expecting(endpoint, key)}
        target = url_for(endpoint, **{**taken, **fixed})
    elif request.method != "GET" and request.referrer:
        referrer = urlsplit(request.referrer)
        if referrer.netloc == request.host and referrer.scheme in ("http", "https"):
            target = referrer.path + (f"?{referrer.query}" if referrer.query else "")
    if target is None:
        return render_template("errors/400.html", status=err.status, message=str(err.message)), err.status
    flash(str(err.message), "error")
    return redirect(target)
