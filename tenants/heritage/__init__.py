"""Heritage (di sản): a commune's register of relics, artefacts, steles and Hán-Nôm documents, the QR boards at its
relics with their scan counts, and the public relic pages with an audio guide. docs/decisions.md, "Heritage".
"""

from flask import Blueprint

bp = Blueprint("heritage", __name__, url_prefix="/c/<tenant_slug>/heritage", template_folder="templates")
api_bp = Blueprint("heritage_api", __name__, url_prefix="/api/c/<tenant_slug>/heritage")

from tenants.heritage import views_public, views_staff  # noqa: E402,F401


def _register() -> None:
    """Heritage on the district's dashboard (app/district/figures.py) and on the commune's desk and home page
    (tenants/tiles.py)."""
    from flask_babel import lazy_gettext as _l

    from app.district import figures
    from tenants import tiles
    from tenants.heritage import queries

    from functools import partial  # the registry asks for the records' origins (app/district/figures.py)

    figures.register("heritage", partial(queries.district_figures, by_origin=True), queries.FIGURE_KEYS,
                     monthly=partial(queries.district_monthly, by_origin=True),
                     labels={"relics": _l("Relics"), "boards": _l("QR boards at relics"),
                             "artefacts": _l("Artefacts digitised"), "steles": _l("Steles and documents"),
                             "scans": _l("Board scans")})

    def desk_figures(relics, boards):
        return [tiles.Figure(_l("Relics"), relics, endpoint="heritage.register"),
                tiles.Figure(_l("QR boards at relics"), boards, endpoint="heritage.boards")]

    tiles.on_desk(tiles.DeskTile("heritage", order=60, counts=queries.desk_count_subqueries, from_counts=desk_figures, links=(
        tiles.Link(_l("Heritage"), "heritage.register", testid="heritage-staff-link"),)))
    tiles.on_home(tiles.HomeTile("heritage", order=60, links=(
        tiles.Link(_l("Relics and heritage"), "heritage.index", testid="heritage-link"),)))


_register()


def _declare_records() -> None:
    """The audit trail records the register (relics, festivals, artefacts, steles, recordings, boards); scans are
    counts, not actions. Files are stored under heritage/<commune>/<relic-, artefact- or stele->id/ (app/backup)."""
    from flask_babel import lazy_gettext as _l

    from app import audit, backup

    backup.file_keys("heritage/{tenants}/relic-{heritage_relics}/")
    backup.file_keys("heritage/{tenants}/artefact-{heritage_artefacts}/")
    backup.file_keys("heritage/{tenants}/stele-{heritage_steles}/")
    audit.track("heritage_relics", _l("Relic"), ignore=("updated_at",))
    audit.track("heritage_festivals", _l("Festival"))
    audit.track("heritage_artefacts", _l("Artefact"))
    audit.track("heritage_steles", _l("Stele or document"))
    audit.track("heritage_audio_guides", _l("Audio guide"))
    audit.track("heritage_boards", _l("QR board"))


_declare_records()


def _declare_lineage() -> None:
    """When communes merge (tenants/lineage.py): boards and artefacts are numbered per commune, so the moving ones
    are renumbered (a board's QR opens /q/<board id>, which does not change; the number is a label)."""
    from tenants import lineage

    lineage.renumbers("heritage_boards", "number", "after")
    lineage.renumbers("heritage_artefacts", "inventory_number", "prefix")


_declare_lineage()
