"""Heritage (di sản): a commune's register of relics, artefacts, steles and Hán-Nôm documents, the QR boards at its
relics with their scan counts, and the public relic pages with an audio guide. docs/decisions.md, "Heritage".
"""

from flask import Blueprint

bp = Blueprint("heritage", __name__, url_prefix="/c/<tenant_slug>/heritage", template_folder="templates")
api_bp = Blueprint("heritage_api", __name__, url_prefix="/api/c/<tenant_slug>/heritage")
