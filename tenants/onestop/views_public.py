"""What citizens see, without an account: the procedures, online submission, a dossier by its code (personal details
only after the applicant's ID number), the fee QR, ratings (also from an officer's counter QR), the commune's public
figures, and the JSON API. Look-ups by code and ratings are rate-limited (blueprint ``onestop_lookup``)."""

from __future__ import annotations

import base64

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.cache import cached_for_visitors
from app.errors import DomainError, NotFound, ValidationError, back_to
from app.extensions import db, limit_reads, limiter
from app.clock import as_utc
from app.links import external_url
from app.uploads import upload_limit
from tenants.onestop import online, payments, proof, queries, receipts, services, statuses
from tenants.onestop.forms import OfficerRatingForm, RatingForm, SubmitForm, SupplementForm
from tenants.onestop.models import Dossier, Procedure, Rating
from tenants.resolution import answers_for_its_past
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
    """The address the receipt slip prints and its QR holds: on the public host, with the applicant's key (the proof
    that lets them rate, tenants/onestop/proof.py)."""
    return external_url("onestop_lookup.dossier", code=dossier.code, k=proof.applicant_key(dossier))


def counter_qr_url(officer) -> str:
    """An officer's counter QR: a signed token of the commune and the officer, on the public host."""
    return external_url("onestop_lookup.rate_officer", token=proof.counter_token(g.tenant.id, officer.id))


# Ratings are limited per address and per dossier (attempts count, refused ones included).
def _rated_code() -> str:
    code = (request.view_args or {}).get("code") or request.form.get("code") or ""
    return "onestop-rating:" + str(code).strip()[:32]


def _rating_limits(view):
    per_address = limiter.shared_limit(
        lambda: current_app.config.get("ONESTOP_RATING_ADDRESS_LIMIT", "20 per hour"), scope="onestop_rating_address",
        methods=["POST"], override_defaults=False)
    per_dossier = limiter.shared_limit(
        lambda: current_app.config.get("ONESTOP_RATING_DOSSIER_LIMIT", "10 per day"), scope="onestop_rating_dossier",
        key_func=_rated_code, methods=["POST"], override_defaults=False)
    return per_address(per_dossier(view))


def public_view(dossier, with_personal: bool, events=None) -> dict:
    """The dossier as the public page and the API show it: no personal data, and no fee payment (its reference would
    let anyone who has the code pay into it), unless the applicant proved who they are (issue #15)."""
    status = statuses.get(dossier.status)
    intent = payments.fee_intent(dossier) if dossier.status == "awaiting_fee" else None
    view = {
        "code": dossier.code,
        "procedure": dossier.procedure.name,
        "status": dossier.status,
        "status_number": status.number,
        "status_label": str(status.label),
        "channel": dossier.channel,
        "submitted_at": as_utc(dossier.submitted_at).isoformat(),
        "received_at": as_utc(dossier.received_at).isoformat() if dossier.received_at else None,
        "due_at": as_utc(dossier.due_at).isoformat() if dossier.due_at else None,
        "clock_stopped": dossier.clock_paused_at is not None,
        "fee": dossier.fee_amount,
        "fee_paid": dossier.fee_paid_at is not None,
        "history": [{"at": as_utc(e.at).isoformat(), "action": e.action, "status": e.to_status,
                     "status_label": str(statuses.get(e.to_status).label), "on_time": e.on_time}
                    for e in (queries.events(dossier.id) if events is None else events)],
        "result_available": online.result_available(dossier),
        "fee_payment": None,
    }
    if intent is not None and with_personal:  # the reference only to the applicant: a code alone learns none
        view["fee_payment"] = {"amount": intent.amount, "reference": intent.reference_code,
                               "qr": payments.fee_qr(intent)}
    if with_personal:
        view["applicant"] = {"name": dossier.applicant_name, "id_number": dossier.applicant_id_number,
                             "phone": dossier.applicant_phone, "address": dossier.applicant_address,
                             "email": dossier.applicant_email}
        # What the office says now: why it ended, what to add while it waits for documents, or the result's note
        # (the old supplement request is history once a result exists).
        waiting = dossier.status == statuses.AWAITING_DOCUMENTS.value
        view["reason"] = dossier.reason or (dossier.supplement_items if waiting else "") or None
        view["result_note"] = dossier.result_note if dossier.status in statuses.COMPLETED else None
    return view


# --- procedures, online submission, public figures ---------------------------------------------------------------

@public_bp.route("/c/<tenant_slug>/onestop/procedures")
def procedures():
    return render_template("onestop/procedure_list.html", procedures=queries.procedures())


@public_bp.route("/c/<tenant_slug>/onestop/procedures/<int:procedure_id>")
def procedure(procedure_id: int):
    """One procedure: its required documents, time limit, fee or free, level of online service, a start button."""
    found = queries.get_procedure(procedure_id)
    if not found.active:
        raise NotFound(_("This procedure is no longer offered."))
    return render_template("onestop/procedure.html", p=found)


