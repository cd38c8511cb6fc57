"""Commune notices (thông báo): announcements a commune's staff publish on its public home page."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from tenants import tiles

bp = Blueprint("notices", __name__, url_prefix="/c/<tenant_slug>/notices", template_folder="templates")

from tenants.notices import services, views  # noqa: E402,F401

tiles.on_desk(tiles.DeskTile(
    "notices", order=30, links=(tiles.Link(_l("Notices"), "notices.index"),),
    counts=lambda: (services.recent_count_subquery(limit=5),),
    from_counts=lambda recent: [tiles.Figure(_l("Recent notices"), recent)]))
tiles.on_home(tiles.HomeTile(
    "notices", order=30, shown=("notices",),
    section=lambda: tiles.Section("notices/_home.html", {"notices": services.published(limit=10)})))


def _declare_records() -> None:
    from app import audit

    audit.track("notices", _l("Notice"))


_declare_records()
