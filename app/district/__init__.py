"""The district's view: every commune at a glance, and the commune admins it appoints."""

from flask import Blueprint

bp = Blueprint("district", __name__, url_prefix="/district", template_folder="templates")

from app.district import views  # noqa: E402,F401
