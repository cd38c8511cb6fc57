"""What citizens see, without an account: the procedures, online submission, a dossier by its code (personal details
only after the applicant's ID number), the fee QR, ratings (also from an officer's counter QR), the commune's public
figures, and the JSON API. Look-ups by code and ratings are rate-limited (blueprint ``onestop_lookup``)."""

from __future__ import annotations

import base64
import hmac

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.cache import cached_for_visitors
from app.errors import DomainError, NotFound, back_to
from app.extensions import limit_reads, limiter
from app.clock import as_utc
from app.uploads import upload_limit
from tenants.onestop import payments, queries, services, statuses
from tenants.onestop.forms import OfficerRatingForm, RatingForm, SubmitForm
from tenants.onestop.models import Dossier, Procedure, Rating
from tenants.scoping import tenant_context

public_bp = Blueprint("onestop_public", __name__, template_folder="templates")
# Look-ups by dossier code, reads included, are limited per address: guessing codes must not pay off.
lookup_bp = limit_reads(Blueprint("onestop_lookup", __name__, template_folder="templates"))

# The public figures (page and JSON) are the same for every visitor: stored whole by the response cache (app/cache.py)
# until a commit writes a dossier, a rating or a procedure. Open dossiers turn late with the clock alone, so the
# on-time share can lag by up to RESPONSE_CACHE_SECONDS (10 minutes), the cache's bound on staleness.
SHOWN = (Dossier, Rating, Procedure)  # what the cached public figures are computed from


def qr_data_uri(text: str) -> str:
    """A PNG QR of ``text`` as a data: URI (the CSP allows data: images; nothing to fetch when printing)."""
    return "data:image/png;base64," + base64.b64encode(payments.qr_png(text)).decode()


def public_dossier_url(dossier) -> str:
    return url_for("onestop_lookup.dossier", code=dossier.code, _external=True)


def _id_matches(dossier, given: str | None) -> bool:
    given = (given or "").replace(" ", "").strip()
    return bool(given) and hmac.compare_digest(given.encode(), dossier.applicant_id_number.encode())


def public_view(dossier, with_personal: bool) -> dict:
    """The dossier as the public page and the API show it: no personal data, and no fee payment (its reference would
    let anyone who has the code pay into it), unless the applicant's ID number was given (issue #15)."""
    status = statuses.get(dossier.status)
    intent = payments.fee_intent(dossier) if dossier.status == "awaiting_fee" else None
    view = {
        "code": dossier.code,
        "procedure": dossier.procedure.name,
        "status": dossier.status,
        "status_number": status.number,
        "status_label": status.label,
        "channel": dossier.channel,
        "submitted_at": as_utc(dossier.submitted_at).isoformat(),
        "received_at": as_utc(dossier.received_at).isoformat() if dossier.received_at else None,
        "due_at": as_utc(dossier.due_at).isoformat() if dossier.due_at else None,
        "clock_stopped": dossier.clock_paused_at is not None,
        "fee": dossier.fee_amount,
        "fee_paid": dossier.fee_paid_at is not None,
        "history": [{"at": as_utc(e.at).isoformat(), "action": e.action, "status": e.to_status,
                     "status_label": statuses.get(e.to_status).label, "on_time": e.on_time}
                    for e in queries.events(dossier.id)],
        "fee_payment": None,
    }
    if intent is not None and with_personal:  # the reference only to the applicant: a code alone learns none
        view["fee_payment"] = {"amount": intent.amount, "reference": intent.reference_code,
                               "qr": payments.fee_qr(intent)}
    if with_personal:
        view["applicant"] = {"name": dossier.applicant_name, "id_number": dossier.applicant_id_number,
                             "phone": dossier.applicant_phone, "address": dossier.applicant_address,
                             "email": dossier.applicant_email}
        view["reason"] = dossier.reason or dossier.supplement_items or None
    return view


# --- procedures, online submission, public figures ---------------------------------------------------------------

@public_bp.route("/c/<tenant_slug>/onestop/procedures")
def procedures():
    return render_template("onestop/procedure_list.html", procedures=queries.procedures())


@public_bp.route("/c/<tenant_slug>/onestop/catalogue")
def procedures_former_url():
    """The list's address until the word "catalogue" was left to the marketplace: links already shared keep
    working."""
    return redirect(url_for("onestop_public.procedures"), 301)


@public_bp.route("/c/<tenant_slug>/onestop/submit", methods=["GET", "POST"])
@upload_limit(services.MAX_INTAKE_BYTES)
def submit():
    form = SubmitForm()
    form.offer([p for p in queries.procedures() if p.online])
    if not form.validate_on_submit():
        return render_template("onestop/submit.html", form=form), (400 if form.is_submitted() else 200)
    try:
        dossier = services.intake(form.procedure_id.data, services.clean_applicant(**form.applicant()),
                                  channel="online", note=form.request_note.data or "")
        upload = form.file.data
        if upload and upload.filename:
            services.add_document(dossier, upload.filename, upload.read(services.MAX_DOCUMENT_BYTES + 1))
    except DomainError as err:  # at its field, the form again (400: the boundary rolls back)
        form.show_error(err)
        return render_template("onestop/submit.html", form=form), 400
    flash(_("Your dossier %(code)s was sent. Keep this code: the office will receive it.", code=dossier.code),
          "success")
    return redirect(url_for("onestop_lookup.dossier", code=dossier.code))


