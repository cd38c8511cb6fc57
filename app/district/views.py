from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth import services as account_services
from app.auth.access import district_admin_required
from app.auth.staff_views import create_staff_from_form
from app.auth.forms import CommuneAdminForm
from app.auth.models import User
from app.district import bp
from app.errors import DomainError, NotFound
from app.extensions import db
from app.payments import stats
from tenants import queries as tenant_queries
from tenants.models import Tenant


@bp.route("/")
@district_admin_required
def index():
    communes = tenant_queries.list_all()
    admin_count = account_services.commune_admin_counts()
    received = stats.chart_rows((t.display_name, amount) for t, amount, _count in stats.received_per_commune())
    return render_template("district/index.html", communes=communes, admin_count=admin_count, received=received)


@bp.route("/admins", methods=["GET", "POST"])
@district_admin_required
def admins():
    form = CommuneAdminForm()
    form.tenant.choices = [(t.id, t.display_name) for t in tenant_queries.list_active()]
    tenant = db.session.get(Tenant, form.tenant.data) if form.tenant.data else None
    outcome = create_staff_from_form(
        form, tenant, "commune_admin", lambda user: _("Commune admin %(email)s created.", email=user.email),
        "district.admins",
    )
    if not isinstance(outcome, int):
        return outcome
    return (
        render_template(
            "district/admins.html", form=form, admins=account_services.commune_admins()
        ),
        outcome,
    )


@bp.route("/admins/<int:user_id>/<any(activate, deactivate):action>", methods=["POST"])
@district_admin_required
def set_admin_active(user_id: int, action: str):
    user = db.session.get(User, user_id)
    if user is None or not any(m.role == "commune_admin" for m in user.memberships):
        raise NotFound(_("No such commune admin."))
    try:
        account_services.set_active(current_user, user, action == "activate")
    except DomainError as err:
        flash(str(err.message), "error")
    else:
        flash(_("Account %(email)s updated.", email=user.email), "success")
    return redirect(url_for("district.admins"))
