"""The shared marketplace of local products from vendors of every commune (catalogue, cart, orders per vendor)."""

from flask import Blueprint, render_template

bp = Blueprint("marketplace", __name__, url_prefix="/marketplace", template_folder="templates")


@bp.route("/")
def index():
    return render_template("marketplace/index.html")
