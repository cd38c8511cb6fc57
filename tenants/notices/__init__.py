"""Commune notices (thông báo): announcements a commune's staff publish on its public home page."""

from flask import Blueprint

bp = Blueprint("notices", __name__, url_prefix="/c/<tenant_slug>/notices", template_folder="templates")

from tenants.notices import views  # noqa: E402,F401


def _declare_records() -> None:
    from flask_babel import lazy_gettext as _l

    from app import audit

    audit.track("notices", _l("Notice"))


_declare_records()
