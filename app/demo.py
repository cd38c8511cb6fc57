"""The Gia Lâm demo: 22 communes and towns, a district admin, and an admin and an officer for every commune."""

from __future__ import annotations

from sqlalchemy import func, select

from app.auth import services as account_services
from app.auth.models import Membership
from app.extensions import db
from app.payments import accounts as payment_accounts
from app.text import strip_diacritics
from tenants import services as tenant_services
from tenants.models import Tenant
from tenants.notices.models import Notice
from tenants.queries import get_by_slug
from tenants.scoping import tenant_context

DEMO_DOMAIN = "gialam.demo"
DEMO_BANK_BIN = "970415"  # VietinBank; the account numbers are made up for the demo


def is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(Tenant))


def _ensure_user(email: str, name: str, password: str, role: str, tenant: Tenant | None) -> bool:
    user = account_services.get_user_by_email(email)
    created = user is None
    if created:
        user = account_services.create_user(email, name, password)
    if not any(m.role == role and m.tenant_id == (tenant.id if tenant else None) for m in user.memberships):
        user.memberships.append(Membership(tenant_id=tenant.id if tenant else None, role=role))
    db.session.commit()
    return created


def seed(password: str, progress=None) -> dict[str, int]:
    """Idempotent: creates what is missing and leaves what exists alone."""
    data = tenant_services.load_units()
    district = data["district"]
    counts = {"tenants": 0, "users": 0}
    if _ensure_user(f"district@{DEMO_DOMAIN}", "Phòng Nội vụ huyện Gia Lâm", password, "district_admin", None):
        counts["users"] += 1
    for index, unit in enumerate(data["units"], start=1):
        tenant = get_by_slug(unit["slug"])
        if tenant is None:
            tenant = tenant_services.create_tenant(
                unit["name"], unit["kind"], unit["code"], unit["slug"],
                district_name=district["name"], district_code=district["code"], province_name=district["province"],
            )
            counts["tenants"] += 1
            with tenant_context(tenant):
                db.session.add(Notice(
                    title=f"Chào mừng đến với cổng dịch vụ của {tenant.display_name}",
                    body="Bộ phận Một cửa tiếp nhận hồ sơ từ thứ Hai đến thứ Sáu, "
                         "sáng 8:00–12:00, chiều 13:30–17:00. Lệ phí thanh toán bằng mã VietQR.",
                ))
                db.session.commit()
        with tenant_context(tenant):
            if payment_accounts.find_account() is None:
                payment_accounts.create_account(
                    f"Tài khoản thu phí {tenant.display_name}", DEMO_BANK_BIN, f"1130{tenant.code}",
                    strip_diacritics(f"UBND {tenant.display_name}").upper(),
                )
        slug = unit["slug"]
        for role, local, title in (("commune_admin", "admin", "Quản trị"), ("officer", "officer", "Cán bộ một cửa")):
            if _ensure_user(f"{local}.{slug}@{DEMO_DOMAIN}", f"{title} {tenant.display_name}", password, role, tenant):
                counts["users"] += 1
        if progress:
            progress(index, len(data["units"]), tenant)
    return counts
