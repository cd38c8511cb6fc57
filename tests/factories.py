"""Small factories. Each opens its own app context and returns a detached, fully loaded object."""

from __future__ import annotations

from app.auth.models import Membership, User
from app.auth.passwords import hash_password
from app.extensions import db
from tenants.models import Tenant
from tenants.notices.models import Notice
from tenants.scoping import tenant_context
from tests.conftest import TEST_PASSWORD


class Factory:
    def __init__(self, app):
        self.app = app
        self._codes = iter(range(10001, 99999))

    def _detach(self, obj):
        db.session.refresh(obj)
        db.session.expunge(obj)
        return obj

    def tenant(self, slug: str, name: str | None = None, kind: str = "xã", status: str = "active") -> Tenant:
        with self.app.app_context():
            tenant = Tenant(
                slug=slug, name=name or slug.replace("-", " ").title(), kind=kind, code=str(next(self._codes)),
                district_name="Gia Lâm", district_code="018", province_name="Hà Nội", status=status,
            )
            db.session.add(tenant)
            db.session.commit()
            return self._detach(tenant)

    def user(self, email: str, role: str | None = None, tenant: Tenant | None = None,
             password: str = TEST_PASSWORD, active: bool = True, name: str | None = None) -> User:
        with self.app.app_context():
            user = User(email=email, name=name or email.split("@")[0], password_hash=hash_password(password),
                        active=active)
            if role:
                user.memberships.append(Membership(role=role, tenant_id=tenant.id if tenant else None))
            db.session.add(user)
            db.session.commit()
            db.session.refresh(user)
            _ = [m.tenant for m in user.memberships]
            db.session.expunge_all()
            return user

    def notice(self, tenant: Tenant, title: str = "Lịch tiếp dân", published: bool = True, body: str = "") -> Notice:
        with self.app.app_context(), tenant_context(tenant):
            notice = Notice(title=title, body=body, published=published)
            db.session.add(notice)
            db.session.commit()
            return self._detach(notice)
