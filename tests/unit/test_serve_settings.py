"""`lms serve`'s connection limit, threads and timeouts are settings, checked and given to
waitress (whose own Adjustments validate them here, as `waitress.serve` would)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from waitress.adjustments import Adjustments

from lms.cli import main
from lms.cli.web import waitress_options
from lms.config import ConfigError, Settings


def test_defaults_hold_a_cohort_of_hundreds(tmp_path, monkeypatch) -> None:
    for name in ("LMS_SERVE_THREADS", "LMS_SERVE_CONNECTION_LIMIT", "LMS_SERVE_CHANNEL_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    adjustments = Adjustments(**waitress_options(Settings.from_env().flask_config()))
    assert adjustments.connection_limit >= 500  # waitress's own 100 made user 101 wait ~2 min
    assert adjustments.threads > 4
    assert adjustments.channel_timeout < 120
    assert adjustments.asyncore_use_poll  # select() stops at 1024 sockets


def test_the_environment_sets_what_waitress_gets(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LMS_SERVE_THREADS", "24")
    monkeypatch.setenv("LMS_SERVE_CONNECTION_LIMIT", "2500")
    monkeypatch.setenv("LMS_SERVE_CHANNEL_TIMEOUT", "15")
    config = Settings.from_env().flask_config()
    adjustments = Adjustments(**waitress_options(config))
    assert (adjustments.threads, adjustments.connection_limit, adjustments.channel_timeout) == (
        24,
        2500,
        15,
    )
    assert Adjustments(**waitress_options(config, threads=3)).threads == 3  # --threads wins


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("LMS_SERVE_THREADS", "0", "out of range"),
        ("LMS_SERVE_CONNECTION_LIMIT", "-5", "out of range"),
        ("LMS_SERVE_CHANNEL_TIMEOUT", "ten", "not a whole number"),
    ],
)
def test_a_bad_value_names_the_variable(tmp_path, monkeypatch, name, value, says) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=says) as raised:
        Settings.from_env().flask_config()
    assert name in str(raised.value)
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path / "instance"))
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code != 0 and name in result.output and "Traceback" not in result.output
