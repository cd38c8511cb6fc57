"""Public payment pages: the hosted instructions page, QR images, and the status the page polls."""

from flask import Blueprint

bp = Blueprint("payments", __name__, template_folder="templates")
