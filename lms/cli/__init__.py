"""The `lms` command: one click group; each module below adds its own commands to it."""

from __future__ import annotations

from typing import Any

import click

from lms.config import ConfigError, Settings


class BadSetting(click.ClickException):
    """A malformed LMS_* setting: one line on stderr and exit code 2, never a traceback."""

    exit_code = 2


class _AtlasGroup(click.Group):
    """Checks every LMS_* setting before any command (or --help) runs, and again on use."""

    def make_context(self, info_name: str | None, args: list[str], **extra: Any) -> click.Context:
        """Validate the settings first, so a bad value is named even for `lms --help`."""
        try:
            Settings.from_env()
        except ConfigError as error:
            raise BadSetting(str(error)) from None
        return super().make_context(info_name, args, **extra)

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; a ConfigError it raises becomes the same one-line error."""
        try:
            return super().invoke(ctx)
        except ConfigError as error:
            raise BadSetting(str(error)) from None


@click.group(cls=_AtlasGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Atlas: skills assessment and learning platform."""


# Each module registers its commands on `main` when imported.
from lms.cli import content, grading, queue, readiness, web  # noqa: E402,F401
