"""The `lms` command: one click group; each module below adds its own commands to it.

A command's module is imported only when that command runs (or its own --help is asked for):
`lms --help` lists every command from `COMMANDS` without importing Flask, SQLAlchemy, nbgrader
or Celery, so the command line answers at once. A test keeps `COMMANDS` equal to the commands.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from lms.config import ConfigError, Settings

#: Each command: the module that defines it, and the first sentence of its help (for the list).
COMMANDS: dict[str, tuple[str, str]] = {
    "build-assets": (
        "lms.cli.assets",
        "Install the browser packages (npm ci in frontend/) and bundle the code editor.",
    ),
    "check-content": (
        "lms.cli.content",
        "Validate the content, then release and grade every exercise in the sandbox.",
    ),
    "clear-flags": (
        "lms.cli.readiness",
        "Let a reviewed, flagged submission (tampering, copy, ...) count toward readiness.",
    ),
    "content-coverage": (
        "lms.cli.content",
        "Count, per critical skill of every role, the practice and assessment exercises.",
    ),
    "create-token": (
        "lms.cli.readiness",
        "Create an API token for /api/v1 (printed once; only its hash is stored).",
    ),
    "create-user": (
        "lms.cli.web",
        "Create an account; prints the generated password unless one is given on stdin.",
    ),
    "db": ("lms.cli.web", "Database schema."),
    "demo": (
        "lms.cli.web",
        "Migrate, import courses/ and exercises/, create one account per role, and serve.",
    ),
    "doctor": (
        "lms.cli.queue",
        "Check the database, the queue backend, its workers and the sandbox; say what to fix.",
    ),
    "grade": (
        "lms.cli.grading",
        "Grade submissions against an nbgrader source notebook, exactly as nbgrader autograde "
        "would, in the sandbox.",
    ),
    "import": (
        "lms.cli.web",
        "Validate courses/ and exercises/ under ROOT and upsert them by slug.",
    ),
    "import-results": (
        "lms.cli.readiness",
        "Import graded results from another system (CSV: email, exercise, grade_id, score, "
        "max_score, submitted_at, kind); a file with any bad row imports nothing.",
    ),
    "readiness": (
        "lms.cli.readiness",
        "Every trainee's readiness for ROLE, best first, with the evidence behind each skill.",
    ),
    "release": (
        "lms.cli.grading",
        "Give what trainees get from an nbgrader source notebook (or folder), like nbgrader "
        "generate_assignment: solutions stubbed, hidden tests removed, cells locked, checksums "
        "set.",
    ),
    "requeue": (
        "lms.cli.queue",
        "Send again to the broker the jobs queued in the database (e.g. after a broker outage).",
    ),
    "seed": (
        "lms.cli.readiness",
        "Create a synthetic cohort with months of graded history on the imported exercises.",
    ),
    "serve": (
        "lms.cli.web",
        "Serve with waitress and the embedded grading workers (run `lms db upgrade` first).",
    ),
    "snapshot-pipeline": (
        "lms.cli.readiness",
        "Store today's pipeline per role (run daily, e.g. from cron, for the history chart).",
    ),
    "worker": (
        "lms.cli.queue",
        "Grade jobs from LMS_BROKER_URL, reading everything from LMS_DATABASE_URL.",
    ),
}


class BadSetting(click.ClickException):
    """A malformed LMS_* setting: one line on stderr and exit code 2, never a traceback."""

    exit_code = 2


class _AtlasGroup(click.Group):
    """Loads a command's module on first use; checks every LMS_* setting before any command (or
    --help) runs, and again on use."""

    def make_context(self, info_name: str | None, args: list[str], **extra: Any) -> click.Context:
        """Validate the settings first, so a bad value is named even for `lms --help`."""
        try:
            Settings.from_env()
        except ConfigError as error:
            raise BadSetting(str(error)) from None
        return super().make_context(info_name, args, **extra)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command, without importing any of them."""
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command, its module imported now (importing it registers it on `main`)."""
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            importlib.import_module(COMMANDS[cmd_name][0])
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of `lms --help`, from COMMANDS (nothing imported)."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in COMMANDS:
                listed = click.Command(name, help=COMMANDS[name][1])  # click's own shortening
                rows.append((name, listed.get_short_help_str(limit)))
            else:  # added by a plug-in or a test, already imported
                rows.append((name, self.commands[name].get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> object:
        """Run the command; a ConfigError it raises becomes the same one-line error."""
        try:
            return super().invoke(ctx)
        except ConfigError as error:
            raise BadSetting(str(error)) from None


@click.group(cls=_AtlasGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Atlas: skills assessment and learning platform."""
