"""The one-stop office (Bộ phận Một cửa): procedures, dossiers from reception to result against working-time
deadlines, fees by VietQR, ratings, and the Decision 766 figures. Domain facts: /work/shared/docs/onestop.md.

Its reaction to payments (a paid fee moves the dossier on) is connected by importing ``payments`` below.
"""

from flask import Blueprint

bp = Blueprint("onestop", __name__, url_prefix="/c/<tenant_slug>/onestop", template_folder="templates")

from tenants.onestop import payments  # noqa: E402,F401  (connects the fee handler to payment_event)
from tenants.onestop import views_staff  # noqa: E402,F401
from tenants.onestop.views_public import lookup_bp, public_bp  # noqa: E402,F401


def _register() -> None:
    """The office on the district's dashboard (app/district/figures.py) and on the commune's desk and home page
    (tenants/tiles.py)."""
    from flask_babel import lazy_gettext as _l

    from app.district import figures
    from tenants import tiles
    from tenants.onestop import queries

    from functools import partial  # the registry asks for the records' origins (app/district/figures.py)

    figures.register("onestop", partial(queries.district_figures, by_origin=True), figures.ONESTOP_KEYS,
                     monthly=partial(queries.district_monthly, by_origin=True))
    tiles.on_desk(tiles.DeskTile("onestop", order=10, links=(
        tiles.Link(_l("One-stop office"), "onestop.queue", primary=True, testid="onestop-link"),)))
    tiles.on_home(tiles.HomeTile("onestop", order=10, links=(
        tiles.Link(_l("Procedures"), "onestop_public.procedures", primary=True),
        tiles.Link(_l("Submit a dossier online"), "onestop_public.submit"),
        tiles.Link(_l("Follow a dossier"), "onestop_lookup.lookup"),
        tiles.Link(_l("Service figures"), "onestop_public.figures"),
    )))


_register()


def _register_scale_loader() -> None:
    """``flask seed-scale`` runs this package's scale.py, in ``order`` among the domains' loaders (app/scale.py)."""
    from app import scale

    def load(run) -> None:
        from tenants.onestop import scale as onestop_scale

        onestop_scale.load(run)

    scale.register("onestop", load, order=40)


_register_scale_loader()


def _declare_records() -> None:
    """The audit trail records the catalogue and its fees, office hours, dossiers and their documents (app/audit);
    the applicant's personal data is recorded as changed, never with its value (docs/operations.md). A dossier's
    files are stored under onestop/<commune>/dossier-<dossier>/ (app/backup)."""
    from flask_babel import lazy_gettext as _l
    from sqlalchemy import func

    from app import audit, backup, retention
    from tenants.onestop.statuses import REFUSED, RETURNED, STOPPED, WITHDRAWN

    CLOSED = tuple(s.value for s in (REFUSED, WITHDRAWN, STOPPED, RETURNED))

    backup.file_keys("onestop/{tenants}/dossier-{onestop_dossiers}/")

    audit.track("onestop_procedures", _l("Procedure"))
    audit.track("onestop_office_schedules", _l("Office hours"))
    audit.track("onestop_days_off", _l("Day off"))
    audit.track("onestop_dossiers", _l("Dossier"), ignore=("applicant_name_folded",),
                personal=("applicant_name", "applicant_id_number", "applicant_phone", "applicant_address",
                          "applicant_email", "request_note"))
    audit.track("onestop_documents", _l("Dossier document"), personal=("filename",))
    audit.track("onestop_fee_receipts", _l("Fee receipt"), ignore=("verify_token",),
                personal=("payer_name", "payer_address", "payer_id_number"))
    retention.rule("onestop.applicant_contacts", _l("Applicants' phone and e-mail on closed dossiers"),
                   "onestop_dossiers", days=365,
                   clock=lambda t: func.coalesce(t.c.returned_at, t.c.finished_at, t.c.submitted_at),
                   where=lambda t: t.c.status.in_(CLOSED), anonymise={"applicant_phone": "", "applicant_email": ""},
                   basis=_l("They serve to reach the applicant while the dossier is handled and for a complaint "
                            "after it; the dossier itself is an administrative record kept by the archives' rules."))


_declare_records()


def _declare_lineage() -> None:
    """When communes merge (tenants/lineage.py): dossier numbers go on from the larger day counter, so a successor
    that reuses a predecessor's statistics code never issues a code twice; each commune keeps its own days off."""
    from tenants import lineage

    lineage.merges("onestop_dossier_counters", key=("day",), combine={"last": "max"})
    lineage.stays("onestop_days_off", "a commune's own calendar; the successor's applies from the effective date")
    # A split: open dossiers go where the plan says, closed ones stay with the default successor's history; a
    # procedure the moved dossiers were filed under is copied to their successor.
    from tenants.onestop.statuses import ALL

    lineage.open_records("onestop_dossiers", "status", tuple(s.value for s in ALL if s.final))
    lineage.copied_on_split("onestop_procedures", "the dossiers moved to another successor keep their procedure")


_declare_lineage()
