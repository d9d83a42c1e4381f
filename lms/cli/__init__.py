"""The `lms` command: one click group; each module below adds its own commands to it."""

from __future__ import annotations

import click

from lms.config import ConfigError


class _AtlasGroup(click.Group):
    """Turns a malformed LMS_* setting into a one-line error instead of a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ConfigError as error:
            raise click.ClickException(str(error)) from None


@click.group(cls=_AtlasGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Atlas: skills assessment and learning platform."""


# Each module registers its commands on `main` when imported.
from lms.cli import content, grading, queue, readiness, web  # noqa: E402,F401
