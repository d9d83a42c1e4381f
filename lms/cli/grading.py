"""`lms` commands: grading (`lms release`, `lms grade`), the grader's command-line contract."""

from __future__ import annotations

import json
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import click

from lms.cli import main

_NOTEBOOK = click.Path(exists=True, dir_okay=False, path_type=Path)
log = logging.getLogger(__name__)
_FAILED = (
    "The grader itself failed on this notebook ({error}); the file was not changed. Run "
    "`lms grade` on it again, and report the error if it repeats."
)


@main.command("release")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path),
    help="Released notebook (or folder, when SOURCE is a folder).",
)
@click.option(
    "--header",
    type=_NOTEBOOK,
    help="Notebook prepended to each release (nbgrader's IncludeHeaderFooter.header).",
)
def release_command(source: Path, output: Path, header: Path | None) -> None:
    """Give what trainees get from an nbgrader source notebook (or folder), like nbgrader
    generate_assignment: solutions stubbed, hidden tests removed, cells locked, checksums set."""
    from grading import SourceError, release_folder, release_notebook

    header_json = header.read_text(encoding="utf-8") if header else None
    try:
        if source.is_dir():
            written = release_folder(source, output, header_json)
            click.echo(f"Released {len(written)} notebook(s) into {output}", err=True)
        else:
            text = release_notebook(source.read_text(encoding="utf-8"), header_json)
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
            click.echo(f"Released {source} -> {output}", err=True)
    except (SourceError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{source}: {exc}") from exc


def _failed(job, max_score: float, error: BaseException):
    from grading import GradeResult

    return GradeResult(
        submission=job.name,
        status="failed",
        max_score=max_score,
        error=_FAILED.format(error=f"{type(error).__name__}: {str(error)[:300]}"),
    )


def _start_runtime(notebooks: list[bytes]) -> Future:
    """Start a sandbox runtime in the background (its fork server boots while this process
    imports the grading pipeline and reads the notebooks), preloading only the common
    libraries these notebooks import: a batch of plain-Python notebooks does not wait for
    scikit-learn."""
    from grading.runtime import Runtime
    from grading.runtime.preload import preload_for

    starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="runtime-start")
    try:
        return starter.submit(Runtime, preload=preload_for(notebooks))
    finally:
        starter.shutdown(wait=False)


def _stop_runtime(started: Future) -> None:
    """Stop the runtime `_start_runtime` started (once it has, if it did)."""
    try:
        runtime = started.result()
    except Exception:
        return  # it never started: nothing to stop (the answers said why)
    runtime.close()


def _grade_each(jobs: list, max_score: float, max_bytes: int, started: Future, feedback: bool):
    """Grade every job, in parallel up to the runtime's slots; a job the grader fails on gets a
    `failed` result instead of ending the batch (the others keep theirs). Without `feedback`,
    only the run that scores (the feedback pages are not asked for)."""
    from grading import grade
    from grading.runtime.limits import usable_cpus

    try:
        runtime = started.result()
    except Exception as error:
        log.exception("the grading runtime did not start")
        return [_failed(job, max_score, error) for job in jobs]

    def one(job):
        try:
            return grade(job, runtime, max_bytes=max_bytes, feedback=feedback)
        except Exception as error:
            log.exception("grading %s failed", job.name)
            return _failed(job, max_score, error)

    workers = min(getattr(runtime, "slots", None) or usable_cpus(), len(jobs))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, jobs))


def _table(results: list) -> str:
    rows = [("submission", "status", "score", "manual?", "flags / error")]
    for r in results:
        detail = r.error if r.status in ("rejected", "failed") else ", ".join(r.flags)
        score = f"{r.score:g} / {r.max_score:g}" if r.status == "graded" else "-"
        manual = "yes" if r.needs_manual_grade else "no"
        rows.append((r.submission, r.status, score, manual, detail or ""))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True))
        + "  "
        + row[4]
        for row in rows
    )


def _grade_files(
    source: Path,
    source_json: str,
    submissions: tuple[Path, ...],
    handed_in: list[bytes],
    started: Future,
    feedback: bool,
    *,
    timeout: float,
    budget: float | None,
    data_dir: Path | None,
    max_mb: float,
) -> list:
    """Validate the source, then grade each submission (the runtime starting meanwhile)."""
    from grading import GradeJob, SourceError, validate_source
    from grading.release import exercise_files

    try:
        max_score = sum(info.max_score for info in validate_source(source_json))
    except SourceError as exc:
        raise click.ClickException(f"{source}: {exc}") from exc
    try:
        files = exercise_files(data_dir or source.parent)
    except ValueError as exc:
        raise click.ClickException(f"{exc} (use --data).") from exc
    jobs = [
        GradeJob(
            source=source_json,
            submission=data,
            name=str(path),
            files=files,
            timeout=timeout,
            budget=budget,
        )
        for path, data in zip(submissions, handed_in, strict=True)
    ]
    return _grade_each(jobs, max_score, int(max_mb * 1024 * 1024), started, feedback)


@main.command("grade")
@click.option(
    "--source",
    "source",
    required=True,
    type=_NOTEBOOK,
    help="The instructor's nbgrader source notebook.",
)
@click.argument("submissions", nargs=-1, required=True, type=_NOTEBOOK)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Per-cell time limit in seconds (nbgrader's default is 30).",
)
@click.option(
    "--budget",
    type=click.FloatRange(min=0.1),
    default=None,
    help="Time limit of a whole notebook in seconds [default: max(60, 10 x --timeout)].",
)
@click.option(
    "--data",
    "data_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of data files placed beside each notebook [default: the source's folder].",
)
@click.option(
    "--max-mb",
    type=click.FloatRange(min=0.001),
    default=50.0,
    show_default=True,
    help="Largest submission accepted, in MB.",
)
@click.option(
    "--feedback",
    "feedback_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write each graded notebook's feedback page (HTML) into this folder.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print a JSON array, one object per submission (README: the grader's command line).",
)
def grade_command(
    source: Path,
    submissions: tuple[Path, ...],
    timeout: float,
    budget: float | None,
    data_dir: Path | None,
    max_mb: float,
    feedback_dir: Path | None,
    as_json: bool,
) -> None:
    """Grade submissions against an nbgrader source notebook, exactly as nbgrader autograde
    would, in the sandbox. Prints an answer for every submission; exits 0 when each was graded
    or rejected, 1 when the grader failed on one (its answer has status "failed")."""
    try:
        source_json = source.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{source}: {exc}") from exc
    handed_in = [path.read_bytes() for path in submissions]
    started = _start_runtime([source_json.encode(), *handed_in])
    try:
        results = _grade_files(
            source,
            source_json,
            submissions,
            handed_in,
            started,
            feedback_dir is not None,
            timeout=timeout,
            budget=budget,
            data_dir=data_dir,
            max_mb=max_mb,
        )
    finally:
        _stop_runtime(started)
    if feedback_dir is not None:
        feedback_dir.mkdir(parents=True, exist_ok=True)
        for index, result in enumerate(results):
            if result.feedback_html is not None:
                name = f"{index + 1:03d}-{Path(result.submission).stem}.html"
                (feedback_dir / name).write_text(result.feedback_html, encoding="utf-8")
    if as_json:
        click.echo(json.dumps([r.to_json() for r in results], indent=2))
    else:
        click.echo(_table(results))
    if any(r.status == "failed" for r in results):
        raise SystemExit(1)
