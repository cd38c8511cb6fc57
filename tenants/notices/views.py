"""The notices' pages: the staff list and editor, and a notice's own page (drafts for the commune's staff only)."""

from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.access import commune_staff_required, is_commune_staff
from app.auth.models import STAFF_ROLES
from app.errors import DomainError
from tenants.notices import bp, services
from tenants.notices.forms import NoticeForm


@bp.route("/")
@commune_staff_required(*STAFF_ROLES)
def index():
    return render_template("notices/index.html", tenant=g.tenant, notices=services.recent())


@bp.route("/<int:notice_id>")
def show(notice_id: int):
    notice = services.get(notice_id)
    if not notice.published and not is_commune_staff(current_user, g.tenant.id):
        return render_template("errors/404.html"), 404
    return render_template("notices/show.html", tenant=g.tenant, notice=notice)


def _save(form: NoticeForm, notice_id: int | None):
    """The form's notice saved and its page; a refusal is shown on the form (400)."""
    try:
        if notice_id is None:
            notice = services.create(current_user, form.title.data, form.body.data, form.published.data)
        else:
            notice = services.update(notice_id, form.title.data, form.body.data, form.published.data)
    except DomainError as err:
        form.show_error(err)
        return None
    flash(_("Notice saved."), "success")
    return redirect(url_for("notices.show", notice_id=notice.id))


@bp.route("/new", methods=["GET", "POST"])
@commune_staff_required(*STAFF_ROLES)
def create():
    form = NoticeForm()
    if form.validate_on_submit() and (response := _save(form, None)):
        return response
    return render_template("notices/form.html", tenant=g.tenant, form=form), (400 if form.is_submitted() else 200)


@bp.route("/<int:notice_id>/edit", methods=["GET", "POST"])
@commune_staff_required(*STAFF_ROLES)
def edit(notice_id: int):
    notice = services.get(notice_id)  # NotFound (404) for another commune's notice
    form = NoticeForm(obj=notice)
    if form.validate_on_submit() and (response := _save(form, notice.id)):
        return response
    status = 400 if form.is_submitted() else 200
    return render_template("notices/form.html", tenant=g.tenant, form=form, notice=notice), status


@bp.route("/<int:notice_id>/delete", methods=["POST"])
@commune_staff_required(*STAFF_ROLES)
def delete(notice_id: int):
    services.delete(notice_id)
    flash(_("Notice deleted."), "success")
    return redirect(url_for("notices.index"))
