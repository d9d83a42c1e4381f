"""Settings come from the environment, read and checked in one place; a malformed one is a
one-line error naming the variable (exit code 2), never a traceback; nothing is built at import."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lms.config import ConfigError, Settings

LMS = Path(sys.executable).with_name("lms")


def _run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    environ.update(LMS_INSTANCE_PATH=str(tmp_path / "instance"), **env)
    return subprocess.run(
        args, env=environ, capture_output=True, text=True, timeout=120, cwd=tmp_path
    )


@pytest.mark.parametrize(
    ("variable", "value", "command"),
    [
        ("LMS_GRADING_WORKERS", "abc", ["db", "upgrade"]),
        ("LMS_CELERY_VISIBILITY_TIMEOUT", "abc", ["--help"]),
        ("LMS_JOB_LEASE_SECONDS", "-1", ["doctor"]),
    ],
)
def test_a_bad_setting_is_one_line_naming_it_with_exit_code_2(
    tmp_path, variable, value, command
) -> None:
    result = _run([str(LMS), *command], tmp_path, **{variable: value})
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith(f"Error: {variable}={value!r}") and "set" in lines[0]
    assert result.stdout == ""


def test_the_cli_runner_sees_the_same_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LMS_GRADING_WORKERS", "two")
    result = CliRunner().invoke(main_command(), ["db", "upgrade"])
    assert result.exit_code == 2
    assert "LMS_GRADING_WORKERS='two' is not a whole number" in result.output
    assert "Traceback" not in result.output


def main_command():
    """`lms`, imported here so the import itself is part of what the tests cover."""
    from lms.cli import main

    return main


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("LMS_GRADING_WORKERS", "0", "out of range"),
        ("LMS_GRADING_WORKERS", "100000", "out of range"),
        ("LMS_TRUSTED_PROXIES", "-1", "out of range"),
        ("LMS_MAX_UPLOAD_BYTES", "1.5", "not a whole number"),
        ("LMS_REDISPATCH_SECONDS", "nan", "positive number of seconds"),
        ("LMS_REDISPATCH_SECONDS", "inf", "positive number of seconds"),
        ("LMS_CELERY_VISIBILITY_TIMEOUT", "0", "positive number of seconds"),
        ("LMS_COOKIE_SECURE", "yes", "must be 1 (on) or 0 (off)"),
        ("LMS_LOG_FORMAT", "xml", "must be one of json, text"),
    ],
)
def test_every_setting_is_range_checked(tmp_path, variable, value, says) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"LMS_INSTANCE_PATH": str(tmp_path), variable: value})
    assert str(raised.value).startswith(f"{variable}={value!r}") and says in str(raised.value)


def test_defaults_and_derived_settings(tmp_path) -> None:
    settings = Settings.from_env({"LMS_INSTANCE_PATH": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'atlas.sqlite'}"
    assert settings.backend == "embedded" and settings.grading_workers == 2
    assert settings.flask_config()["MAX_CONTENT_LENGTH"] == 5 * 1024 * 1024
    scaled = Settings.from_env(
        {
            "LMS_INSTANCE_PATH": str(tmp_path),
            "LMS_BROKER_URL": "redis://h:6379/0",
            "LMS_CELERY_VISIBILITY_TIMEOUT": "120",
            "LMS_LOG_FORMAT": "TEXT",
        }
    )
    # The lease follows the visibility timeout unless set on its own.
    assert scaled.backend == "celery" and scaled.job_lease_seconds == 120.0
    assert scaled.log_format == "text"
    with pytest.raises(AttributeError):
        scaled.grading_workers = 3  # type: ignore[misc]  # frozen


def test_the_celery_settings_derive_from_the_settings(tmp_path) -> None:
    from lms.queue.celery_app import CelerySettings

    settings = Settings.from_env(
        {
            "LMS_INSTANCE_PATH": str(tmp_path),
            "LMS_BROKER_URL": "redis://h:1/2",
            "LMS_JOB_LEASE_SECONDS": "30",
            "LMS_BROKER_KEY_PREFIX": "atlas-a:",
        }
    )
    celery = CelerySettings.from_settings(settings)
    assert (celery.broker_url, celery.database_url) == ("redis://h:1/2", settings.database_url)
    assert (celery.lease_seconds, celery.key_prefix) == (30.0, "atlas-a:")


_FRESH_INTERPRETER = """
import os, sys
os.environ["LMS_GRADING_WORKERS"] = "abc"
os.environ["LMS_CELERY_VISIBILITY_TIMEOUT"] = "abc"
import {first}
import lms, lms.cli, lms.web.ops, lms.queue, lms.queue.celery_app, lms.queue.health
import lms.queue.celery_backend, lms.services.grading_jobs, lms.services.queue_ops
print("imported")
"""


@pytest.mark.parametrize("first", ["lms.queue.celery_app", "lms.cli"])
def test_importing_any_module_reads_no_setting(tmp_path, first) -> None:
    # Bad values everywhere: any import that reads settings (or builds a Celery app) fails.
    result = _run([sys.executable, "-c", _FRESH_INTERPRETER.format(first=first)], tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == "imported", result.stderr


_EMBEDDED_WEB = """
import sys
from lms import create_app
import lms.web.ops
app = create_app({"TESTING": True, "SECRET_KEY": "k"})
client = app.test_client()
client.get("/admin/ops/")
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("celery", "kombu"))
print(loaded or "none")
"""


def test_an_embedded_web_process_never_imports_celery(tmp_path) -> None:
    result = _run([sys.executable, "-c", _EMBEDDED_WEB], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "none"


def test_the_celery_app_is_built_on_first_use_and_found_by_celery(tmp_path) -> None:
    script = (
        "import sys, lms.queue.celery_app as m\n"
        "from celery import Celery\n"
        "from celery.app.utils import find_app\n"
        "assert m._default_app is None\n"
        "found = find_app('lms.queue.celery_app')\n"
        "assert isinstance(found, Celery) and found is m.celery is m.app\n"
        "assert 'lms.grade_job' in found.tasks\n"
        "print(found.conf.broker_url)\n"
    )
    result = _run([sys.executable, "-c", script], tmp_path, LMS_BROKER_URL="redis://h:9/3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "redis://h:9/3"
