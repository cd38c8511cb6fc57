"""The register's vocabularies: each value with its label (the value is stored, CHECKed, and never shown)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# The kinds of relic a commune's register holds (Gia Lâm: đình, chùa, đền, miếu, nhà thờ họ, văn chỉ...).
RELIC_KINDS = {
    "dinh": _l("Communal house (đình)"),
    "chua": _l("Pagoda (chùa)"),
    "den": _l("Temple (đền)"),
    "mieu": _l("Shrine (miếu)"),
    "nha_tho_ho": _l("Clan hall (nhà thờ họ)"),
    "van_chi": _l("Confucian shrine (văn chỉ)"),
    "other": _l("Other relic"),
}
# The ranking a relic was given (Law on Cultural Heritage: special national, national, provincial/city level).
RANKINGS = {
    "special_national": _l("Special national relic"),
    "national": _l("National relic"),
    "city": _l("City relic"),
    "none": _l("Not ranked"),
}
# What a stele record is: an engraved stone stele, or a Hán-Nôm document (a royal decree, a genealogy, a scroll).
DOCUMENT_KINDS = {
    "stele": _l("Stele"),
    "document": _l("Hán-Nôm document"),
}
# The languages of the public relic page and of its audio guides (the interface's languages).
LANGUAGES = {"vi": "Tiếng Việt", "en": "English"}


def label(vocabulary: dict, value: str) -> str:
    return str(vocabulary.get(value, value))
