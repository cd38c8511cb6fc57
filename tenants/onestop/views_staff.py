"""The office's pages (commune staff): the work queue, intake for a citizen, a dossier and its actions, documents,
the printable slips, the catalogue and office hours (commune admins), and the dashboard."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import audit, storage
from app.auth import services as account_services
from app.auth.access import commune_staff_required
from app.auth.models import STAFF_ROLES
from app.errors import DomainError
from app.exports import csv_response
from app.extensions import db
from app.formatting import to_local
from app.clock import as_utc
from app.uploads import upload_limit
from tenants.onestop import bp, catalogue, forms, payments, queries, services, statuses
from tenants.onestop.views_public import public_dossier_url, qr_data_uri

staff_only = commune_staff_required(*STAFF_ROLES)
admin_only = commune_staff_required("commune_admin")


def _fail(err: DomainError) -> None:
    flash(str(err.message), "error")


def _back_to_dossier(err: DomainError, dossier_id: int):
    """A refused step: undo it; no such dossier in this commune is a 404, bad input goes back with the reason."""
    db.session.rollback()
    if err.status == 404:
        abort(404)
    _fail(err)
    return redirect(url_for("onestop.dossier", dossier_id=dossier_id))


@bp.route("/")
@staff_only
def queue():
    now = services.utcnow()
    search = request.args.get("q", "")[:120]
    status = request.args.get("status")
    dossiers = queries.work_queue(now, search=search, status=status)
    return render_template("onestop/queue.html", dossiers=dossiers, now=now, search=search, status=status,
                           mark=queries.mark, statuses=statuses)


@bp.route("/new", methods=["GET", "POST"])
@staff_only
@upload_limit(services.MAX_INTAKE_BYTES)
def intake():
    procedures = queries.procedures()
    if request.method == "POST":
        refusing = request.form.get("decision") == "refuse"
        try:
            applicant = services.clean_applicant(**forms.applicant_fields(request.form))
            dossier = services.intake(
                forms.whole_number(request.form.get("procedure_id"), "procedure_id"), applicant,
                channel=request.form.get("channel") or "counter", officer=current_user,
                note=request.form.get("request_note", ""), sets=forms.whole_number(request.form.get("sets"), "sets", 1),
                refuse_reason=request.form.get("reason", "") if refusing else None,
            )
            for upload in request.files.getlist("files") if not refusing else ():
                if upload and upload.filename:
                    services.add_document(dossier, upload.filename, upload.read(services.MAX_DOCUMENT_BYTES + 1),
                                          current_user)
        except DomainError as err:
            db.session.rollback()
            _fail(err)
            return render_template("onestop/intake.html", procedures=procedures, form=request.form,
                                   statuses=statuses), 400
        db.session.commit()
        if refusing:  # straight to the slip the citizen takes home, as the refusal of an online dossier does
            flash(_("Dossier %(code)s refused at reception: print the refusal slip (Mẫu 03) for the citizen.",
                    code=dossier.code), "success")
            return redirect(url_for("onestop.notice_slip", dossier_id=dossier.id))
        flash(_("Dossier %(code)s received.", code=dossier.code), "success")
        return redirect(url_for("onestop.dossier", dossier_id=dossier.id))
    return render_template("onestop/intake.html", procedures=procedures, form={}, statuses=statuses)


def _dossier_page(dossier_id: int):
    dossier = queries.get_dossier(dossier_id)
    return {
        "dossier": dossier, "status": statuses.get(dossier.status), "events": queries.events(dossier.id),
        "documents": queries.documents(dossier.id), "rating": queries.rating_of(dossier.id),
        "intent": payments.fee_intent(dossier), "now": services.utcnow(), "mark": queries.mark,
        "allowed": {action: services.allowed(dossier, action) for action in services.ACTIONS},
        "statuses": statuses, "action_labels": services.ACTION_LABELS,
    }


@bp.route("/d/<int:dossier_id>")
@staff_only
def dossier(dossier_id: int):
    return render_template("onestop/dossier.html", **_dossier_page(dossier_id))


@bp.route("/d/<int:dossier_id>/act/<action>", methods=["POST"])
@staff_only
def act(dossier_id: int, action: str):
    try:
        dossier = services.locked(dossier_id)
        services.act(dossier, action, current_user, reason=request.form.get("reason", ""))
    except DomainError as err:
        return _back_to_dossier(err, dossier_id)
    db.session.commit()
    flash(_("Done: %(action)s.", action=services.ACTION_LABELS.get(action, action)), "success")
    if action == "request_documents":
        return redirect(url_for("onestop.supplement_slip", dossier_id=dossier_id))
    if action in ("refuse", "stop"):
        return redirect(url_for("onestop.notice_slip", dossier_id=dossier_id))
    return redirect(url_for("onestop.dossier", dossier_id=dossier_id))


@bp.route("/d/<int:dossier_id>/apology", methods=["GET", "POST"])
@staff_only
def apology(dossier_id: int):
    if request.method == "POST":
        try:
            dossier = services.locked(dossier_id)
            new_due = forms.local_datetime(request.form.get("new_date"), request.form.get("new_time"), "new_due")
            services.apologise(dossier, current_user, request.form.get("reason", ""), new_due)
        except DomainError as err:
            return _back_to_dossier(err, dossier_id)
        db.session.commit()
        flash(_("The apology and the new appointment are recorded."), "success")
    page = _dossier_page(dossier_id)
    if page["dossier"].apology_at is None:
        return redirect(url_for("onestop.dossier", dossier_id=dossier_id))
    return render_template("onestop/slip_apology.html", **page)


@bp.route("/d/<int:dossier_id>/result", methods=["POST"])
@staff_only
@upload_limit(services.MAX_DOCUMENT_BYTES)
def record_result(dossier_id: int):
    upload = request.files.get("file")
    try:
        dossier = services.locked(dossier_id)
        if upload is None or not upload.filename:
            from app.errors import ValidationError

            raise ValidationError(_("Attach the result file (PDF, PNG or JPEG)."), field="file")
        services.record_result(dossier, current_user, upload.filename,
                               upload.read(services.MAX_DOCUMENT_BYTES + 1), request.form.get("note", ""))
    except DomainError as err:
        return _back_to_dossier(err, dossier_id)
    db.session.commit()
    flash(_("Result recorded."), "success")
    return redirect(url_for("onestop.dossier", dossier_id=dossier_id))


@bp.route("/d/<int:dossier_id>/documents", methods=["POST"])
@staff_only
@upload_limit(services.MAX_DOCUMENT_BYTES)
def upload_document(dossier_id: int):
    dossier = queries.get_dossier(dossier_id)
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            from app.errors import ValidationError

            raise ValidationError(_("Choose a file."), field="file")
        services.add_document(dossier, upload.filename, upload.read(services.MAX_DOCUMENT_BYTES + 1), current_user)
    except DomainError as err:
        db.session.rollback()
        _fail(err)
        return redirect(url_for("onestop.dossier", dossier_id=dossier_id))
    db.session.commit()
    flash(_("Document added."), "success")
    return redirect(url_for("onestop.dossier", dossier_id=dossier_id))


@bp.route("/d/<int:dossier_id>/documents/<int:document_id>")
@staff_only
def document(dossier_id: int, document_id: int):
    doc = queries.get_document(dossier_id, document_id)  # NotFound for another commune's
    try:
        data = storage.load(doc.storage_key)
    except FileNotFoundError:
        abort(404)
    audit.record("download", table="onestop_documents", record_id=doc.id, details={"dossier": dossier_id})
    response = Response(data, mimetype=doc.content_type)
    response.headers["Content-Disposition"] = "inline"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response


@bp.route("/d/<int:dossier_id>/receipt")
@staff_only
def receipt(dossier_id: int):
    page = _dossier_page(dossier_id)
    url = public_dossier_url(page["dossier"])
    return render_template("onestop/slip_receipt.html", public_url=url, qr=qr_data_uri(url), **page)


@bp.route("/d/<int:dossier_id>/supplement")
@staff_only
def supplement_slip(dossier_id: int):
    page = _dossier_page(dossier_id)
    if not page["dossier"].supplement_requests:
        return redirect(url_for("onestop.dossier", dossier_id=dossier_id))
    return render_template("onestop/slip_supplement.html", **page)


@bp.route("/d/<int:dossier_id>/notice")
@staff_only
def notice_slip(dossier_id: int):
    """Mẫu 03 (refused at reception) or Mẫu 05 (processing stopped), with the reason."""
    page = _dossier_page(dossier_id)
    if page["dossier"].status not in ("refused", "stopped"):
        return redirect(url_for("onestop.dossier", dossier_id=dossier_id))
    return render_template("onestop/slip_notice.html", **page)


@bp.route("/d/<int:dossier_id>/sheet")
@staff_only
def control_sheet(dossier_id: int):
    return render_template("onestop/control_sheet.html", **_dossier_page(dossier_id))


@bp.route("/officers/<int:user_id>/qr")
@staff_only
def officer_qr(user_id: int):
    officer = account_services.get_staff_member(g.tenant, user_id, "officer")  # NotFound for other communes
    url = url_for("onestop_lookup.rate_officer", user_id=officer.id, _external=True)
    return render_template("onestop/officer_qr.html", officer=officer, url=url, qr=qr_data_uri(url))


# --- catalogue and office hours (commune admins) ------------------------------------------------------------------

def _procedure_values(form) -> dict:
    return dict(name=form.get("name", ""), sector=form.get("sector", ""), time_unit=form.get("time_unit", "days"),
                time_amount=forms.whole_number(form.get("time_amount"), "time_amount", 0),
                same_day=forms.checked(form, "same_day"), fee=forms.whole_number(form.get("fee"), "fee", 0),
                required_documents=form.get("required_documents", ""), online=forms.checked(form, "online"),
                active=forms.checked(form, "active"))


@bp.route("/procedures", methods=["GET", "POST"])
@admin_only
def procedures():
    if request.method == "POST":
        try:
            catalogue.save_procedure(None, **_procedure_values(request.form))
        except DomainError as err:
            db.session.rollback()
            _fail(err)
            return render_template("onestop/procedures.html", procedures=queries.procedures(False),
                                   form=request.form), 400
        db.session.commit()
        flash(_("Procedure saved."), "success")
        return redirect(url_for("onestop.procedures"))
    return render_template("onestop/procedures.html", procedures=queries.procedures(False), form={})


@bp.route("/procedures/<int:procedure_id>", methods=["GET", "POST"])
@admin_only
def edit_procedure(procedure_id: int):
    procedure = queries.get_procedure(procedure_id)
    if request.method == "POST":
        try:
            catalogue.save_procedure(procedure.id, **_procedure_values(request.form))
        except DomainError as err:
            db.session.rollback()
            _fail(err)
            return render_template("onestop/procedure_edit.html", procedure=procedure, form=request.form), 400
        db.session.commit()
        flash(_("Procedure saved."), "success")
        return redirect(url_for("onestop.procedures"))
    form = {"name": procedure.name, "sector": procedure.sector, "time_unit": procedure.time_unit,
            "time_amount": procedure.time_amount, "same_day": "on" if procedure.same_day else "",
            "fee": procedure.fee, "required_documents": procedure.required_documents,
            "online": "on" if procedure.online else "", "active": "on" if procedure.active else ""}
    return render_template("onestop/procedure_edit.html", procedure=procedure, form=form)


@bp.route("/hours", methods=["GET", "POST"])
@admin_only
def hours():
    if request.method == "POST":
        try:
            if request.form.get("form") == "day_off":
                catalogue.add_day_off(forms.a_date(request.form.get("day"), "day"), request.form.get("reason", ""))
            else:
                weekdays = [int(d) for d in request.form.getlist("weekdays") if d.isdigit()]
                catalogue.save_schedule(request.form.get("morning_start", ""), request.form.get("morning_end", ""),
                                       request.form.get("afternoon_start", ""), request.form.get("afternoon_end", ""),
                                       weekdays, request.form.get("same_day_cutoff", ""))
        except DomainError as err:
            db.session.rollback()
            _fail(err)
            return redirect(url_for("onestop.hours"))
        db.session.commit()
        flash(_("Office hours saved."), "success")
        return redirect(url_for("onestop.hours"))
    return render_template("onestop/hours.html", schedule=queries.schedule(), days_off=queries.days_off())


@bp.route("/hours/days-off/<int:day_off_id>/delete", methods=["POST"])
@admin_only
def delete_day_off(day_off_id: int):
    catalogue.remove_day_off(day_off_id)
    db.session.commit()
    flash(_("Day off removed."), "success")
    return redirect(url_for("onestop.hours"))


# --- dashboard ----------------------------------------------------------------------------------------------------

def period_from_args(args) -> tuple[date, date]:
    """?from=YYYY-MM-DD&to=YYYY-MM-DD, defaulting to the last 30 days; a bad date gives ValidationError."""
    today = to_local(services.utcnow()).date()
    end = forms.a_date(args["to"], "to") if args.get("to") else today
    start = forms.a_date(args["from"], "from") if args.get("from") else end - timedelta(days=29)
    if start > end or (end - start).days > 3660:
        from app.errors import ValidationError

        raise ValidationError(_("The period must start before it ends (ten years at most)."), field="from")
    return start, end


def _asked_period() -> tuple[date, date] | None:
    """The dashboard's period from the query string; a bad one is flashed (the caller goes back to the default)."""
    try:
        return period_from_args(request.args)
    except DomainError as err:
        _fail(err)
        return None


