"""The register's pages for the commune's staff (commune admins and officers; district admins oversee):
relics with their pictures, 360° photo, audio guides and festivals, artefacts, steles and documents, and the QR
boards with their printable files. Another commune's record is a 404 (services find nothing: tenants/scoping.py)."""

from __future__ import annotations

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app import storage, transactions
from app.auth.access import commune_staff_required
from app.auth.models import STAFF_ROLES
from app.errors import DomainError, back_to
from app.images import MAX_BYTES as PICTURE_MAX_BYTES
from app.uploads import upload_limit
from tenants.heritage import audio, boards as board_files, bp, pictures, queries, services
from tenants.heritage.forms import (
    ArtefactForm,
    AudioForm,
    BoardForm,
    FestivalForm,
    PanoramaForm,
    PictureForm,
    RelicForm,
    SteleForm,
)
from tenants.heritage.kinds import DOCUMENT_KINDS, LANGUAGES, RANKINGS, RELIC_KINDS

staff_only = commune_staff_required(*STAFF_ROLES)


def _delete_after_commit(keys) -> None:
    """Files of records removed: deleted once the removal is committed (never if it rolls back)."""
    keys = [key for key in keys if key]
    if keys:
        transactions.after_commit(lambda: [storage.delete(key) for key in keys])


def _form_error(form, err: DomainError) -> None:
    """A rule's refusal shown at its field (or flashed when it names none)."""
    field = getattr(form, err.field, None) if err.field else None
    if field is not None:
        field.errors = [*field.errors, str(err.message)]
    else:
        flash(str(err.message), "error")


def _upload(name: str, limit: int) -> bytes:
    upload = request.files.get(name)
    return upload.read(limit + 1) if upload else b""


def _add_picture(record, message: str, page: str, **values):
    """Add an uploaded picture to ``record`` (the pipeline refuses what is not one) and go back to its page."""
    pictures.add_picture(record, _upload("image", PICTURE_MAX_BYTES))
    flash(message, "success")
    return redirect(url_for(page, **values))


def _remove_picture(record, name: str, message: str, page: str, **values):
    """Take picture ``name`` off ``record``; its files go once that is committed."""
    if pictures.remove_picture(record, name):
        _delete_after_commit(pictures.picture_keys(record, name))
        flash(message, "success")
    return redirect(url_for(page, **values))


# --- the register ------------------------------------------------------------------------------------------------

@bp.route("/staff/")
@staff_only
def register():
    search = request.args.get("q", "")[:100]
    return render_template("heritage/staff/register.html", rows=queries.register(search), search=search,
                           figures=queries.figures(), kinds=RELIC_KINDS, rankings=RANKINGS)


@bp.route("/staff/relics/new", methods=["GET", "POST"])
@staff_only
def new_relic():
    form = RelicForm()
    if form.validate_on_submit():
        try:
            relic = services.create_relic(form.data)
        except DomainError as err:
            _form_error(form, err)
        else:
            flash(_("Relic %(name)s added to the register.", name=relic.name), "success")
            return redirect(url_for("heritage.relic", relic_id=relic.id))
    return render_template("heritage/staff/relic_form.html", form=form, relic=None), 400 if form.is_submitted() else 200


@bp.route("/staff/relics/<int:relic_id>", methods=["GET", "POST"])
@staff_only
def relic(relic_id: int):
    record = services.get_relic(relic_id)
    form = RelicForm(obj=record)
    if form.validate_on_submit():
        try:
            services.update_relic(record.id, form.data)
        except DomainError as err:
            _form_error(form, err)
        else:
            flash(_("Relic saved."), "success")
            return redirect(url_for("heritage.relic", relic_id=record.id))
    page = queries.relic_page(record, with_boards=True)
    return render_template(
        "heritage/staff/relic.html", form=form, page=page, relic=record, festival_form=FestivalForm(),
        picture_form=PictureForm(), panorama_form=PanoramaForm(), audio_form=AudioForm(),
        board_form=BoardForm(), languages=LANGUAGES, document_kinds=DOCUMENT_KINDS,
        sizes=board_files.PAPERS, kinds=board_files.KINDS,
    ), 400 if form.is_submitted() else 200


@bp.route("/staff/relics/<int:relic_id>/delete", methods=["POST"])
@staff_only
@back_to("heritage.relic")
def delete_relic(relic_id: int):
    _delete_after_commit(services.delete_relic(relic_id))
    flash(_("Relic deleted from the register."), "success")
    return redirect(url_for("heritage.register"))


@bp.route("/staff/relics/<int:relic_id>/photos", methods=["POST"])
@staff_only
@upload_limit(PICTURE_MAX_BYTES)
@back_to("heritage.relic")
def add_relic_photo(relic_id: int):
    return _add_picture(services.get_relic(relic_id), _("Photo added."), "heritage.relic", relic_id=relic_id)


