"""Accounts, memberships (who does what in which commune), login and user management."""

from flask import Blueprint

bp = Blueprint("auth", __name__, template_folder="templates")

from app.auth import views  # noqa: E402,F401  (routes register on bp)


def _declare_records() -> None:
    """The audit trail records accounts and roles (app/audit); sign-ins are recorded by app/audit itself."""
    from flask_babel import lazy_gettext as _l
    from sqlalchemy import String, cast, func, literal

    from app import audit, retention

    audit.track("users", _l("Account"), secret=("password_hash",), personal=("phone",),
                ignore=("last_login_at", "session_version"))
    audit.track("memberships", _l("Role"))
    retention.rule("accounts.closed", _l("Closed accounts (staff and vendors)"), "users", days=5 * 365,
                   clock=lambda t: func.coalesce(t.c.last_login_at, t.c.created_at),
                   where=lambda t: t.c.active.is_(False),
                   anonymise={"name": "—", "phone": None, "password_hash": "!",
                              "email": lambda t: literal("closed-") + cast(t.c.id, String) + literal("@invalid")},
                   basis=_l("What an account did stays answerable in the audit trail (which keeps its e-mail); the "
                            "person's name and contact go once the account has been closed and unused for five "
                            "years."))


_declare_records()
