"""The grading pipeline: nbgrader's autograde, step by step, with sandboxed execution.

intake   bytes -> notebook, or a rejection the trainee understands    (grading/intake.py)
sanitize ClearOutput, DeduplicateIds, OverwriteKernelspec,
         OverwriteCells, CheckCellMetadata; tampering -> flags         (grading/sanitize.py)
execute  every code cell in the sandboxed runtime, with
         NBGRADER_EXECUTION set as nbgrader sets it                    (grading/execution.py)
limit    nbgrader's LimitOutput
score    utils.determine_grade, as SaveAutoGrades and the gradebook    (grading/scoring.py)
feedback HTML from a second run with the visible tests only           (grading/feedback.py)

Test cells run through the sandbox's test runner (grading/runtime/verdict.py), outside IPython's
hooks; their scores come from its verdicts, never from outputs trainee code could publish.

Flags (GradeResult.flags; GradeResult.notes has a sentence for each):
tampered:<id>             an instructor's cell was edited, re-typed, un-graded or had its role
                          or points changed; restored from the source and scored from it
deleted:<id>              an instructor's cell is missing; a grade cell then scores 0
duplicate:<id>            a cell appears twice; the last copy is graded (nbgrader's rule)
unknown-cell:<id>         a cell claims an nbgrader id the exercise does not have; ignored
invalid-metadata:cell-N   damaged nbgrader metadata on the Nth cell; ignored
invalid-result:<id>       a test produced a partial-credit value nbgrader rejects; scores 0
tampered-runtime:<name>   trainee code replaced something the tests rely on (a library
                          function, a builtin, a module, a name a test reads); those tests score 0
introspection:<id>        code inspected the running test (frames, gc, tracing, ctypes); scores 0
<kind>:<id|cell-N>        a runtime CellIssue (timeout, budget, memory, died, output-limit,
                          cpu-time, file-size, processes, sandbox, forged) on a cell, or
                          `<kind>:notebook`
protocol-violation:<what> the sandbox's reports were broken (README: Threat model); the run
                          stopped there and unreported cells score 0
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import PurePath
from typing import Any

from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import LimitOutput

from grading.execution import run_code_cells
from grading.exercise import Exercise, load_exercise
from grading.feedback import render_feedback
from grading.gradebook import Version
from grading.intake import DEFAULT_MAX_SUBMISSION_BYTES, Rejected, read_submission
from grading.job import CellResult, GradeJob, GradeResult, TestCheck
from grading.runtime.limits import usable_cpus
from grading.sanitize import sanitize
from grading.scoring import notebook_totals, score_cells
from grading.wording import localized_notes, notebook_language

log = logging.getLogger(__name__)
_UNFORESEEN = (
    "Atlas could not prepare this notebook for grading (the problem has been logged). Download "
    "the exercise notebook again, copy your answers into it and submit that file; if this "
    "happens again, tell your instructor."
)


def _runtime(runtime: Any) -> Any:
    if runtime is not None:
        return runtime
    from grading.runtime import get_runtime  # started lazily: only grading needs a sandbox

    return get_runtime()


def _rejected(job: GradeJob, exercise: Exercise, reason: str) -> GradeResult:
    return GradeResult(
        submission=job.name,
        status="rejected",
        score=0.0,
        max_score=sum(info.max_score for info in exercise.grade_cells),
        needs_manual_grade=False,
        error=reason,
        job_id=job.job_id,
    )


def _notebook_json(nb: NotebookNode) -> str:
    # plain JSON rather than nbformat.writes: trainee outputs need not pass nbformat's schema
    return json.dumps(nb, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def _test_positions(nb: NotebookNode, exercise: Exercise) -> frozenset[int]:
    """Positions of the code cells the sandbox's test runner runs: the exercise's test cells."""
    tests = {i.grade_id for i in exercise.grade_cells if i.kind == "test" and i.cell_type == "code"}
    return frozenset(
        index
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade_id") in tests
    )


def _execute(
    nb: NotebookNode,
    exercise: Exercise,
    job: GradeJob,
    runtime: Any,
    execution: str,
    findings: Any,
    explain: bool = False,
) -> dict[str, dict | None]:
    """Run the sanitized notebook; the test runner's verdicts by grade id (with `explain`, a
    failed test's verdict says why: only for a run the trainee may see)."""
    verdicts = run_code_cells(
        nb,
        runtime,
        files=job.files,
        timeout=job.timeout,
        env={"NBGRADER_EXECUTION": execution},
        findings=findings,
        tests=_test_positions(nb, exercise),
        budget=job.budget,
        explain=explain,
    )
    return {nb.cells[p].metadata.nbgrader["grade_id"]: v for p, v in verdicts.items()}


