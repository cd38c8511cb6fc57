"""The office's pages (commune staff): the work queue, intake for a citizen, a dossier and its actions, documents,
the printable slips, the settings (procedures and office hours: commune admins), and the dashboard."""

from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import audit, bounds, storage
from app.auth import services as account_services
from app.auth.access import commune_staff_required
from app.auth.models import STAFF_ROLES
from app.errors import DomainError, ValidationError, back_to
from app.exports import csv_response
from app.formatting import to_local
from app.clock import as_utc
from app.uploads import upload_limit
from tenants.onestop import bp, forms, payments, queries, services, settings, statuses
from tenants.onestop.models import Dossier
from tenants.onestop.views_public import counter_qr_url, public_dossier_url, qr_data_uri

staff_only = commune_staff_required(*STAFF_ROLES)
admin_only = commune_staff_required("commune_admin")


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
    form = forms.IntakeForm()
    form.offer(queries.procedures())
    if not form.validate_on_submit():
        return render_template("onestop/intake.html", form=form), (400 if form.is_submitted() else 200)
    try:
        dossier = services.intake(
            form.procedure_id.data, services.clean_applicant(**form.applicant()), channel=form.channel.data or "counter",
            officer=current_user, note=form.request_note.data or "", sets=form.sets.data,
            refuse_reason=(form.reason.data or "") if form.refusing else None,
        )
        for upload in (form.files.data or ()) if not form.refusing else ():
            if upload and upload.filename:
                services.add_document(dossier, upload.filename, upload.read(services.MAX_DOCUMENT_BYTES + 1),
                                      current_user)
    except DomainError as err:  # at its field, the form again (400: the boundary rolls back)
        form.show_error(err)
        return render_template("onestop/intake.html", form=form), 400
    if form.refusing:  # straight to the slip the citizen takes home, as the refusal of an online dossier does
        flash(_("Dossier %(code)s refused at reception: print the refusal slip (Mẫu 03) for the citizen.",
                code=dossier.code), "success")
        return redirect(url_for("onestop.notice_slip", dossier_id=dossier.id))
    flash(_("Dossier %(code)s received.", code=dossier.code), "success")
    return redirect(url_for("onestop.dossier", dossier_id=dossier.id))


def _dossier_page(dossier_id: int):
    dossier = queries.get_dossier(dossier_id)
    return {
        "dossier": dossier, "status": statuses.get(dossier.status), "events": queries.events(dossier.id),
        "documents": queries.documents(dossier.id), "rating": queries.rating_of(dossier.id),
        "intent": payments.fee_intent(dossier), "now": services.utcnow(), "mark": queries.mark,
        "allowed": {action: services.allowed(dossier, action) for action in services.ACTIONS},
        "statuses": statuses, "action_labels": services.ACTION_LABELS,
        "reason_form": forms.ReasonForm(), "apology_form": forms.ApologyForm(), "result_form": forms.ResultForm(),
        "document_form": forms.DocumentForm(),
    }


@bp.route("/d/<int:dossier_id>")
@staff_only
def dossier(dossier_id: int):
    return render_template("onestop/dossier.html", **_dossier_page(dossier_id))


@bp.route("/d/<int:dossier_id>/act/<action>", methods=["POST"])
@staff_only
@back_to("onestop.dossier")
def act(dossier_id: int, action: str):
    dossier = services.lock_dossier(dossier_id)
    form = forms.ReasonForm().check()
    services.act(dossier, action, current_user, reason=form.reason.data or "")
    flash(_("Done: %(action)s.", action=services.ACTION_LABELS.get(action, action)), "success")
    if action == "request_documents":
        return redirect(url_for("onestop.supplement_slip", dossier_id=dossier_id))
    if action in ("refuse", "stop"):
        return redirect(url_for("onestop.notice_slip", dossier_id=dossier_id))
    return redirect(url_for("onestop.dossier", dossier_id=dossier_id))


@bp.route("/d/<int:dossier_id>/apology", methods=["GET", "POST"])
@staff_only
@back_to("onestop.dossier")
def apology(dossier_id: int):
    if request.method == "POST":
        dossier = services.lock_dossier(dossier_id)
        form = forms.ApologyForm().check()
        services.apologise(dossier, current_user, form.reason.data or "", form.new_due())
        flash(_("The apology and the new appointment are recorded."), "success")
    page = _dossier_page(dossier_id)
    if page["dossier"].apology_at is None:
        return redirect(url_for("onestop.dossier", dossier_id=dossier_id))
    return render_template("onestop/slip_apology.html", **page)


@bp.route("/d/<int:dossier_id>/result", methods=["POST"])
@staff_only
@upload_limit(services.MAX_DOCUMENT_BYTES)
@back_to("onestop.dossier")
def record_result(dossier_id: int):
    dossier = services.lock_dossier(dossier_id)
    form = forms.ResultForm().check()
    upload = form.file.data
    if not upload or not upload.filename:
        raise ValidationError(_("Attach the result file (PDF, PNG or JPEG)."), field="file")
    services.record_result(dossier, current_user, upload.filename,
                           upload.read(services.MAX_DOCUMENT_BYTES + 1), form.note.data or "")
    flash(_("Result recorded."), "success")
    return redirect(url_for("onestop.dossier", dossier_id=dossier_id))


