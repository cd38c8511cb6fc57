"""Heritage (di sản): a commune's register of relics, artefacts, steles and Hán-Nôm documents, the QR boards at its
relics with their scan counts, and the public relic pages with an audio guide. docs/decisions.md, "Heritage".
"""

from flask import Blueprint

bp = Blueprint("heritage", __name__, url_prefix="/c/<tenant_slug>/heritage", template_folder="templates")
api_bp = Blueprint("heritage_api", __name__, url_prefix="/api/c/<tenant_slug>/heritage")

from tenants.heritage import views_public, views_staff  # noqa: E402,F401


def _register_district_figures() -> None:
    """The district dashboard's per-commune counts come from ``queries.district_figures`` (app/district/figures.py)."""
    from flask_babel import lazy_gettext as _l

    from app.district import figures
    from tenants.heritage import queries

    figures.register("heritage", queries.district_figures, queries.FIGURE_KEYS, monthly=queries.district_monthly)
    # The dashboard labels its columns from figures.LABELS; the domain brings the labels of its own keys.
    figures.LABELS.update({
        "relics": _l("Relics"), "boards": _l("QR boards at relics"), "artefacts": _l("Artefacts digitised"),
        "steles": _l("Steles and documents"), "scans": _l("Board scans"),
    })


_register_district_figures()
