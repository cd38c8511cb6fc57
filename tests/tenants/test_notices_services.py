"""Notice services flush; the view (the boundary) commits."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from tenants.notices import services as notices
from tenants.notices.models import Notice
from tenants.scoping import tenant_context


def test_notice_services_flush_and_leave_the_commit_to_the_caller(app, make):
    tenant = make.tenant("bat-trang", "Bát Tràng")
    with app.app_context(), tenant_context(tenant):
        notice = notices.create(None, "Lịch tiếp dân", "Thứ Hai")
        assert notice.id is not None  # flushed
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Notice)) == 0