@bp.route("/staff/relics/<int:relic_id>/photos/<name>/delete", methods=["POST"])
@staff_only
def delete_relic_photo(relic_id: int, name: str):
    return _remove_picture(services.get_relic(relic_id), name, _("Photo removed."), "heritage.relic",
                           relic_id=relic_id)


@bp.route("/staff/relics/<int:relic_id>/panorama", methods=["POST"])
@staff_only
@upload_limit(pictures.PANORAMA_MAX_BYTES)
@back_to("heritage.relic")
def set_panorama(relic_id: int):
    record = services.get_relic(relic_id)
    replaced = pictures.set_panorama(record, _upload("image", pictures.PANORAMA_MAX_BYTES))
    if replaced:
        _delete_after_commit(pictures.picture_keys(record, replaced))
    flash(_("360° photo saved."), "success")
    return redirect(url_for("heritage.relic", relic_id=relic_id))


@bp.route("/staff/relics/<int:relic_id>/panorama/delete", methods=["POST"])
@staff_only
def delete_panorama(relic_id: int):
    record = services.get_relic(relic_id)
    removed = pictures.remove_panorama(record)
    if removed:
        _delete_after_commit(pictures.picture_keys(record, removed))
        flash(_("360° photo removed."), "success")
    return redirect(url_for("heritage.relic", relic_id=relic_id))


@bp.route("/staff/relics/<int:relic_id>/audio", methods=["POST"])
@staff_only
@upload_limit(audio.MAX_BYTES)
@back_to("heritage.relic")
def set_audio(relic_id: int):
    language = request.form.get("language")
    _delete_after_commit([services.set_audio(relic_id, language, _upload("audio", audio.MAX_BYTES))])
    flash(_("Recording saved: the page plays it instead of the browser's voice."), "success")
    return redirect(url_for("heritage.relic", relic_id=relic_id))


@bp.route("/staff/relics/<int:relic_id>/audio/delete", methods=["POST"])
@staff_only
@back_to("heritage.relic")
def delete_audio(relic_id: int):
    removed = services.remove_audio(relic_id, request.form.get("language"))
    if removed:
        _delete_after_commit([removed])
        flash(_("Recording removed: the page reads its text aloud instead."), "success")
    return redirect(url_for("heritage.relic", relic_id=relic_id))


# --- festivals ---------------------------------------------------------------------------------------------------

@bp.route("/staff/relics/<int:relic_id>/festivals", methods=["POST"])
@staff_only
@back_to("heritage.relic")
def add_festival(relic_id: int):
    services.get_relic(relic_id)  # another commune's relic is a 404, whatever the form holds
    form = FestivalForm()
    if not form.validate_on_submit():
        errors = [f"{form[name].label.text}: {messages[0]}" for name, messages in form.errors.items()]
        flash(" ".join(errors) or _("Check the festival's fields."), "error")
        return redirect(url_for("heritage.relic", relic_id=relic_id))
    services.add_festival(relic_id, form.name.data, form.name_en.data, form.lunar_month.data, form.lunar_day.data,
                          form.days.data or 1, form.description.data)
    flash(_("Festival added."), "success")
    return redirect(url_for("heritage.relic", relic_id=relic_id))


@bp.route("/staff/festivals/<int:festival_id>/delete", methods=["POST"])
@staff_only
def delete_festival(festival_id: int):
    relic_id = services.delete_festival(festival_id)
    flash(_("Festival removed."), "success")
    return redirect(url_for("heritage.relic", relic_id=relic_id))


# --- artefacts and steles ----------------------------------------------------------------------------------------

def _record_form(form, record, parent_id: int, create, update, template: str, saved: str):
    if form.validate_on_submit():
        try:
            saved_record = update(record.id, form.data) if record is not None else create(parent_id, form.data)
        except DomainError as err:
            _form_error(form, err)
        else:
            flash(saved, "success")
            return redirect(url_for(f"heritage.{template}", **{f"{template}_id": saved_record.id}))
    relic = services.get_relic(parent_id)
    return render_template(f"heritage/staff/{template}.html", form=form, record=record, relic=relic,
                           picture_form=PictureForm()), 400 if form.is_submitted() else 200


@bp.route("/staff/relics/<int:relic_id>/artefacts/new", methods=["GET", "POST"])
@staff_only
def new_artefact(relic_id: int):
    services.get_relic(relic_id)
    return _record_form(ArtefactForm(), None, relic_id, services.create_artefact, services.update_artefact,
                        "artefact", _("Artefact saved."))


@bp.route("/staff/artefacts/<int:artefact_id>", methods=["GET", "POST"])
@staff_only
def artefact(artefact_id: int):
    record = services.get_artefact(artefact_id)
    return _record_form(ArtefactForm(obj=record), record, record.relic_id, services.create_artefact,
                        services.update_artefact, "artefact", _("Artefact saved."))


