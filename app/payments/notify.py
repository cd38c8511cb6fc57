"""What payments tells a commune's staff (issue #20): transfers waiting in the reconciliation inbox, once a day per
staff member of the commune, when there are any. The one module through which payments reaches app.notify."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from app import notify
from app.auth.models import STAFF_ROLES, Membership, User
from app.extensions import db
from app.formatting import to_local
from app.payments.models import BankTransfer
from app.payments.statuses import INBOX_STATUSES
from tenants.models import Tenant
from tenants.scoping import tenant_context

DIGEST_HOUR = 7  # Hà Nội time


def reconciliation_waiting(now: datetime) -> int:
    local = to_local(now)
    if local.hour < DIGEST_HOUR:
        return 0
    waiting = db.session.execute(
        select(BankTransfer.tenant_id, func.count()).where(BankTransfer.status.in_(INBOX_STATUSES),
                                                           BankTransfer.tenant_id.is_not(None))
        .group_by(BankTransfer.tenant_id)).all()
    written = 0
    for tenant_id, count in waiting:
        slug = db.session.scalar(select(Tenant.slug).where(Tenant.id == tenant_id))
        staff = db.session.scalars(select(User).join(Membership, Membership.user_id == User.id).where(
            Membership.tenant_id == tenant_id, Membership.role.in_(STAFF_ROLES), User.active.is_(True))
            .order_by(User.id)).unique().all()
        for user in staff:
            def build(_locale, count=count, slug=slug):
                return notify.Text(
                    title=_("%(n)s transfers wait in the reconciliation inbox", n=count),
                    body=_("%(n)s bank transfers matched no payment and wait for a person to decide.", n=count),
                    link=notify.public_url("reconciliation.inbox", tenant_slug=slug),
                    reason=_("you are on the staff of this commune."))

            with tenant_context(tenant_id):
                if notify.send_to(user, f"staff:{user.id}", "reconciliation_waiting", build,
                                  key=f"reconciliation:{tenant_id}:{user.id}:{local:%Y-%m-%d}"):
                    written += 1
    return written


notify.periodic("payments.reconciliation_waiting", reconciliation_waiting)
