"""The one-stop office (Bộ phận Một cửa): procedures, dossiers from reception to result against working-time
deadlines, fees by VietQR, ratings, and the Decision 766 figures. Domain facts: /work/shared/docs/onestop.md.

Its reaction to payments (a paid fee moves the dossier on) is connected by importing ``payments`` below.
"""

from flask import Blueprint

bp = Blueprint("onestop", __name__, url_prefix="/c/<tenant_slug>/onestop", template_folder="templates")

from tenants.onestop import payments  # noqa: E402,F401  (connects the fee handler to payment_event)
from tenants.onestop import views_staff  # noqa: E402,F401
from tenants.onestop.views_public import lookup_bp, public_bp  # noqa: E402,F401


def _register_district_figures() -> None:
    """The district dashboard's per-commune counts come from ``queries.district_figures`` (app/district/figures.py)."""
    from app.district import figures
    from tenants.onestop import queries

    figures.register("onestop", queries.district_figures, figures.ONESTOP_KEYS, monthly=queries.district_monthly)


_register_district_figures()


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
    retention.rule("onestop.applicant_contacts", _l("Applicants' phone and e-mail on closed dossiers"),
                   "onestop_dossiers", days=365,
                   clock=lambda t: func.coalesce(t.c.returned_at, t.c.finished_at, t.c.submitted_at),
                   where=lambda t: t.c.status.in_(CLOSED), anonymise={"applicant_phone": "", "applicant_email": ""},
                   basis=_l("They serve to reach the applicant while the dossier is handled and for a complaint "
                            "after it; the dossier itself is an administrative record kept by the archives' rules."))


_declare_records()
