"""Signing in and out, changing one's password and language."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from lms.errors import DomainError
from lms.extensions import db
from lms.services import accounts
from lms.web.errors import flash_refusal, status_for
from lms.web.forms import ChangePasswordForm, LanguageForm, LoginForm

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in, with throttling of repeated failures."""
    if current_user.is_authenticated:
        return redirect(url_for("learn.home"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        outcome = accounts.authenticate(
            db.session,
            form.email.data,
            form.password.data,
            request.remote_addr or "?",
            max_failures=current_app.config["LOGIN_MAX_FAILURES"],
            window_seconds=current_app.config["LOGIN_WINDOW_SECONDS"],
        )
        if outcome.user is not None:
            session.clear()  # a fresh session on sign-in (no fixation)
            login_user(outcome.user)
            return redirect(_safe_next(request.args.get("next")) or url_for("learn.home"))
        if outcome.throttled:
            minutes = max(1, round(outcome.retry_after_seconds / 60))
            flash(_("Too many failed sign-ins. Try again in %(n)s minute(s).", n=minutes), "error")
            status = 429
        else:
            flash(_("Wrong e-mail or password."), "error")
            status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


def _safe_next(target: str | None) -> str | None:
    # Only same-site paths: "//evil.example" or "https://..." would be an open redirect.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@bp.post("/logout")
@login_required
def logout():
    """Sign out (a POST with a CSRF token, so no page can sign someone out by a link)."""
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password."""
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            accounts.change_password(db.session, current_user.id, form.current.data, form.new.data)
        except DomainError as error:
            flash_refusal(error)
            status = status_for(error)
        else:
            flash(_("Your password has been changed."), "info")
            return redirect(url_for("learn.home"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/password.html", form=form), status


@bp.post("/language")
def set_language():
    """Switch the interface language (remembered on the account when signed in)."""
    form = LanguageForm()
    if not form.validate_on_submit():
        return redirect(url_for("learn.home"))
    session["locale"] = form.locale.data
    if current_user.is_authenticated:
        accounts.set_locale(db.session, current_user.id, form.locale.data)
    return redirect(_safe_next(request.form.get("next")) or url_for("learn.home"))
