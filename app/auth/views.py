"""Sign in and out, change password, and the signed-in home that sends each role where it works."""

from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale, gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, logout_user
from flask_wtf.csrf import generate_csrf
from markupsafe import escape

from app.auth import bp, services, sessions, throttle
from app.auth.access import home_endpoint_for
from app.auth.forms import LoginForm, PasswordChangeForm
from app.errors import DomainError


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
def login():
    if current_user.is_authenticated:
        return redirect(url_for("auth.home"))
    if request.method == "GET":
        page = _blank_login_page()
        if page is not None:
            return page, 200
    form = _login_form()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        address = get_remote_address()
        identifier = services.sign_in_key(form.email.data)  # an e-mail or a phone, however it was written
        if throttle.login_refused(identifier, address):
            abort(429)  # the password is not even checked: a refused try teaches nothing
        user = services.authenticate(identifier, form.password.data)
        if user is not None:
            sessions.start(user, remember=bool(form.remember.data))
            flash(_("Welcome, %(name)s.", name=user.name), "success")
            return redirect(_safe_next(form.next.data) or url_for("auth.home"))
        throttle.login_failed(identifier, address)
        flash(_("Wrong email, phone number or password."), "error")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form), (400 if form.errors else 200)


def _login_form() -> LoginForm:
    form = LoginForm()
    form.remember.label.text = _("Keep me signed in on this device for %(days)d days",
                                 days=current_app.config["REMEMBER_DAYS"])
    return form


# The blank sign-in page is the same for every visitor but for its CSRF token and the `next` it carries: rendered
# once per language (and address), then only those two values are put in per request, without building the form
# (issue #17: the form's rendering and construction were most of the page). The token is the one the form would
# carry (flask_wtf's generate_csrf with the same settings). A page with flashed messages, or in debug mode, is
# rendered in full (None here).
_TOKEN_MARK = "csrf-token-to-fill-8c1f0e5a"
_NEXT_MARK = "next-to-fill-3b7d92c4"
_BLANK_PAGES_MAX = 16


def _blank_login_page() -> str | None:
    if current_app.debug or session.get("_flashes"):
        return None
    pages = current_app.extensions.setdefault("blank_login_pages", {})
    key = (str(get_locale()), request.host, request.script_root)
    page = pages.get(key)
    if page is None:
        form = _login_form()
        form.csrf_token.current_token, form.next.data = _TOKEN_MARK, _NEXT_MARK
        page = render_template("auth/login.html", form=form)
        if page.count(_TOKEN_MARK) != 1 or page.count(_NEXT_MARK) != 1:  # not one blank form: render each time
            return None
        if len(pages) >= _BLANK_PAGES_MAX:  # the Host header is the client's (production trusts a few only)
            pages.clear()
        pages[key] = page
    return page.replace(_TOKEN_MARK, str(escape(generate_csrf())), 1).replace(
        _NEXT_MARK, str(escape(request.args.get("next", ""))), 1)


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out, and end this session's copies too: the session version moves on (a copied cookie stops working)."""
    if current_user.is_authenticated:
        services.end_sessions(current_user)
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/account/sign-out-everywhere", methods=["POST"])
@login_required
def sign_out_everywhere():
    """Every session and "remember me" cookie of this account, on every device, stops working; this one too."""
    services.end_sessions(current_user)
    logout_user()
    flash(_("You have been signed out on every device."), "info")
    return redirect(url_for("auth.login"))


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
        if throttle.password_change_refused(current_user.id):
            abort(429)
        user = current_user._get_current_object()
        try:
            services.change_password(user, form.current_password.data, form.new_password.data, form.confirm.data)
        except DomainError as err:  # the form is rendered again with the reason (400: the boundary rolls back)
            if err.field == "current_password":
                throttle.password_change_failed(user.id)
            flash(str(err.message), "error")
        else:
            sessions.start(user)  # every other session is signed out; this one goes on, on a fresh session
            flash(_("Your password has been changed. Every other session has been signed out."), "success")
            return redirect(url_for("auth.home"))
    status = 400 if form.errors or request.method == "POST" else 200
    return render_template("auth/password.html", form=form), status
