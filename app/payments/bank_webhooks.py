"""Receivers for bank-transaction notifications: SePay, Casso v2, payOS."""

from flask import Blueprint

bp = Blueprint("bank_webhooks", __name__, url_prefix="/webhooks")
