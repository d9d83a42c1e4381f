"""`lms` commands: content."""

from __future__ import annotations

import json
from pathlib import Path

import click

from lms.cli import main


@main.command("check-content")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Content root holding courses/ and exercises/.",
)
@click.option(
    "--exercise",
    "only",
    multiple=True,
    metavar="SLUG",
    help="Check only this exercise (repeatable). Default: every exercise.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per exercise.")
def check_content(root: Path, only: tuple[str, ...], as_json: bool) -> None:
    """Validate the content, then release and grade every exercise in the sandbox.

    The solution must get full marks on every autograded cell and the untouched release none.
    Exits non-zero naming the exercise and the cell when either is not the case."""
    from lms.content.check import check_exercises
    from lms.content.loader import ContentError, load_content

    try:
        bundle = load_content(root)
    except ContentError as exc:
        click.echo(str(exc), err=True)
        raise click.ClickException(
            f"{len(exc.problems)} content problem(s) in {root}; fix them and run again"
        ) from None
    unknown = sorted(set(only) - set(bundle.exercises))
    if unknown:
        raise click.UsageError(f"no such exercise: {', '.join(unknown)}")
    exercises = [e for slug, e in bundle.exercises.items() if not only or slug in only]
    try:
        checks = check_exercises(exercises)
    except Exception as exc:  # the sandbox is missing or broken: say so instead of a traceback
        if type(exc).__name__ != "SandboxUnavailable":
            raise
        raise click.ClickException(f"cannot grade without the sandbox: {exc}") from None
    for check in checks:
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "exercise": check.exercise,
                        "ok": check.ok,
                        "autograded_points": check.autograded_points,
                        "solution_score": check.solution_score,
                        "release_score": check.release_score,
                        "manual_points": check.manual_points,
                        "variants": check.variants,
                        "copied_scores": check.copied_scores,
                        "problems": [str(p) for p in check.problems],
                    }
                )
            )
            continue
        status = "ok  " if check.ok else "FAIL"
        click.echo(
            f"{status} {check.exercise}: solution {check.solution_score:g}/"
            f"{check.autograded_points:g}, release {check.release_score:g}/"
            f"{check.autograded_points:g} autograded; {check.manual_points:g} manual"
            + (
                f"; {check.variants} variants, each graded; another variant's solution scores "
                + ", ".join(f"{score:g}" for score in check.copied_scores)
                if check.variants > 1
                else ""
            )
        )
        for problem in check.problems:
            click.echo(f"     {problem}")
    failed = [c.exercise for c in checks if not c.ok]
    if failed:
        raise click.ClickException(f"{len(failed)} exercise(s) failed: {', '.join(failed)}")
    if not as_json:
        click.echo(f"{len(checks)} exercise(s) checked, all passed")


@main.command("content-coverage")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Content root holding courses/ and exercises/.",
)
def content_coverage(root: Path) -> None:
    """Count, per critical skill of every role, the practice and assessment exercises.

    Also the assessment variants those assessments hold and how many exercises are in French."""
    from lms.content.coverage import coverage
    from lms.content.loader import ContentError, load_content

    try:
        bundle = load_content(root)
    except ContentError as exc:
        click.echo(str(exc), err=True)
        raise click.ClickException(f"{len(exc.problems)} content problem(s) in {root}") from None
    header = f"{'role':<22} {'critical skill':<24} practice assessments variants french"
    click.echo(header)
    for row in coverage(bundle):
        click.echo(
            f"{row.role:<22} {row.skill:<24} {len(row.practice):>8} {len(row.assessments):>11} "
            f"{row.assessment_variants:>8} {row.french:>3}/{row.exercises}"
        )
