"""`lms` commands: assets — the browser code editor, bundled from npm packages by esbuild."""

from __future__ import annotations

import os
import shutil
import subprocess

import click

from lms.cli import main
from lms.config import REPO_ROOT

FRONTEND = REPO_ROOT / "frontend"
# Where the frontend's `npm run build` writes the bundle (a package data file, never committed).
BUNDLE = REPO_ROOT / "lms" / "static" / "editor.bundle.js"
WITHOUT_EDITOR = "answer cells stay plain text boxes (the pages work the same)"


@main.command("build-assets")
@click.option(
    "--require/--no-require",
    default=lambda: os.environ.get("CI") == "true",
    help="Fail without npm or frontend/ instead of leaving plain text boxes [default: under CI].",
)
def build_assets(require: bool) -> None:
    """Install the browser packages (npm ci in frontend/) and bundle the code editor."""
    npm = shutil.which("npm")
    if not (FRONTEND / "package.json").is_file():
        _without(f"{FRONTEND / 'package.json'} is missing (not a source checkout)", require)
        return
    if npm is None:
        _without(
            "npm is not installed; install Node.js 18+ and npm (apt-get install -y nodejs npm) "
            "and run `lms build-assets` again",
            require,
        )
        return
    install = ["ci", "--no-audit", "--no-fund", "--loglevel=error"]
    for step in (install, ["run", "--silent", "build"]):
        click.echo(f"npm {' '.join(step)}  (in {FRONTEND})")
        done = subprocess.run([npm, *step], cwd=FRONTEND, check=False)
        if done.returncode != 0:
            raise click.ClickException(
                f"`npm {step[0]}` failed (exit {done.returncode}); see its output above. "
                f"Until it succeeds, {WITHOUT_EDITOR}."
            )
    click.echo(f"Built {BUNDLE} ({BUNDLE.stat().st_size // 1024} KiB).")


def _without(reason: str, require: bool) -> None:
    message = f"No code editor built: {reason}. Until then, {WITHOUT_EDITOR}."
    if require:
        raise click.ClickException(message)
    click.echo(message, err=True)
