"""Each commune's pages under /c/<slug>/: the public home and the staff desk, composed from the tiles the domains
register (tenants/tiles.py), and the commune's staff accounts."""

from datetime import timedelta

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user

from app.auth import services as account_services
from app.auth.access import commune_staff_required
from app.auth.staff_views import create_staff_from_form
from app.cache import cached_for_visitors
from app.auth.forms import StaffForm
from app.auth.models import STAFF_ROLES
from app.errors import back_to
from tenants import tiles

bp = Blueprint("communes", __name__, url_prefix="/c/<tenant_slug>", template_folder="templates")


@bp.route("/")
def home():
    return render_template("communes/home.html", tenant=g.tenant, page=tiles.home())


@bp.record_once
def _cache_home(state) -> None:
    """The home page is cached for visitors until a commit writes its commune or a table its sections show; the
    domains have registered their tiles by the time the blueprint is (app/__init__.py imports them first)."""
    cached_for_visitors(*tiles.home_tables())(home)


@bp.route("/desk")
@commune_staff_required(*STAFF_ROLES)
def desk():
    return render_template("communes/desk.html", tenant=g.tenant, page=tiles.desk(current_user, g.tenant))


def _merged_in() -> list:
    """The desk's notice for the staff of merged units, who land here now: the units merged into this one, since
    when (tenants/lineage.py)."""
    from app.formatting import format_date
    from tenants.lineage import merged_into

    merged = merged_into(g.tenant.id)
    if not merged:
        return []
    return [tiles.Figure(_l("Units merged into this one since %(day)s: %(units)s",
                            day=format_date(merged[0].valid_until + timedelta(days=1)),
                            units=", ".join(t.display_name for t in merged)), len(merged), testid="lineage-notice")]


# The core's own tiles: its staff, and the way back to the public page.
tiles.on_desk(tiles.DeskTile(
    "staff", order=80, counts=lambda: (account_services.staff_count_subquery(g.tenant),),
    from_counts=lambda staff: [tiles.Figure(_l("Staff accounts"), staff, testid="staff-count")]))
tiles.on_desk(tiles.DeskTile(
    "staff_accounts", order=81, roles=("commune_admin",),
    links=(tiles.Link(_l("Staff accounts"), "communes.staff", testid="staff-link"),)))
tiles.on_desk(tiles.DeskTile("lineage", order=1, read=_merged_in))
tiles.on_desk(tiles.DeskTile("public_page", order=99, links=(tiles.Link(_l("Public page"), "communes.home"),)))


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
