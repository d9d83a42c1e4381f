"""Configuration from the environment: defaults suit the embedded single-machine mode."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

SECRET_KEY_FILE = "secret_key"


def load_or_create_secret_key(instance_path: Path) -> str:
    """The secret key from LMS_SECRET_KEY, else one kept in the instance folder (mode 0600)."""
    from_env = os.environ.get("LMS_SECRET_KEY")
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


class ConfigError(ValueError):
    """A setting in the environment is malformed (the message says which and how to fix it)."""


def _int_env(name: str, default: int, low: int | None = None, high: int | None = None) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(
            f"{name}={value!r} is not a whole number; unset it or set e.g. {name}={default}."
        ) from None
    if (low is not None and number < low) or (high is not None and number > high):
        raise ConfigError(
            f"{name}={number} is out of range; set a whole number from {low} to {high}"
            f" (default {default})."
        )
    return number


def config_from_env(instance_path: Path) -> dict[str, Any]:
    """The application's settings, read from LMS_* environment variables."""
    default_db = f"sqlite:///{instance_path / 'atlas.sqlite'}"
    max_upload = _int_env("LMS_MAX_UPLOAD_BYTES", 5 * 1024 * 1024)
    return {
        "DATABASE_URL": os.environ.get("LMS_DATABASE_URL", default_db),
        "BROKER_URL": os.environ.get("LMS_BROKER_URL") or None,
        "GRADING_WORKERS": _int_env("LMS_GRADING_WORKERS", 2),
        # How many reverse proxies in front of us set X-Forwarded-For/-Proto (0: none trusted).
        "TRUSTED_PROXIES": _int_env("LMS_TRUSTED_PROXIES", 0),
        "CHECK_WORK_PER_MINUTE": _int_env("LMS_CHECK_WORK_PER_MINUTE", 6),
        "SUBMISSIONS_PER_MINUTE": _int_env("LMS_SUBMISSIONS_PER_MINUTE", 10),
        "LOGIN_MAX_FAILURES": _int_env("LMS_LOGIN_MAX_FAILURES", 5),
        "LOGIN_WINDOW_SECONDS": _int_env("LMS_LOGIN_WINDOW_SECONDS", 15 * 60),
        # `lms serve` (waitress): requests handled at once, open connections (idle keep-alives
        # included; beyond it new ones wait), and seconds before an idle connection is closed.
        "SERVE_THREADS": _int_env("LMS_SERVE_THREADS", 16, low=1, high=512),
        "SERVE_CONNECTION_LIMIT": _int_env("LMS_SERVE_CONNECTION_LIMIT", 1000, low=1, high=100_000),
        "SERVE_CHANNEL_TIMEOUT": _int_env("LMS_SERVE_CHANNEL_TIMEOUT", 60, low=1, high=3600),
        # Flask rejects bigger requests with 413 before they reach a view.
        "MAX_CONTENT_LENGTH": max_upload,
        "MAX_FORM_MEMORY_SIZE": max_upload,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": _int_env("LMS_CSRF_TIME_LIMIT", 8 * 3600),
        "BABEL_DEFAULT_LOCALE": "en",
        "LANGUAGES": ("en", "fr"),
    }
