"""The district's payment pages: the inbox of every commune's transfers and the unattributed ones (tenant_id NULL)
at ``/district/payments/inbox``, for the district's admins. The same decisions as a commune's inbox
(views_staff.py), across communes. See docs/payments.md.
"""

from __future__ import annotations

from flask import url_for

from app.auth.access import district_admin_required
from app.errors import back_to
from app.payments.views_refunds import _settle
from app.payments.views_staff import _accept_late, _assign, _render_inbox, _resolve, bp


@bp.route("/district/payments/inbox")
@district_admin_required
def district_inbox():
    return _render_inbox(None, district=True)


@bp.route("/district/payments/inbox/<int:transfer_id>/assign", methods=["POST"])
@district_admin_required
@back_to("reconciliation.district_inbox")
def district_assign(transfer_id: int):
    return _assign(None, transfer_id, url_for("reconciliation.district_inbox"))


@bp.route("/district/payments/inbox/<int:transfer_id>/accept-late", methods=["POST"])
@district_admin_required
@back_to("reconciliation.district_inbox")
def district_accept_late(transfer_id: int):
    return _accept_late(None, transfer_id, url_for("reconciliation.district_inbox"))


@bp.route("/district/payments/inbox/<int:transfer_id>/resolve", methods=["POST"])
@district_admin_required
@back_to("reconciliation.district_inbox")
def district_resolve(transfer_id: int):
    return _resolve(None, transfer_id, url_for("reconciliation.district_inbox"))


@bp.route("/district/payments/inbox/<int:transfer_id>/refund", methods=["POST"])
@district_admin_required
@back_to("reconciliation.district_inbox")
def district_settle_by_refund(transfer_id: int):
    return _settle(None, transfer_id, url_for("reconciliation.district_inbox"))
