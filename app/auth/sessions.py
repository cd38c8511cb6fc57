"""Sessions that end: a session version in every cookie, idle and absolute lifetimes, "remember me" as a choice,
and a fresh session at sign-in. The threat and the rules: docs/security.md ("Sessions that never end")."""

from __future__ import annotations

import time
from datetime import timedelta

from flask import Flask, current_app, g, session
from flask_login import login_user, user_loaded_from_cookie

SIGNED_IN_AT = "signed_in_at"
KEPT_ACROSS_SIGN_IN = ("lang",)


def init_app(app: Flask) -> None:
    from app.extensions import login_manager

    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=app.config["SESSION_HOURS"])
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(days=app.config["REMEMBER_DAYS"])
    login_manager.user_loader(load_user)
    user_loaded_from_cookie.connect(_signed_in_by_cookie, app)


def load_user(user_id: str):
    from app.auth.services import load_session_user

    started = session.get(SIGNED_IN_AT)
    max_age = current_app.config["SESSION_MAX_HOURS"] * 3600
    if isinstance(started, (int, float)) and time.time() - started > max_age:
        session.pop(SIGNED_IN_AT, None)  # too old: only a "remember me" cookie may sign the user in again
        return None
    return load_session_user(user_id)


def _signed_in_by_cookie(app, user=None, **_extra) -> None:
    session[SIGNED_IN_AT] = time.time()
    session.permanent = True


def start(user, remember: bool = False) -> None:
    """Sign ``user`` in on a fresh session (new CSRF token), lasting hours unless ``remember``."""
    kept = {key: session[key] for key in KEPT_ACROSS_SIGN_IN if key in session}
    session.clear()
    g.pop("csrf_token", None)  # Flask-WTF caches the token of the request; the next page gets a new one
    session.update(kept)
    session.permanent = True
    session[SIGNED_IN_AT] = time.time()
    login_user(user, remember=remember)
