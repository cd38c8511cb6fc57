"""Accounts, memberships (who does what in which commune), login and user management."""

from flask import Blueprint

bp = Blueprint("auth", __name__, template_folder="templates")

from app.auth import views  # noqa: E402,F401  (routes register on bp)
