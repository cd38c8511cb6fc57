"""Staff pages for money in: a commune's payments, confirm by hand, statement import, the reconciliation inbox."""

from flask import Blueprint

bp = Blueprint("reconciliation", __name__, template_folder="templates")
