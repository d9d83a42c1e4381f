"""`lms` commands: readiness, imported results, synthetic cohorts, snapshots, API tokens."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from lms.cli import main

if TYPE_CHECKING:
    from flask import Flask


def _app() -> Flask:
    from lms import create_app

    return create_app()


def _session(app: Flask):
    from lms.extensions import db

    return db.sessionmaker_for(app)()


@main.command("readiness")
@click.option("--role", "role_id", required=True, help="Role id from courses/roles.yml.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the only format for now).")
def readiness_command(role_id: str, as_json: bool) -> None:
    """Every trainee's readiness for ROLE, best first, with the evidence behind each skill."""
    from lms.services import role_readiness

    with _session(_app()) as session:
        ranked = role_readiness.role_readiness(session, role_id)
        if ranked is None:
            roles = ", ".join(r.id for r in role_readiness.load_roles(session)) or "none imported"
            raise click.UsageError(f"Unknown role {role_id!r}; roles: {roles}.")
    if as_json:
        # A candidate at a time, the same text as json.dump(the list, indent=1).
        sys.stdout.write("[" if ranked else "[]")
        for number, entry in enumerate(ranked):
            item = json.dumps(entry.as_json(), indent=1).replace("\n", "\n ")
            sys.stdout.write(("," if number else "") + "\n " + item)
        sys.stdout.write("\n]" if ranked else "")
        click.echo()
        return
    for entry in ranked:
        r = entry.readiness
        click.echo(
            f"{entry.trainee.email:<40} {r.score:5.2f} [{r.low:.2f}, {r.high:.2f}]  {r.status}"
        )


@main.command("clear-flags")
@click.argument("submission_id", type=int)
@click.option("--by", "by_email", required=True, help="The instructor's or admin's e-mail.")
@click.option("--note", default="", help="What the review found (kept with the clearance).")
def clear_flags_command(submission_id: int, by_email: str, note: str) -> None:
    """Let a reviewed, flagged submission (tampering, copy, ...) count toward readiness."""
    from sqlalchemy import select

    from lms.errors import DomainError
    from lms.models import User
    from lms.services.evidence_integrity import clear_flags

    with _session(_app()) as session:
        staff = session.scalar(select(User.id).where(User.email == by_email.strip().lower()))
        if staff is None:
            raise click.UsageError(f"No account {by_email!r}.")
        try:
            clear_flags(session, submission_id, staff, note)
        except DomainError as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"Submission {submission_id} cleared: it now counts toward readiness.")


@main.command("import-results")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_results_command(csv_file: Path) -> None:
    """Import graded results from another system (CSV: email, exercise, grade_id, score,
    max_score, submitted_at, kind); a file with any bad row imports nothing."""
    from lms.services.results_import import ResultsImportError, import_results

    with _session(_app()) as session:
        try:
            summary = import_results(session, csv_file.read_bytes(), csv_file.name)
        except ResultsImportError as error:
            click.echo(f"{csv_file}: nothing imported; fix these rows and retry:", err=True)
            for problem in error.problems:
                click.echo(f"  {problem}", err=True)
            sys.exit(1)
    click.echo(
        f"{csv_file}: {summary.rows} row(s): {summary.imported} imported,"
        f" {summary.already_there} already there."
    )


@main.command("seed")
@click.option("--trainees", default=500, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--months", default=6, show_default=True, type=click.IntRange(1, 36))
@click.option(
    "--seed",
    "seed_number",
    default=0,
    show_default=True,
    type=int,
    help="Random seed; also names the cohort (seed-N) and the e-mail domain.",
)
def seed_command(trainees: int, months: int, seed_number: int) -> None:
    """Create a synthetic cohort with months of graded history on the imported exercises."""
    from lms.errors import DomainError
    from lms.services.seed import seed_cohort

    with _session(_app()) as session:
        try:
            summary = seed_cohort(session, trainees, months, seed_number)
        except DomainError as error:  # the English message: the command line has no locale
            raise click.ClickException(str(error)) from None
    click.echo(
        f"Cohort {summary.cohort}: {summary.trainees} trainees, {summary.submissions}"
        f" graded submissions ({summary.cells} cells) on {summary.exercises} exercises,"
        f" {summary.snapshots} pipeline snapshots."
    )
    click.echo("Seeded trainees have no password: give one a reset link from the Accounts page.")


@main.command("snapshot-pipeline")
def snapshot_pipeline_command() -> None:
    """Store today's pipeline per role (run daily, e.g. from cron, for the history chart)."""
    from lms.models import utcnow
    from lms.services import talent

    with _session(_app()) as session:
        stored = talent.record_snapshots(session, [utcnow().date()])
    click.echo(f"Stored {stored} snapshot(s) for {utcnow().date().isoformat()}.")


@main.command("create-token")
@click.option("--email", required=True, help="A recruiter's or admin's account.")
@click.option("--name", default="", help="What the token is for (shown in lists).")
def create_token_command(email: str, name: str) -> None:
    """Create an API token for /api/v1 (printed once; only its hash is stored)."""
    from lms.errors import DomainError
    from lms.services.api_tokens import create_token

    with _session(_app()) as session:
        try:
            token, _row = create_token(session, email, name)
        except DomainError as error:
            raise click.ClickException(str(error)) from None
    click.echo(token)