@public_bp.route("/c/<tenant_slug>/onestop/catalogue")
def procedures_former_url():
    """The list's address until the word "catalogue" was left to the marketplace: links already shared keep
    working."""
    return redirect(url_for("onestop_public.procedures"), 301)


@public_bp.route("/c/<tenant_slug>/onestop/submit", methods=["GET", "POST"])
@upload_limit(services.MAX_INTAKE_BYTES)
def submit():
    """The online form: several files, each checked and kept (pending uploads) when something else is wrong, so
    the citizen never chooses them twice; refused past the day's quotas (online.check_quota)."""
    form = SubmitForm()
    offered = [p for p in queries.procedures() if p.online]
    form.offer(offered)
    if request.method == "GET" and request.args.get("procedure", "").isdigit():
        form.procedure_id.data = int(request.args["procedure"])
    if not form.is_submitted():
        return _submit_page(form, [])
    tenant_id = g.tenant.id
    online.sweep_pending(tenant_id)
    try:
        origin = online.check_quota(request.remote_addr, request.content_length or 0)
    except DomainError as err:
        form.show_error(err)
        return _submit_page(form, [], 429)
    kept = [p for p in (online.read_pending(tenant_id, t) for t in request.form.getlist("pending")[:online.MAX_FILES])
            if p is not None]
    file_errors = []
    for upload in request.files.getlist("files"):
        if upload and upload.filename:
            try:
                kept.append(online.keep_pending(tenant_id, upload.filename,
                                                upload.read(services.MAX_DOCUMENT_BYTES + 1)))
            except DomainError as err:
                file_errors.append(f"{upload.filename}: {err.message}")
    if len(kept) > online.MAX_FILES:
        file_errors.append(_("At most %(n)d files at once.", n=online.MAX_FILES))
    valid = form.validate_on_submit()
    form.files.errors = [*form.files.errors, *file_errors]
    if not valid or file_errors:
        return _submit_page(form, kept, 400)
    try:
        dossier = services.intake(form.procedure_id.data,
                                  services.clean_applicant(**form.applicant(), require_contact=True),
                                  channel="online", note=form.request_note.data or "", submitted_from=origin)
        for item in kept:
            services.add_document(dossier, item["name"], item["data"])
    except DomainError as err:  # at its field, the form again (400: the boundary rolls back)
        form.show_error(err)
        return _submit_page(form, kept, 400)
    online.drop_pending(item["key"] for item in kept)
    flash(_("Your dossier %(code)s was sent. Keep this receipt: its link brings you back to your dossier.",
            code=dossier.code), "success")
    return redirect(url_for("onestop_lookup.receipt", code=dossier.code, k=online.secret(dossier)))


def _submit_page(form, kept: list, status: int = 200):
    chosen = queries.get_procedure(form.procedure_id.data) if isinstance(form.procedure_id.data, int) else None
    return render_template("onestop/submit.html", form=form, kept=kept, chosen=chosen,
                           max_files=online.MAX_FILES), status


@public_bp.route("/c/<tenant_slug>/onestop/figures")
@cached_for_visitors(*SHOWN)
@back_to("onestop_public.figures")  # a bad period: flashed, and the default period shown
def figures():
    from tenants.onestop.views_staff import period_from_args

    from tenants.lineage import own_figures

    start, end = period_from_args(request.args)
    now = services.utcnow()
    own = own_figures(g.tenant, start, end)  # across a reorganisation: as figures_api
    with own.reading():
        shown = queries.figures(start, own.end, now, own.where(Dossier))
        monthly = queries.monthly(own.end, now, where=own.where(Dossier))
    return render_template("onestop/figures.html", start=start, end=own.end, figures=shown, monthly=monthly,
                           includes=own.includes)


@public_bp.route("/api/c/<tenant_slug>/onestop/metrics")
@cached_for_visitors(*SHOWN)
def figures_api():
    from tenants.onestop.views_staff import period_from_args

    from tenants.lineage import own_figures

    start, end = period_from_args(request.args)  # a bad period: 400 with the JSON error (app/__init__.py)
    # Across a reorganisation: a merged unit's own past, a successor's records and whose history they include
    # (docs/decisions.md, "Figures that stay true").
    own = own_figures(g.tenant, start, end)
    with own.reading():
        body = queries.figures(start, own.end, services.utcnow(), own.where(Dossier))
    return {"commune": g.tenant.slug, "from": start.isoformat(), "to": own.end.isoformat(), **body, **own.note}


answers_for_its_past("onestop_public.figures_api")  # a merged unit's own past figures still answer (#18)
answers_for_its_past("onestop_public.figures")


# --- a dossier by its code (rate-limited) -------------------------------------------------------------------------

