"""Each commune's pages under /c/<slug>/: the public home, the staff desk and the commune's staff accounts."""

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth import services as account_services
from app.auth.access import commune_staff_required
from app.auth.staff_views import create_staff_from_form
from app.cache import cached_for_visitors
from app.auth.forms import StaffForm
from app.auth.models import STAFF_ROLES
from app.errors import back_to
from app.payments import stats
from app.payments.bank import reconciliation
from tenants.notices import services as notice_services
from tenants.notices.models import Notice

bp = Blueprint("communes", __name__, url_prefix="/c/<tenant_slug>", template_folder="templates")

@bp.route("/")
@cached_for_visitors(Notice)  # its name and its published notices
def home():
    return render_template(
        "communes/home.html", tenant=g.tenant, notices=notice_services.published(limit=10)
    )


@bp.route("/desk")
@commune_staff_required(*STAFF_ROLES)
def desk():
    week = stats.received_per_day(days=7)
    return render_template(
        "communes/desk.html",
        tenant=g.tenant,
        staff=account_services.staff_of(g.tenant),
        notices=notice_services.recent(limit=5),
        received_today=week[-1][1],
        week=stats.chart_rows(week),
        inbox_count=reconciliation.inbox_count(g.tenant.id),
    )


@bp.route("/staff", methods=["GET", "POST"])
@commune_staff_required("commune_admin")
def staff():
    """The commune's staff. District admins see it (oversight) but do not create officers: each commune's own
    admin does (docs/decisions.md)."""
    may_create = current_user.has_role(g.tenant.id, "commune_admin")
    if request.method == "POST" and not may_create:
        abort(403)
    form = StaffForm()
    outcome = create_staff_from_form(
        form, g.tenant, "officer", lambda user: _("Officer account %(email)s created.", email=user.email),
        "communes.staff",
    )
    if not isinstance(outcome, int):
        return outcome
    return (
        render_template(
            "communes/staff.html",
            tenant=g.tenant,
            form=form if may_create else None,
            staff=account_services.staff_of(g.tenant),
        ),
        outcome,
    )


@bp.route("/staff/<int:user_id>/<any(activate, deactivate):action>", methods=["POST"])
@commune_staff_required("commune_admin")
@back_to("communes.staff")
def set_officer_active(user_id: int, action: str):
    officer = account_services.get_staff_member(g.tenant, user_id, "officer")  # NotFound for other communes
    account_services.set_active(current_user, officer, action == "activate")
    if action == "activate":
        flash(_("Account %(email)s activated.", email=officer.email), "success")
    else:
        flash(_("Account %(email)s deactivated.", email=officer.email), "success")
    return redirect(url_for("communes.staff"))