@bp.route("/staff/artefacts/<int:artefact_id>/delete", methods=["POST"])
@staff_only
def delete_artefact(artefact_id: int):
    relic_id, keys = services.delete_artefact(artefact_id)
    _delete_after_commit(keys)
    flash(_("Artefact removed from the register."), "success")
    return redirect(url_for("heritage.relic", relic_id=relic_id))


@bp.route("/staff/relics/<int:relic_id>/steles/new", methods=["GET", "POST"])
@staff_only
def new_stele(relic_id: int):
    services.get_relic(relic_id)
    return _record_form(SteleForm(), None, relic_id, services.create_stele, services.update_stele, "stele",
                        _("Stele or document saved."))


@bp.route("/staff/steles/<int:stele_id>", methods=["GET", "POST"])
@staff_only
def stele(stele_id: int):
    record = services.get_stele(stele_id)
    return _record_form(SteleForm(obj=record), record, record.relic_id, services.create_stele,
                        services.update_stele, "stele", _("Stele or document saved."))


@bp.route("/staff/steles/<int:stele_id>/delete", methods=["POST"])
@staff_only
def delete_stele(stele_id: int):
    relic_id, keys = services.delete_stele(stele_id)
    _delete_after_commit(keys)
    flash(_("Stele or document removed from the register."), "success")
    return redirect(url_for("heritage.relic", relic_id=relic_id))


@bp.route("/staff/artefacts/<int:artefact_id>/photos", methods=["POST"])
@staff_only
@upload_limit(PICTURE_MAX_BYTES)
@back_to("heritage.artefact")
def add_artefact_photo(artefact_id: int):
    return _add_picture(services.get_artefact(artefact_id), _("Photo added."), "heritage.artefact",
                        artefact_id=artefact_id)


@bp.route("/staff/artefacts/<int:artefact_id>/photos/<name>/delete", methods=["POST"])
@staff_only
def delete_artefact_photo(artefact_id: int, name: str):
    return _remove_picture(services.get_artefact(artefact_id), name, _("Photo removed."), "heritage.artefact",
                           artefact_id=artefact_id)


@bp.route("/staff/steles/<int:stele_id>/rubbings", methods=["POST"])
@staff_only
@upload_limit(PICTURE_MAX_BYTES)
@back_to("heritage.stele")
def add_rubbing(stele_id: int):
    return _add_picture(services.get_stele(stele_id), _("Rubbing added."), "heritage.stele", stele_id=stele_id)


@bp.route("/staff/steles/<int:stele_id>/rubbings/<name>/delete", methods=["POST"])
@staff_only
def delete_rubbing(stele_id: int, name: str):
    return _remove_picture(services.get_stele(stele_id), name, _("Rubbing removed."), "heritage.stele",
                           stele_id=stele_id)


# --- boards ------------------------------------------------------------------------------------------------------

@bp.route("/staff/boards")
@staff_only
def boards():
    return render_template("heritage/staff/boards.html", rows=queries.boards(), sizes=board_files.PAPERS,
                           kinds=board_files.KINDS)


@bp.route("/staff/relics/<int:relic_id>/boards", methods=["POST"])
@staff_only
@back_to("heritage.relic")
def add_board(relic_id: int):
    services.get_relic(relic_id)  # another commune's relic is a 404, whatever the form holds
    form = BoardForm()
    if not form.validate_on_submit():
        errors = [f"{form[name].label.text}: {messages[0]}" for name, messages in form.errors.items()]
        flash(" ".join(errors) or _("Check the board's fields."), "error")
        return redirect(url_for("heritage.relic", relic_id=relic_id))
    board = services.create_board(relic_id, form.number.data, form.narration.data, form.installed_on.data)
    flash(_("Board no. %(number)s added: print it below.", number=board.number), "success")
    return redirect(url_for("heritage.relic", relic_id=relic_id) + "#boards")


@bp.route("/staff/boards/<int:board_id>/<any(activate, deactivate):action>", methods=["POST"])
@staff_only
def set_board_active(board_id: int, action: str):
    board = services.set_board_active(board_id, action == "activate")
    if board.active:
        flash(_("Board no. %(number)s is up again.", number=board.number), "success")
    else:
        flash(_("Board no. %(number)s taken down; its scans stay in the figures.", number=board.number), "success")
    return redirect(url_for("heritage.relic", relic_id=board.relic_id) + "#boards")


@bp.route("/staff/boards/<int:board_id>/<size>.<kind>")
@staff_only
def board_file(board_id: int, size: str, kind: str):
    if size not in board_files.PAPERS or kind not in board_files.KINDS:
        abort(404)
    board = services.get_board(board_id)
    body = board_files.render(board, services.get_relic(board.relic_id), g.tenant, size, kind)
    return Response(body, mimetype=board_files.MIMETYPES[kind], headers={
        "Content-Disposition": f'attachment; filename="bang-qr-{board.number:03d}-{size}.{kind}"',
        "Cache-Control": "private, no-store"})