@lookup_bp.route("/c/<tenant_slug>/onestop/lookup")
def lookup():
    code = online.canonical_code(request.args.get("code", ""))
    if code:
        found = queries.find_by_code_anywhere(code)  # a code names its unit: any commune's dossier is found
        return redirect(dossier_path(found) if found is not None else url_for("onestop_lookup.dossier", code=code))
    return render_template("onestop/lookup.html")


def dossier_path(found) -> str:
    """The public page of a dossier found across communes, under its own commune's address."""
    from tenants.models import Tenant
    from tenants.scoping import all_tenants

    with all_tenants():
        slug = db.session.get(Tenant, found.tenant_id).slug
    return url_for("onestop_lookup.dossier", tenant_slug=slug, code=found.code)


@lookup_bp.route("/c/<tenant_slug>/onestop/lookup/<code>", methods=["GET", "POST"])
def dossier(code: str):
    try:
        found = queries.get_by_code(online.canonical_code(code))
    except NotFound:
        return render_template("onestop/lookup.html", code=code, missing=True), 404
    if request.method == "POST":
        with_personal = online.prove(found, id_number=request.form.get("id_number"))
        if not with_personal:
            flash(_("The ID number does not match this dossier."), "error")
    else:
        with_personal = online.proven(found, request.args.get("k"))
    timeline = queries.events(found.id)
    view = public_view(found, with_personal, timeline)
    supplement_form, rating_form = dossier_page_forms(found, with_personal)
    return render_template("onestop/public_dossier.html", d=found, view=view, with_personal=with_personal,
                           key=proof.applicant_key(found) if with_personal else None,
                           documents=queries.documents(found.id) if with_personal else [],
                           fee_receipt=receipts.receipt_of(found.id) if with_personal else None,
                           supplement_form=supplement_form, timeline=timeline,
                           action_labels=services.ACTION_LABELS, status_label=lambda v: statuses.get(v).label,
                           statuses_open=(statuses.REGISTERED.value, *statuses.OPEN, statuses.PROCESSED.value),
                           rating=queries.rating_of(found.id) if with_personal else None,  # the applicant's only
                           ratings=statuses.RATING_LABELS, form=rating_form,
                           fee_qr=qr_data_uri(view["fee_payment"]["qr"]["data"])
                           if view["fee_payment"] and view["fee_payment"]["qr"] else None)


def dossier_page_forms(found, with_personal: bool) -> tuple:
    """(documents form, rating form) of a dossier's public page, each only when the page shows it (the conditions of
    onestop/public_dossier.html): building a form is a quarter of the page's work (#17). None otherwise."""
    supplement = SupplementForm() if with_personal and found.status == statuses.AWAITING_DOCUMENTS.value else None
    return supplement, (RatingForm() if found.status != statuses.REGISTERED.value else None)


@lookup_bp.route("/c/<tenant_slug>/onestop/lookup/<code>/rate", methods=["POST"])
@_rating_limits
@back_to("onestop_lookup.dossier")
def rate(code: str):
    found = queries.get_by_code(code)
    form = RatingForm().check()
    services.rate(found, form.level.data or "", form.reason.data or "", key=request.form.get("k"),
                  id_number=request.form.get("id_number"))
    flash(_("Thank you: your rating was recorded."), "success")
    return redirect(url_for("onestop_lookup.dossier", code=found.code, k=proof.applicant_key(found)))


@lookup_bp.route("/c/<tenant_slug>/onestop/rate/<token>", methods=["GET", "POST"])
@_rating_limits
def rate_officer(token: str):
    """The counter QR of an officer (a signed token, proof.counter_token): the citizen enters the dossier code and
    their ID number, and rates; credited to this officer if they worked on the dossier. A token that is not genuine
    is 404; a counter QR printed before the tokens (an officer's id) still opens the form, crediting no one by it."""
    from app.auth import services as account_services

    officer_id = proof.counter_officer(token, g.tenant.id)
    if officer_id is None and not token.isdigit():
        raise NotFound(_("No such page."))
    officer = account_services.get_staff_member(g.tenant, officer_id, "officer") if officer_id else None
    form = OfficerRatingForm()
    if form.validate_on_submit():
        try:
            try:
                found = queries.get_by_code(form.code.data or "")
            except NotFound as err:  # a code typed wrong is this form's error, not a missing page
                raise ValidationError(err.message, field="code") from err
            services.rate(found, form.level.data or "", form.reason.data or "", id_number=form.id_number.data,
                          counter_officer_id=officer.id if officer else None)
        except DomainError as err:  # at its field, the form again (400: the boundary rolls back)
            form.show_error(err)
        else:
            flash(_("Thank you: your rating was recorded."), "success")
            return redirect(url_for("onestop_lookup.rate_officer", token=token))
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
        with_personal = proof.id_matches(found, request.headers.get("X-Applicant-Id"))
        return public_view(found, with_personal)


from tenants.onestop import views_online  # noqa: E402,F401  (the applicant's pages, on lookup_bp)

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
