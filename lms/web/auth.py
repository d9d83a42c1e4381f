"""Signing in (password or an organisation's OpenID Connect provider) and out, one's account
(password, sessions), one-time links, language."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
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

from lms.errors import DomainError, NotFound
from lms.extensions import db
from lms.services import accounts, oidc
from lms.web.errors import describe, flash_refusal, status_for
from lms.web.forms import ChangePasswordForm, LanguageForm, LoginForm, SetPasswordForm, SignOutForm

bp = Blueprint("auth", __name__)
# What a user who must first choose a password may still open.
OPEN_BEFORE_CHANGE = {
    "auth.change_password",
    "auth.logout",
    "auth.set_language",
    "static",
    "pygments_css",
}


@bp.before_app_request
def force_password_change():
    """An admin chose this user's password: nothing opens until they choose their own."""
    if (
        current_user.is_authenticated
        and current_user.must_change_password
        and request.endpoint not in OPEN_BEFORE_CHANGE
    ):
        return redirect(url_for("auth.change_password"))
    return None


def _sign_in(user) -> None:
    session.clear()  # a fresh session on sign-in (no fixation)
    login_user(user)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in, with growing delays after repeated failures from the same address."""
    if current_user.is_authenticated:
        return redirect(url_for("learn.home"))
    form = LoginForm()
    status, headers = 200, {}
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
            _sign_in(outcome.user)
            return redirect(safe_next(request.args.get("next")) or url_for("learn.home"))
        if outcome.throttled:
            seconds = outcome.retry_after_seconds
            flash(
                _("Too many failed sign-ins from here. Try again in %(n)s second(s).", n=seconds),
                "error",
            )
            status, headers = 429, {"Retry-After": str(seconds)}
        else:
            flash(_("Wrong e-mail or password."), "error")
            status = 401
    elif request.method == "POST":
        status = 400
    return _login_page(form), status, headers


def _login_page(form: LoginForm | None = None) -> str:
    provider = oidc.Provider.from_config(current_app.config)
    return render_template(
        "auth/login.html", form=form or LoginForm(), oidc_name=provider and provider.name
    )


# The browser's signed session holds the pending sign-in (state, nonce, PKCE verifier) while
# the person is at the provider: the answer must come back to the same browser.
OIDC_PENDING = "oidc_pending"


def _provider() -> oidc.Provider:
    provider = oidc.Provider.from_config(current_app.config)
    if provider is None:
        abort(404)  # OpenID Connect sign-in is not configured here
    return provider


@bp.get("/login/oidc")
def oidc_login():
    """Send the browser to the organisation's provider to sign in."""
    provider = _provider()
    if current_user.is_authenticated:
        return redirect(url_for("learn.home"))
    from lms.services import oidc_protocol  # cryptography and requests: only when it is on

    try:
        url, pending = oidc_protocol.begin(provider, url_for("auth.oidc_callback", _external=True))
    except DomainError as error:
        flash_refusal(error)
        return _login_page(), status_for(error)
    pending["next"] = safe_next(request.args.get("next"))
    session[OIDC_PENDING] = pending
    return redirect(url)


@bp.get("/login/oidc/callback")
def oidc_callback():
    """The provider's answer: verified, then signed in like a password sign-in."""
    provider = _provider()
    from lms.services import oidc_protocol

    pending = session.pop(OIDC_PENDING, None)  # one answer per sign-in: a replay finds none
    try:
        person = oidc_protocol.finish(provider, pending, request.args)
        user = oidc.sign_in(db.session, provider, person, request.remote_addr or "?")
    except DomainError as error:
        flash_refusal(error)
        return _login_page(), status_for(error)
    _sign_in(user)
    return redirect(safe_next(pending.get("next")) or url_for("learn.home"))


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None (no open redirect, no header injection)."""
    if not target or len(target) > 2000 or not target.startswith("/"):
        return None
    # Browsers drop tabs and newlines and read "\\" as "/": "/\t/evil" is "//evil".
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in target) or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return None
    return target


@bp.post("/logout")
@login_required
def logout():
    """Sign out: this session's cookie is dead even if replayed (every session of the user)."""
    accounts.end_sessions(db.session, current_user.id)
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """My account: change my password (other sessions end), sign out everywhere."""
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.change_password(
                db.session, current_user.id, form.current.data, form.new.data
            )
        except DomainError as error:
            flash_refusal(error)
            status = status_for(error)
        else:
            _sign_in(user)  # this session carries on with the new session version
            flash(_("Your password has been changed; your other sessions are signed out."), "info")
            return redirect(url_for("learn.home"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/password.html", form=form, sign_out_form=SignOutForm()), status


@bp.post("/account/sessions")
@login_required
def sign_out_everywhere():
    """End every other session of mine (this one carries on)."""
    if not SignOutForm().validate_on_submit():
        abort(400)
    _sign_in(accounts.end_sessions(db.session, current_user.id))
    flash(_("Every other session is signed out."), "info")
    return redirect(url_for("auth.change_password"), 303)


@bp.route("/welcome/<token>", methods=["GET", "POST"])
def use_link(token: str):
    """An invitation or reset link: choose a password, then sign in with it."""
    try:
        accounts.link_user(db.session, token)
    except NotFound as error:
        return render_template("errors/error.html", status=404, message=describe(error)), 404
    form = SetPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            accounts.use_link(db.session, token, form.new.data)
        except DomainError as error:
            flash_refusal(error)
            status = status_for(error)
        else:
            logout_user()
            session.clear()
            flash(_("Your password is set. Sign in with it."), "info")
            return redirect(url_for("auth.login"), 303)
    elif request.method == "POST":
        status = 400
    return render_template("auth/set_password.html", form=form), status


@bp.post("/language")
def set_language():
    """Switch the interface language (remembered on the account when signed in)."""
    form = LanguageForm()
    if not form.validate_on_submit():
        return redirect(url_for("learn.home"))
    session["locale"] = form.locale.data
    if current_user.is_authenticated:
        accounts.set_locale(db.session, current_user.id, form.locale.data)
    return redirect(safe_next(request.form.get("next")) or url_for("learn.home"))
