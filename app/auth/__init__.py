"""Accounts, memberships (who does what in which commune), login and user management."""

from flask import Blueprint

bp = Blueprint("auth", __name__, template_folder="templates")

from app.auth import views  # noqa: E402,F401  (routes register on bp)


def _declare_records() -> None:
    """The audit trail records accounts and roles (app/audit); sign-ins are recorded by app/audit itself."""
    from flask_babel import lazy_gettext as _l

    from app import audit

    audit.track("users", _l("Account"), secret=("password_hash",), personal=("phone",),
                ignore=("last_login_at", "session_version"))
    audit.track("memberships", _l("Role"))


_declare_records()
