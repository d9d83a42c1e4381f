"""`lms build-assets` without Node: the pages keep their plain textareas, unless it is required."""

from __future__ import annotations

from click.testing import CliRunner

from lms.cli import assets, main


def test_without_npm_it_says_so_and_succeeds_unless_required(monkeypatch) -> None:
    monkeypatch.setattr(assets.shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    relaxed = CliRunner().invoke(main, ["build-assets"])
    assert relaxed.exit_code == 0, relaxed.output
    assert "npm is not installed" in relaxed.output and "plain text boxes" in relaxed.output
    required = CliRunner().invoke(main, ["build-assets", "--require"])
    assert required.exit_code == 1 and "apt-get install -y nodejs npm" in required.output
    monkeypatch.setenv("CI", "true")  # CI must build the editor: the e2e tests use it
    assert CliRunner().invoke(main, ["build-assets"]).exit_code == 1