@public_bp.route("/c/<tenant_slug>/onestop/figures")
@cached_for_visitors(*SHOWN)
@back_to("onestop_public.figures")  # a bad period: flashed, and the default period shown
def figures():
    from tenants.onestop.views_staff import period_from_args

    start, end = period_from_args(request.args)
    now = services.utcnow()
    return render_template("onestop/figures.html", start=start, end=end, figures=queries.figures(start, end, now),
                           monthly=queries.monthly(end, now))


@public_bp.route("/api/c/<tenant_slug>/onestop/metrics")
@cached_for_visitors(*SHOWN)
def figures_api():
    from tenants.onestop.views_staff import period_from_args

    start, end = period_from_args(request.args)  # a bad period: 400 with the JSON error (app/__init__.py)
    body = queries.figures(start, end, services.utcnow())
    return {"commune": g.tenant.slug, "from": start.isoformat(), "to": end.isoformat(), **body}


# --- a dossier by its code (rate-limited) -------------------------------------------------------------------------

@lookup_bp.route("/c/<tenant_slug>/onestop/lookup")
def lookup():
    code = request.args.get("code", "").strip()
    if code:
        return redirect(url_for("onestop_lookup.dossier", code=code[:32]))
    return render_template("onestop/lookup.html")


@lookup_bp.route("/c/<tenant_slug>/onestop/lookup/<code>", methods=["GET", "POST"])
def dossier(code: str):
    try:
        found = queries.get_by_code(code)
    except NotFound:
        return render_template("onestop/lookup.html", code=code, missing=True), 404
    with_personal = request.method == "POST" and _id_matches(found, request.form.get("id_number"))
    if request.method == "POST" and not with_personal:
        flash(_("The ID number does not match this dossier."), "error")
    view = public_view(found, with_personal)
    return render_template("onestop/public_dossier.html", d=found, view=view, with_personal=with_personal,
                           rating=queries.rating_of(found.id), ratings=statuses.RATING_LABELS, form=RatingForm(),
                           fee_qr=qr_data_uri(view["fee_payment"]["qr"]["data"])
                           if view["fee_payment"] and view["fee_payment"]["qr"] else None)


@lookup_bp.route("/c/<tenant_slug>/onestop/lookup/<code>/rate", methods=["POST"])
@back_to("onestop_lookup.dossier")
def rate(code: str):
    found = queries.get_by_code(code)
    form = RatingForm().check()
    services.rate(found, form.level.data or "", form.reason.data or "")
    flash(_("Thank you: your rating was recorded."), "success")
    return redirect(url_for("onestop_lookup.dossier", code=found.code))


@lookup_bp.route("/c/<tenant_slug>/onestop/rate/<int:user_id>", methods=["GET", "POST"])
def rate_officer(user_id: int):
    """The counter QR of an officer: the citizen enters the dossier code and rates; credited to this officer."""
    from app.auth import services as account_services

    officer = account_services.get_staff_member(g.tenant, user_id, "officer")
    form = OfficerRatingForm()
    if form.validate_on_submit():
        try:
            found = queries.get_by_code(form.code.data or "")
        except NotFound as err:  # a code typed wrong is this form's error, not a missing page
            form.code.errors = [str(err.message)]
        else:
            try:
                services.rate(found, form.level.data or "", form.reason.data or "", officer_id=officer.id)
            except DomainError as err:  # at its field, the form again (400: the boundary rolls back)
                form.show_error(err)
            else:
                flash(_("Thank you: your rating was recorded."), "success")
                return redirect(url_for("onestop_lookup.rate_officer", user_id=officer.id))
    return render_template("onestop/rate_officer.html", officer=officer, ratings=statuses.RATING_LABELS,
                           form=form), (400 if form.is_submitted() else 200)


@lookup_bp.route("/api/dossiers/<code>")
def dossier_api(code: str):
    """JSON: status, due time, history, the fee QR when requested. Personal details only with the applicant's ID
    number in the ``X-Applicant-Id`` header (a header, so that it stays out of URLs and logs)."""
    found = queries.find_by_code_anywhere(code)
    if found is None:
        return {"error": {"status": 404, "message": _("No dossier has this code.")}}, 404
    with tenant_context(found.tenant_id):
        found = queries.get_by_code(found.code)
        with_personal = _id_matches(found, request.headers.get("X-Applicant-Id"))
        return public_view(found, with_personal)


# Once, at import (the limiter and the blueprint are module-level: a limit added per create_app would count twice).
limiter.shared_limit(lambda: current_app.config.get("ONESTOP_LOOKUP_RATE_LIMIT", "30 per minute"),
                     scope="onestop_lookup")(lookup_bp)


@lookup_bp.after_request
def _no_rate_limit_headers_on_pages(response):
    """The look-up's limit is counted on every request (one Redis INCR); the X-RateLimit-* headers of an HTML page
    that was served cost two more round trips to Redis (the window's count and its expiry) for headers no browser
    reads. They are kept where they are read: on the JSON API, and on a refusal (429, with its Retry-After).
    Runs before the limiter's own after-request hook (a blueprint's hooks run before the application's)."""
    if response.status_code != 429 and request.endpoint != "onestop_lookup.dossier_api":
        limiter.context.view_rate_limit = None
    return response
