"""Configuration: every LMS_* variable read and checked once, in `Settings.from_env`.

Defaults suit the embedded single-machine mode. The Flask config (`Settings.flask_config`) and
the Celery workers' settings both derive from the one `Settings` object, so a malformed or
out-of-range value is found in one place and reported as a `ConfigError` naming the variable.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SECRET_KEY_FILE = "secret_key"
# The folder above the package: the repository in an editable install (its courses/ and
# exercises/ are the default content), site-packages in an installed wheel (no content there).
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"


class ConfigError(ValueError):
    """A setting in the environment is malformed (the message says which and how to fix it)."""


@dataclass(frozen=True)
class Settings:
    """The platform's settings; see `from_env` for the variable behind each field."""

    instance_path: Path
    database_url: str
    broker_url: str | None = None
    queue_backend: str | None = None  # None: "celery" with a broker URL, else "embedded"
    secret_key: str | None = None
    cookie_secure: bool | None = None  # None: secure unless debugging or testing
    grading_workers: int = 2
    trusted_proxies: int = 0  # reverse proxies in front of us setting X-Forwarded-*
    # `lms serve` (waitress): requests handled at once, open connections (idle keep-alives
    # included; beyond it new ones wait), and seconds before an idle connection is closed.
    serve_threads: int = 16
    serve_connection_limit: int = 1000
    serve_channel_timeout: int = 60
    check_work_per_minute: int = 6
    submissions_per_minute: int = 10
    runs_per_minute: int = 30
    # "Run and see": warm sandboxes kept per trainee and exercise (0: every run starts afresh),
    # each ended after this many seconds without a run.
    run_sessions: int = 8
    run_session_idle_seconds: int = 300
    login_max_failures: int = 5
    login_window_seconds: int = 15 * 60
    max_upload_bytes: int = 5 * 1024 * 1024
    csrf_time_limit: int = 8 * 3600
    celery_visibility_timeout: float = 3600.0
    job_lease_seconds: float = 3600.0
    redispatch_seconds: float = 60.0
    broker_key_prefix: str = ""  # for Redis keys: several Atlas instances can share one Redis
    log_format: str = "json"
    # Sign-in through an organisation's OpenID Connect provider: off unless an issuer is set.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_name: str | None = None
    oidc_create_accounts: str = "off"
    oidc_link_accounts: str = "trainee"
    oidc_email_domains: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read LMS_* from `environ` (default: the process environment); ConfigError if bad."""
        env = _Environment(os.environ if environ is None else environ)
        instance = Path(env.text("LMS_INSTANCE_PATH") or REPO_ROOT / "instance")
        visibility = env.seconds("LMS_CELERY_VISIBILITY_TIMEOUT", 3600.0)
        return cls(
            instance_path=instance,
            database_url=env.text("LMS_DATABASE_URL") or f"sqlite:///{instance / 'atlas.sqlite'}",
            broker_url=env.text("LMS_BROKER_URL"),
            queue_backend=env.text("LMS_QUEUE_BACKEND"),
            secret_key=env.text("LMS_SECRET_KEY"),
            cookie_secure=env.flag("LMS_COOKIE_SECURE"),
            grading_workers=env.whole("LMS_GRADING_WORKERS", 2, low=1, high=256),
            trusted_proxies=env.whole("LMS_TRUSTED_PROXIES", 0, low=0, high=10),
            serve_threads=env.whole("LMS_SERVE_THREADS", 16, low=1, high=512),
            serve_connection_limit=env.whole(
                "LMS_SERVE_CONNECTION_LIMIT", 1000, low=1, high=100_000
            ),
            serve_channel_timeout=env.whole("LMS_SERVE_CHANNEL_TIMEOUT", 60, low=1, high=3600),
            check_work_per_minute=env.whole("LMS_CHECK_WORK_PER_MINUTE", 6, low=1),
            submissions_per_minute=env.whole("LMS_SUBMISSIONS_PER_MINUTE", 10, low=1),
            runs_per_minute=env.whole("LMS_RUNS_PER_MINUTE", 30, low=1),
            run_sessions=env.whole("LMS_RUN_SESSIONS", 8, low=0),
            run_session_idle_seconds=env.whole("LMS_RUN_SESSION_IDLE_SECONDS", 300, low=1),
            login_max_failures=env.whole("LMS_LOGIN_MAX_FAILURES", 5, low=1),
            login_window_seconds=env.whole("LMS_LOGIN_WINDOW_SECONDS", 15 * 60, low=1),
            max_upload_bytes=env.whole("LMS_MAX_UPLOAD_BYTES", 5 * 1024 * 1024, low=1024),
            csrf_time_limit=env.whole("LMS_CSRF_TIME_LIMIT", 8 * 3600, low=60),
            celery_visibility_timeout=visibility,
            # A job's lease defaults to the visibility timeout: a redelivery finds it expired.
            job_lease_seconds=env.seconds("LMS_JOB_LEASE_SECONDS", visibility),
            redispatch_seconds=env.seconds("LMS_REDISPATCH_SECONDS", 60.0),
            broker_key_prefix=env.text("LMS_BROKER_KEY_PREFIX") or "",
            log_format=env.choice("LMS_LOG_FORMAT", "json", ("json", "text")),
            **_oidc_settings(env),
        )

    @property
    def backend(self) -> str:
        """The grading queue backend's name: LMS_QUEUE_BACKEND, else chosen by LMS_BROKER_URL."""
        return self.queue_backend or ("celery" if self.broker_url else "embedded")

    def flask_config(self) -> dict[str, Any]:
        """The Flask application's config keys."""
        return {
            "DATABASE_URL": self.database_url,
            "BROKER_URL": self.broker_url,
            "QUEUE_BACKEND": self.queue_backend,
            "GRADING_WORKERS": self.grading_workers,
            "SERVE_THREADS": self.serve_threads,
            "SERVE_CONNECTION_LIMIT": self.serve_connection_limit,
            "SERVE_CHANNEL_TIMEOUT": self.serve_channel_timeout,
            "TRUSTED_PROXIES": self.trusted_proxies,
            "CHECK_WORK_PER_MINUTE": self.check_work_per_minute,
            "SUBMISSIONS_PER_MINUTE": self.submissions_per_minute,
            "RUNS_PER_MINUTE": self.runs_per_minute,
            "RUN_SESSIONS": self.run_sessions,
            "RUN_SESSION_IDLE_SECONDS": self.run_session_idle_seconds,
            "LOGIN_MAX_FAILURES": self.login_max_failures,
            "LOGIN_WINDOW_SECONDS": self.login_window_seconds,
            # Flask rejects bigger requests with 413 before they reach a view.
            "MAX_CONTENT_LENGTH": self.max_upload_bytes,
            "MAX_FORM_MEMORY_SIZE": self.max_upload_bytes,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SAMESITE": "Lax",
            "WTF_CSRF_TIME_LIMIT": self.csrf_time_limit,
            "BABEL_DEFAULT_LOCALE": "en",
            "LANGUAGES": ("en", "fr"),
            "OIDC_ISSUER": self.oidc_issuer,
            "OIDC_CLIENT_ID": self.oidc_client_id,
            "OIDC_CLIENT_SECRET": self.oidc_client_secret,
            "OIDC_NAME": self.oidc_name,
            "OIDC_CREATE_ACCOUNTS": self.oidc_create_accounts,
            "OIDC_LINK_ACCOUNTS": self.oidc_link_accounts,
            "OIDC_EMAIL_DOMAINS": self.oidc_email_domains,
        }


