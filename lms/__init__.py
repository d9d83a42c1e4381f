"""The Atlas web application.

Importing `lms` (as every `lms` command does) imports no Flask: the factory imports it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from lms.config import REPO_ROOT, Settings, load_or_create_secret_key

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["REPO_ROOT", "create_app"]


def create_app(
    test_config: dict[str, Any] | None = None, settings: Settings | None = None
) -> Flask:
    """Build the application: configuration, extensions, blueprints (no worker is started).

    `settings` defaults to `Settings.from_env()`; `test_config` keys override its Flask config.
    """
    from flask import Flask

    settings = settings or Settings.from_env()
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=str(settings.instance_path.resolve()),
        # Templates and static files live inside the package, so a built wheel serves pages too.
        template_folder="templates",
        static_folder="static",
    )
    instance = Path(app.instance_path)
    # The instance folder holds the secret key and the SQLite database: for our user alone.
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    app.config.from_mapping(settings.flask_config())
    if test_config:
        app.config.update(test_config)
    app.extensions["lms.settings"] = settings
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_or_create_secret_key(instance, settings.secret_key)
    if "SESSION_COOKIE_SECURE" not in (test_config or {}):
        # Secure cookies need HTTPS; the debug server and tests speak plain HTTP.
        secure = settings.cookie_secure
        if secure is None:
            secure = not (app.debug or app.testing)
        app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = secure

    if app.config["TRUSTED_PROXIES"]:
        # Behind a proxy, the client's address (login throttling) and scheme come from its headers.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    _init_extensions(app)
    _register_blueprints(app)
    return app


def _init_extensions(app: Flask) -> None:
    from flask_babel import lazy_gettext

    from lms import queue
    from lms.extensions import babel, csrf, db, login_manager
    from lms.models import User

    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = lazy_gettext("Please sign in to see this page.")
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        # The session's identity carries the user's session version: a stale one (signed out,
        # password or role changed, account disabled) no longer signs anyone in.
        from lms.services.accounts import load_session_user

        return load_session_user(db.session, session_id)

    babel.init_app(
        app,
        locale_selector=_select_locale,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    queue.init_app(app)


def _select_locale() -> str | None:
    """The user's chosen language, else the session's, else the browser's best match."""
    from flask import current_app, request, session
    from flask_login import current_user

    languages = current_app.config["LANGUAGES"]
    if current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get("locale") in languages:
        return session["locale"]
    return request.accept_languages.best_match(languages) or languages[0]


def _register_blueprints(app: Flask) -> None:
    from lms import api
    from lms.web import (
        admin,
        auth,
        credentials,
        errors,
        exercises,
        gradebook,
        headers,
        instructor,
        learn,
        lti,
        ops,
        recruiter,
        skills,
        talent_admin,
    )
    from lms.web.converters import register as register_converters

    register_converters(app)  # before the routes: their <int:...> use it
    blueprints = (
        auth,
        learn,
        exercises,
        instructor,
        gradebook,
        recruiter,
        admin,
        lti,
        credentials,
        skills,
        talent_admin,
        ops,
        api,
    )
    for module in blueprints:
        app.register_blueprint(module.bp)
    errors.register(app)
    headers.register(app)
    from lms.web.rendering import register_template_helpers

    register_template_helpers(app)
