"""Sign in and out, change password, and the signed-in home that sends each role where it works."""

from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import bp, services
from app.auth.access import home_endpoint_for
from app.auth.forms import PasswordChangeForm
from app.auth.forms import LoginForm
from app.errors import DomainError
from app.extensions import limiter


def _login_failed(response) -> bool:
    return bool(g.get("login_failed"))


def _login_email_key() -> str:
    return "login-email:" + (request.form.get("email") or "").strip().lower()


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths are followed after login (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None  # browsers read "/\\evil.example" as "//evil.example"; control characters are never legitimate
    return target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_login_failed)
@limiter.limit(_login_limit, methods=["POST"], key_func=_login_email_key, deduct_when=_login_failed)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("auth.home"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user)
            flash(_("Welcome, %(name)s.", name=user.name), "success")
            return redirect(_safe_next(form.next.data) or url_for("auth.home"))
        g.login_failed = True
        flash(_("Wrong email or password."), "error")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form), (400 if form.errors else 200)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/home")
@login_required
def home():
    endpoint, values = home_endpoint_for(current_user)
    return redirect(url_for(endpoint, **values))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                current_user, form.current_password.data, form.new_password.data, form.confirm.data
            )
        except DomainError as err:
            flash(str(err.message), "error")
        else:
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("auth.home"))
    status = 400 if form.errors or request.method == "POST" else 200
    return render_template("auth/password.html", form=form), status