@bp.route("/dashboard")
@staff_only
def dashboard():
    period = _asked_period()
    if period is None:
        return redirect(url_for("onestop.dashboard"))
    start, end = period
    now = services.utcnow()
    return render_template(
        "onestop/dashboard.html", start=start, end=end, metrics=queries.metrics(start, end, now),
        channels=queries.received_by_channel(start, end), per_procedure=queries.processing_by_procedure(start, end),
        overdue=queries.overdue_list(now), monthly=queries.monthly(end, now), statuses=statuses,
        counts=queries.figures(start, end, now),
    )


@bp.route("/dashboard.csv")
@staff_only
def dashboard_csv():
    period = _asked_period()
    if period is None:
        return redirect(url_for("onestop.dashboard"))
    start, end = period
    now = services.utcnow()
    figures = queries.metrics(start, end, now)
    rows = [(key, value) for key, value in figures.items() if key != "ratings"]
    rows += [(f"ratings.{level}", count) for level, count in figures["ratings"].items()]
    rows += [(f"procedure.{name}.avg_processing_hours", hours) for name, _count, hours
             in queries.processing_by_procedure(start, end)]
    return csv_response(f"mot-cua-{g.tenant.slug}-{start}-{end}.csv", ("metric", "value"), rows)


@bp.app_template_filter("local_time")
def _local_time(value):
    return to_local(as_utc(value)).strftime("%H:%M %d/%m/%Y") if value else ""


@bp.app_template_filter("onestop_month_count")
def _month_count(item):
    first, counts = item
    return (first.strftime("%m/%y"), counts["received"], str(counts["received"]))


@bp.app_template_filter("onestop_month_on_time")
def _month_on_time(item):
    first, counts = item
    rate = round(100 * counts["on_time"] / counts["received"]) if counts["received"] else 0
    return (first.strftime("%m/%y"), rate, f"{rate} %")
