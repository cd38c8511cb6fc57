"""The Stripe-compatible JSON API under /v1 (payment intents, events, webhook endpoints)."""

from flask import Blueprint

bp = Blueprint("api_v1", __name__, url_prefix="/v1")