def _oidc_settings(env: _Environment) -> dict[str, Any]:
    """The LMS_OIDC_* settings: all three of issuer, client id and secret, or none of them."""
    names = ("LMS_OIDC_ISSUER", "LMS_OIDC_CLIENT_ID", "LMS_OIDC_CLIENT_SECRET")
    given = [name for name in names if env.text(name)]
    if given and len(given) < len(names):
        missing = ", ".join(name for name in names if name not in given)
        raise ConfigError(
            f"OpenID Connect sign-in needs {', '.join(names)}; missing: {missing}. "
            "Set it, or unset the others to turn the sign-in off."
        )
    issuer = (env.text("LMS_OIDC_ISSUER") or "").rstrip("/") or None
    if issuer:
        parts = urlsplit(issuer)
        loopback = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
        if not (parts.scheme == "https" or loopback) or not parts.hostname or parts.query:
            raise ConfigError(
                f"LMS_OIDC_ISSUER={issuer!r} must be the provider's https:// issuer URL "
                "(e.g. https://login.example.org/realms/staff), as its discovery document says."
            )
    domains = env.text("LMS_OIDC_EMAIL_DOMAINS") or ""
    return {
        "oidc_issuer": issuer,
        "oidc_client_id": env.text("LMS_OIDC_CLIENT_ID"),
        "oidc_client_secret": env.text("LMS_OIDC_CLIENT_SECRET"),
        "oidc_name": env.text("LMS_OIDC_NAME"),
        "oidc_create_accounts": env.choice("LMS_OIDC_CREATE_ACCOUNTS", "off", ("off", "trainee")),
        "oidc_link_accounts": env.choice(
            "LMS_OIDC_LINK_ACCOUNTS", "trainee", ("off", "trainee", "all")
        ),
        "oidc_email_domains": tuple(
            d.strip().lower().lstrip("@") for d in domains.split(",") if d.strip()
        ),
    }


class _Environment:
    """Typed, range-checked reads of a mapping of variables; each error names its variable."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    def text(self, name: str) -> str | None:
        return self.environ.get(name) or None

    def whole(self, name: str, default: int, low: int, high: int | None = None) -> int:
        value = self.text(name)
        if value is None:
            return default
        span = f"from {low} to {high}" if high is not None else f"of at least {low}"
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(
                f"{name}={value!r} is not a whole number; set a whole number {span} "
                f"(e.g. {name}={default}) or unset it."
            ) from None
        if number < low or (high is not None and number > high):
            raise ConfigError(
                f"{name}={value!r} is out of range; set a whole number {span} "
                f"(e.g. {name}={default}) or unset it."
            )
        return number

    def seconds(self, name: str, default: float) -> float:
        value = self.text(name)
        if value is None:
            return default
        try:
            seconds = float(value)
        except ValueError:
            seconds = float("nan")
        if not seconds > 0 or seconds == float("inf"):
            raise ConfigError(
                f"{name}={value!r} is not a positive number of seconds; set e.g. "
                f"{name}={default:g} or unset it."
            )
        return seconds

    def flag(self, name: str) -> bool | None:
        value = self.text(name)
        if value is None:
            return None
        if value not in ("0", "1"):
            raise ConfigError(f"{name}={value!r} must be 1 (on) or 0 (off); set one or unset it.")
        return value == "1"

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = (self.text(name) or default).lower()
        if value not in choices:
            raise ConfigError(
                f"{name}={self.environ[name]!r} must be one of {', '.join(choices)}; "
                f"set one or unset it."
            )
        return value


def load_or_create_secret_key(instance_path: Path, from_env: str | None = None) -> str:
    """The secret key from LMS_SECRET_KEY, else one kept in the instance folder (mode 0600)."""
    if from_env:
        return from_env
    key_file = instance_path / SECRET_KEY_FILE
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Created with 0600 from the start so the key is never readable by others, even briefly.
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
