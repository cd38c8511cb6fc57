"""Users and their memberships: a role, in one commune or (district admins) in none."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db, one_of

ROLES = ("district_admin", "commune_admin", "officer", "vendor")
COMMUNE_ROLES = ("commune_admin", "officer", "vendor")
STAFF_ROLES = ("commune_admin", "officer")  # the commune's own staff: the desk, notices, payments


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("session_version >= 1", name="session_version_positive"),
        CheckConstraint("email IS NOT NULL OR login_phone IS NOT NULL", name="sign_in_identifier"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # A user signs in with an e-mail address or, a stallholder who has none, a Vietnamese mobile number (#19):
    # ``login_phone`` is that number as app.text.clean_phone writes it, unique among users. ``phone`` is only a
    # contact number (a family's stalls may share it), never a way in.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    login_phone: Mapped[str | None] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Part of the id kept in the session and the "remember me" cookie (get_id): bumping it signs out every session
    # and cookie issued before (logout, password change, deactivation, "sign out everywhere").
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        return f"{self.id}.{self.session_version}"

    @property
    def sign_in_name(self) -> str:
        """What this user types to sign in, to show them and to name them in the audit trail."""
        return self.email or self.login_phone or ""

    @property
    def is_district_admin(self) -> bool:
        return any(m.role == "district_admin" for m in self.memberships)

    def roles_in(self, tenant_id: int | None) -> set[str]:
        return {m.role for m in self.memberships if m.tenant_id == tenant_id}

    def has_role(self, tenant_id: int | None, *roles: str) -> bool:
        return bool(self.roles_in(tenant_id) & set(roles))

    @property
    def commune_memberships(self) -> list[Membership]:
        return [m for m in self.memberships if m.tenant_id is not None]

    def __repr__(self) -> str:
        return f"<User {self.sign_in_name}>"


class Membership(db.Model):
    """Not tenant-scoped: it is read at login, before any tenant is known; services filter it by tenant. Which vendor
    a "vendor" membership acts for is the vendors package's record (tenants/vendors/models.py)."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("user_id", "tenant_id", "role"),
        CheckConstraint(
            "(role = 'district_admin' AND tenant_id IS NULL) OR "
            f"({one_of('role', COMMUNE_ROLES)} AND tenant_id IS NOT NULL)",
            name="role_tenant",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    user: Mapped[User] = relationship(back_populates="memberships")
    tenant = relationship("Tenant", lazy="joined")