def _process(
    job: GradeJob,
    runtime: Any,
    *,
    version: Version,
    execution: str,
    max_bytes: int,
    feedback: bool = True,
) -> GradeResult:
    exercise = load_exercise(job.source)
    title = PurePath(job.name).stem or "notebook"
    # A graded run is never asked why a test failed (explaining runs code again, in a child,
    # and takes time): what the trainee reads comes from a second run of its own, alongside.
    # A check scores nothing that counts, so its one run explains too.
    graded = version == "source"
    # Without feedback nobody reads what the trainee would see: no second run, no page.
    shows = graded and feedback
    try:
        nb = read_submission(job.submission, exercise, max_bytes)
        language = notebook_language(nb)  # the feedback page speaks the notebook's language
        visible_nb = copy.deepcopy(nb) if shows else None
        nb, findings = sanitize(nb, exercise, version, title)
        if visible_nb is not None:
            visible_nb, visible_findings = sanitize(visible_nb, exercise, "release", title)
    except Rejected as exc:
        return _rejected(job, exercise, str(exc))
    except Exception:  # a trainee's file must get an answer, even one we failed to foresee
        log.exception("could not sanitize submission %s", job.name)
        return _rejected(job, exercise, _UNFORESEEN)
    rt = _runtime(runtime)
    with ThreadPoolExecutor(max_workers=1) as second:
        # What the trainee sees comes from a second run of their notebook with the visible
        # tests only (alongside, in another sandbox); the run here, which holds the hidden
        # tests, yields the points and nothing else, and is left alone to yield them.
        visible_run = (
            second.submit(
                _execute, visible_nb, exercise, job, rt, execution, visible_findings, True
            )
            if visible_nb is not None
            else None
        )
        verdicts = _execute(nb, exercise, job, rt, execution, findings, not graded)
        visible_verdicts = visible_run.result() if visible_run is not None else verdicts
    nb, _ = LimitOutput()(nb, {})
    cells = score_cells(nb, exercise, findings, verdicts)
    score, max_score, needs_manual_grade = notebook_totals(cells)
    result = GradeResult(
        submission=job.name,
        status="graded",
        score=score,
        max_score=max_score,
        needs_manual_grade=needs_manual_grade,
        cells=tuple(cells),
        flags=tuple(findings.flags),
        error=None,
        graded_notebook=_notebook_json(nb),
        job_id=job.job_id,
        notes=tuple(findings.notes),
        hidden_points=sum(i.max_score for i in exercise.grade_cells if i.has_hidden_tests),
    )
    if graded and not feedback:
        return result
    if visible_nb is None:
        # a check: the run that scored (visible tests only) is the run the trainee may see
        shown, shown_findings = nb, findings
        visible_cells = cells
    else:
        shown, _ = LimitOutput()(visible_nb, {})
        shown_findings = visible_findings
        visible_cells = score_cells(shown, exercise, visible_findings, visible_verdicts)
    shown_notes = shown_findings.notes
    if language != "en":
        shown_notes = localized_notes(shown_findings.entries, language, exercise.graded_ids)
    page = render_feedback(
        shown,
        exercise,
        cells,
        title=title,
        notes=shown_notes,
        deleted=findings.deleted,
        language=language,
    )
    return dataclasses.replace(
        result,
        feedback_html=page,
        checks=test_checks(exercise, visible_cells, visible_verdicts),
        shown_flags=tuple(shown_findings.flags),
    )


def test_checks(
    exercise: Exercise, visible_cells: list[CellResult], visible_verdicts: dict[str, dict | None]
) -> tuple[TestCheck, ...]:
    """What the trainee may read about each test cell, from the run with visible tests only."""
    scored = {c.grade_id: c for c in visible_cells}
    checks = []
    for info in exercise.grade_cells:
        if info.kind != "test" or info.cell_type != "code" or info.grade_id not in scored:
            continue
        verdict = visible_verdicts.get(info.grade_id)
        result = scored[info.grade_id]
        if verdict is None:
            visible = "not-run"
        else:
            visible = "passed" if result.score >= result.max_score else "failed"
        explained = (verdict or {}).get("explain") if visible == "failed" else None
        checks.append(
            TestCheck(
                grade_id=info.grade_id,
                visible=visible,
                has_hidden=info.has_hidden_tests,
                **(
                    {k: explained[k] for k in ("line", "code", "ename", "evalue", "compare")}
                    if explained
                    else {}
                ),
            )
        )
    return tuple(checks)


def grade(
    job: GradeJob,
    runtime: Any = None,
    *,
    max_bytes: int = DEFAULT_MAX_SUBMISSION_BYTES,
    feedback: bool = True,
) -> GradeResult:
    """Grade one submission as nbgrader's autograde would (hidden tests restored), in the sandbox.

    A file that is not this exercise's notebook gives `status="rejected"`; a bad *source* raises
    grading.SourceError, and a failing sandbox raises too (the job should be retried). With
    `feedback=False` (nobody will read what the trainee sees) the run with the visible tests
    only is skipped: no feedback page, checks or shown flags; scores, flags and notes are the
    same."""
    return _process(
        job,
        runtime,
        version="source",
        execution="autograde",
        max_bytes=max_bytes,
        feedback=feedback,
    )


def check_work(
    job: GradeJob, runtime: Any = None, *, max_bytes: int = DEFAULT_MAX_SUBMISSION_BYTES
) -> GradeResult:
    """Run the trainee's notebook against the visible tests only (the released test cells), as
    nbgrader's validate would: what the trainee could check themselves, never hidden tests."""
    return _process(job, runtime, version="release", execution="validate", max_bytes=max_bytes)


def grade_many(
    jobs: list[GradeJob],
    runtime: Any = None,
    *,
    max_bytes: int = DEFAULT_MAX_SUBMISSION_BYTES,
    workers: int | None = None,
    feedback: bool = True,
) -> list[GradeResult]:
    """Grade a batch, in parallel up to the cores (the runtime is thread-safe); results in order.
    `feedback` as for `grade`."""
    if not jobs:
        return []
    rt = _runtime(runtime)
    workers = workers or getattr(rt, "slots", None) or usable_cpus()
    with ThreadPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        return list(
            pool.map(lambda job: grade(job, rt, max_bytes=max_bytes, feedback=feedback), jobs)
        )
