"""The district's view: every commune at a glance, and the commune admins it appoints."""

from flask import Blueprint

bp = Blueprint("district", __name__, url_prefix="/district", template_folder="templates")
# Public, machine-readable district figures (no personal data): GET /api/district/metrics?from=...&to=... (the URL
# published before the word was "figures": docs/decisions.md)
api_bp = Blueprint("district_api", __name__, url_prefix="/api/district")

from app.district import figures, queries, views  # noqa: E402,F401
