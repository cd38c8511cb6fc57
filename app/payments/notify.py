"""What payments tells a commune's staff (issue #20): transfers waiting in the reconciliation inbox, once a day per
staff member of the commune, when there are any. The one module through which payments reaches app.notify."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from app import notify
from app.auth.models import STAFF_ROLES, Membership, User
from app.extensions import db
from app.payments.models import BankTransfer
from app.payments.statuses import INBOX_STATUSES
from tenants.models import Tenant

def reconciliation_waiting(now: datetime) -> int:
    """Each staff member of a commune with transfers in its inbox: one message a day (``notify.daily_to_staff``)."""
    def recipients():
        waiting = db.session.execute(
            select(BankTransfer.tenant_id, func.count()).where(BankTransfer.status.in_(INBOX_STATUSES),
                                                               BankTransfer.tenant_id.is_not(None))
            .group_by(BankTransfer.tenant_id)).all()
        for tenant_id, count in waiting:
            slug = db.session.scalar(select(Tenant.slug).where(Tenant.id == tenant_id))
            staff = db.session.scalars(select(User).join(Membership, Membership.user_id == User.id).where(
                Membership.tenant_id == tenant_id, Membership.role.in_(STAFF_ROLES), User.active.is_(True))
                .order_by(User.id)).unique().all()

            def build(_locale, count=count, slug=slug):
                return notify.Text(
                    title=_("%(n)s transfers wait in the reconciliation inbox", n=count),
                    body=_("%(n)s bank transfers matched no payment and wait for a person to decide.", n=count),
                    link=notify.public_url("reconciliation.inbox", tenant_slug=slug),
                    reason=_("you are on the staff of this commune."))

            for user in staff:
                yield tenant_id, user, build

    return notify.daily_to_staff(now, event="reconciliation_waiting", who="staff", key="reconciliation",
                                 recipients=recipients)


notify.periodic("payments.reconciliation_waiting", reconciliation_waiting)
