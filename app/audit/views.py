"""The trail's pages: a commune's admins read their commune's trail, district admins every chain; filters and a CSV.
Nothing here changes an entry: the pages only read (and the CSV download is itself recorded)."""

from __future__ import annotations

import json

from flask import Blueprint, g, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l

from app.audit import queries, registry
from app.audit.forms import DistrictTrailFilterForm, TrailFilterForm
from app.auth.access import commune_staff_required, district_admin_required
from app.exports import csv_response
from app.formatting import format_datetime
from tenants import queries as tenant_queries
from tenants.scoping import all_tenants

bp = Blueprint("audit", __name__, url_prefix="/c/<tenant_slug>/audit", template_folder="templates")
district_bp = Blueprint("audit_district", __name__, url_prefix="/district/audit", template_folder="templates")

ACTION_LABELS = {
    "insert": _l("Record created"),
    "update": _l("Record changed"),
    "delete": _l("Record deleted"),
    "sign_in": _l("Signed in"),
    "sign_out": _l("Signed out"),
    "download": _l("Downloaded a file"),
    "csv_export": _l("Downloaded a CSV"),
    "commune_export": _l("Exported the commune's data"),
    "commune_import": _l("Imported the commune's data"),
    "backup_restore": _l("Restored a backup"),
    "retention": _l("Applied the retention periods"),
    "personal_data_search": _l("Searched personal data"),
    "personal_data_erase": _l("Erased personal data"),
}
ACTOR_KIND_LABELS = {"user": _l("Staff or vendor"), "api": _l("API"), "public": _l("Citizen or visitor"),
                     "cli": _l("Command"), "system": _l("System")}
CSV_HEADER = ("No.", "Commune", "Time (Hà Nội)", "Actor kind", "Who", "Address", "Action", "Table", "Record",
              "Changes", "Digest", "Previous digest")


def _show(value) -> str:
    if value is None or value == "":
        return "—"
    if value == registry.MASK:
        return _("(hidden)")
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 160 else text[:159] + "…"


def _changes(entry) -> list[tuple[str, str, str]]:
    """(column, before, after) to show; a created row shows its values alone (its id is in the Record column)."""
    changes = entry.changes or {}
    if entry.table_name and entry.action in ("insert", "update", "delete"):
        shown = [(name, pair) for name, pair in sorted(changes.items()) if isinstance(pair, list) and len(pair) == 2]
        if entry.action == "insert":
            return [(name, "", _show(pair[1])) for name, pair in shown if name not in ("id", "tenant_id")]
        return [(name, _show(pair[0]), _show(pair[1])) for name, pair in shown]
    return [(name, "", _show(value)) for name, value in sorted(changes.items())]


def _row(entry, communes: dict[int, str]) -> dict:
    return {
        "entry": entry,
        "at": format_datetime(entry.at),
        "commune": communes.get(entry.tenant_id, "") if entry.tenant_id else _("District"),
        "kind": ACTOR_KIND_LABELS.get(entry.actor_kind, entry.actor_kind),
        "action": ACTION_LABELS.get(entry.action, entry.action),
        "record": f"{registry.label_of(entry.table_name)} #{entry.record_id}" if entry.record_id else
                  str(registry.label_of(entry.table_name)),
        "changes": _changes(entry),
    }


def _choose(form: TrailFilterForm) -> None:
    form.table.choices = [("", _("Every kind"))] + [(t.table, str(t.label)) for t in registry.tracked_tables()]
    if "users" not in {t.table for t in registry.tracked_tables()}:
        form.table.choices.append(("users", _("Accounts")))
    form.action.choices = [("", _("Every action"))] + [(k, str(v)) for k, v in ACTION_LABELS.items()]


def _filters(form, commune) -> queries.Filters:
    return queries.Filters(commune=commune, who=form.who.data or "", table=form.table.data or "",
                           action=form.action.data or "", record=form.record.data or "", since=form.since.data,
                           until=form.until.data)


def _page_number() -> int:
    return min(max(request.args.get("page", 1, type=int) or 1, 1), 1_000_000)


def _csv(filters: queries.Filters, communes: dict[int, str], filename: str):
    rows = ((e.seq, communes.get(e.tenant_id, "") if e.tenant_id else "district", format_datetime(e.at),
             e.actor_kind, e.actor_label, e.address or "", e.action, e.table_name or "", e.record_id or "",
             json.dumps(e.changes, ensure_ascii=False, sort_keys=True), e.digest, e.prev_digest)
            for e in queries.all_of(filters))
    return csv_response(filename, CSV_HEADER, rows)


@bp.route("/")
@commune_staff_required("commune_admin")
def trail():
    form = TrailFilterForm(formdata=request.args)
    _choose(form)
    valid = form.validate()
    communes = {g.tenant.id: g.tenant.slug}
    page = queries.page_of(_filters(form, g.tenant.id), _page_number()) if valid else None
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("audit/trail.html", form=form, page=page, district=False, args=args,
                           rows=[_row(e, communes) for e in page.entries] if page else [],
                           csv_url=url_for("audit.trail_csv", **args)), (200 if valid else 400)


@bp.route("/trail.csv")
@commune_staff_required("commune_admin")
def trail_csv():
    form = TrailFilterForm(formdata=request.args)
    _choose(form)
    if not form.validate():
        return render_template("audit/trail.html", form=form, page=None, district=False, rows=[], args={},
                               csv_url=None), 400
    return _csv(_filters(form, g.tenant.id), {g.tenant.id: g.tenant.slug}, f"audit-{g.tenant.slug}.csv")


def _district_form():
    communes = tenant_queries.list_all()
    form = DistrictTrailFilterForm(formdata=request.args)
    _choose(form)
    form.commune.choices = ([("", _("Every commune and the district")), (queries.DISTRICT, _("The district itself"))]
                            + [(t.slug, t.display_name) for t in communes])
    by_slug = {t.slug: t.id for t in communes}
    valid = form.validate()
    chosen = form.commune.data or ""
    commune = queries.DISTRICT if chosen == queries.DISTRICT else by_slug.get(chosen)
    return form, valid, commune, communes


@district_bp.route("/", endpoint="trail")
@district_admin_required
def district_trail():
    form, valid, commune, communes = _district_form()
    with all_tenants():  # the district reads every commune's trail
        page = queries.page_of(_filters(form, commune), _page_number()) if valid else None
    args = {k: v for k, v in request.args.items() if k != "page"}
    names = {t.id: t.display_name for t in communes}
    return render_template("audit/trail.html", form=form, page=page, district=True, args=args,
                           rows=[_row(e, names) for e in page.entries] if page else [],
                           csv_url=url_for("audit_district.trail_csv", **args)), (200 if valid else 400)


@district_bp.route("/trail.csv", endpoint="trail_csv")
@district_admin_required
def district_trail_csv():
    form, valid, commune, communes = _district_form()
    if not valid:
        return render_template("audit/trail.html", form=form, page=None, district=True, rows=[], args={},
                               csv_url=None), 400
    with all_tenants():  # csv_response reads every row before it returns
        return _csv(_filters(form, commune), {t.id: t.slug for t in communes}, "audit-district.csv")