@bp.route("/d/<int:dossier_id>/documents", methods=["POST"])
@staff_only
@upload_limit(services.MAX_DOCUMENT_BYTES)
@back_to("onestop.dossier")
def upload_document(dossier_id: int):
    dossier = queries.get_dossier(dossier_id)
    upload = forms.DocumentForm().check().file.data
    if not upload or not upload.filename:
        raise ValidationError(_("Choose a file."), field="file")
    services.add_document(dossier, upload.filename, upload.read(services.MAX_DOCUMENT_BYTES + 1), current_user)
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
    url = counter_qr_url(officer)
    return render_template("onestop/officer_qr.html", officer=officer, url=url, qr=qr_data_uri(url))


# --- procedures and office hours (commune admins) -----------------------------------------------------------------

@bp.route("/settings/procedures", methods=["GET", "POST"])
@admin_only
def procedures():
    form = forms.ProcedureForm()
    if form.validate_on_submit():
        try:
            settings.save_procedure(None, **form.values())
        except DomainError as err:  # at its field, the form again (400: the boundary rolls back)
            form.show_error(err)
        else:
            flash(_("Procedure saved."), "success")
            return redirect(url_for("onestop.procedures"))
    return render_template("onestop/procedures.html", procedures=queries.procedures(False), form=form), (
        400 if form.is_submitted() else 200)


@bp.route("/settings/procedures/<int:procedure_id>", methods=["GET", "POST"])
@admin_only
def edit_procedure(procedure_id: int):
    procedure = queries.get_procedure(procedure_id)
    form = forms.ProcedureForm(obj=procedure)
    if form.validate_on_submit():
        try:
            settings.save_procedure(procedure.id, **form.values())
        except DomainError as err:  # at its field, the form again (400: the boundary rolls back)
            form.show_error(err)
        else:
            flash(_("Procedure saved."), "success")
            return redirect(url_for("onestop.procedures"))
    return render_template("onestop/procedure_edit.html", procedure=procedure, form=form), (
        400 if form.is_submitted() else 200)


def _hours_page(schedule_form=None, day_off_form=None, status: int = 200):
    if schedule_form is None:
        schedule = queries.schedule()
        (morning_start, morning_end), (afternoon_start, afternoon_end) = schedule.periods
        schedule_form = forms.ScheduleForm(
            formdata=None, morning_start=f"{morning_start:%H:%M}", morning_end=f"{morning_end:%H:%M}",
            afternoon_start=f"{afternoon_start:%H:%M}", afternoon_end=f"{afternoon_end:%H:%M}",
            same_day_cutoff=f"{schedule.same_day_cutoff:%H:%M}", weekdays=sorted(schedule.weekdays))
    return render_template("onestop/hours.html", schedule_form=schedule_form,
                           day_off_form=day_off_form or forms.DayOffForm(formdata=None),
                           days_off=queries.days_off()), status


@bp.route("/settings/hours", methods=["GET", "POST"])
@admin_only
def hours():
    if request.method == "GET":
        return _hours_page()
    day_off = request.form.get("form") == "day_off"
    form = forms.DayOffForm() if day_off else forms.ScheduleForm()
    if form.validate_on_submit():
        try:
            if day_off:
                settings.add_day_off(form.day.data, form.reason.data or "")
            else:
                settings.save_schedule(*form.values())
        except DomainError as err:  # at its field, the page again (400: the boundary rolls back)
            form.show_error(err)
        else:
            flash(_("Office hours saved."), "success")
            return redirect(url_for("onestop.hours"))
    return _hours_page(day_off_form=form, status=400) if day_off else _hours_page(schedule_form=form, status=400)


@bp.route("/settings/hours/days-off/<int:day_off_id>/delete", methods=["POST"])
@admin_only
def delete_day_off(day_off_id: int):
    settings.remove_day_off(day_off_id)
    flash(_("Day off removed."), "success")
    return redirect(url_for("onestop.hours"))


# --- dashboard ----------------------------------------------------------------------------------------------------

def period_from_args(args) -> tuple[date, date]:
    """?from=YYYY-MM-DD&to=YYYY-MM-DD, defaulting to the last 30 days; a bad date gives ValidationError."""
    return bounds.period(args, today=to_local(services.utcnow()).date(), max_days=3661)  # ten years at most


@bp.route("/dashboard")
@staff_only
@back_to("onestop.dashboard")  # a bad period: flashed, and the default period shown
def dashboard():
    from tenants.lineage import own_figures

    start, end = period_from_args(request.args)
    now = services.utcnow()
    own = own_figures(g.tenant, start, end)  # the figures as the public page counts them, and whose history they hold
    return render_template(
        "onestop/dashboard.html", start=start, end=end, figures=queries.figures(start, end, now, own.where(Dossier)),
        channels=queries.received_by_channel(start, end), per_procedure=queries.processing_by_procedure(start, end),
        overdue=queries.overdue_list(now), monthly=queries.monthly(end, now, where=own.where(Dossier)),
        statuses=statuses, includes=own.includes,
    )


@bp.route("/dashboard.csv")
@staff_only
@back_to("onestop.dashboard")
def dashboard_csv():
    start, end = period_from_args(request.args)
    now = services.utcnow()
    figures = queries.figures(start, end, now)
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
