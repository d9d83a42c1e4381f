"""Settings come from the environment; a malformed one is a clear error, not a traceback."""

from __future__ import annotations

from click.testing import CliRunner

from lms.cli import main


def test_a_malformed_number_setting_names_the_variable(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("LMS_GRADING_WORKERS", "two")
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 1
    assert "LMS_GRADING_WORKERS='two' is not a whole number" in result.output
    assert "Traceback" not in result.output
