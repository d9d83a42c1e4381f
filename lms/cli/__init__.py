"""The `lms` command: one click group; each module below adds its own commands to it."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Atlas: skills assessment and learning platform."""


# Each module registers its commands on `main` when imported.
from lms.cli import content, grading, queue, readiness, web  # noqa: E402,F401
