"""Scores as nbgrader's gradebook holds them after `autograde`.

Per grade cell, nbgrader's SaveAutoGrades stores `auto_score` from `utils.determine_grade` and sets
`needs_manual_grade` when there is no auto score; `Grade.score` is the auto score, or 0 when there
is none. Task cells get a Grade row that SaveAutoGrades never touches, so they keep the defaults:
no score (0) and `needs_manual_grade` true. A notebook's score and max score are the sums over its
grade and task cells, and it needs manual grading when any of them does. Scores always come from
the exercise's cells (restored from the source), never from what the trainee's metadata claims.

A test cell's score comes from the sandbox's test runner (grading/runtime/verdict.py), never
from outputs trainee code could publish: nbgrader's rules applied to the runner's verdict (an
error or a write to stderr scores 0; the last expression's value gives partial credit through
nbgrader's own `get_partial_grade`), and 0 when the runner found the runtime tampered with or
the test introspected, or when the cell did not finish.
"""

from __future__ import annotations

from nbformat.notebooknode import NotebookNode
from nbgrader import utils as nbgrader_utils

from grading.exercise import Exercise
from grading.job import CellResult
from grading.sanitize import Findings


def _cells_by_id(nb: NotebookNode) -> dict[str, NotebookNode]:
    return {
        c.metadata.nbgrader["grade_id"]: c
        for c in nb.cells
        if "nbgrader" in c.metadata and "grade_id" in c.metadata.nbgrader
    }


def _has_error(cell: NotebookNode) -> bool:
    return any(o.get("output_type") == "error" for o in cell.get("outputs", []))


def _test_score(
    grade_id: str, cell: NotebookNode, verdict: dict | None, max_score: float, findings: Findings
) -> float:
    """nbgrader's determine_grade for a test cell, read from the runner's verdict."""
    if verdict is None:
        return 0.0  # the cell did not finish (its flag says why)
    for label in verdict["tampered"]:
        findings.add(
            f"tampered-runtime:{label}",
            f"Trainee code changed '{label}', which the tests rely on; the tests run after the "
            "change score 0.",
        )
    if verdict["introspection"]:
        findings.add(
            f"introspection:{grade_id}",
            f"Code inspected the running test of cell '{grade_id}' "
            f"({', '.join(sorted(set(verdict['introspection'])))}); it scores 0.",
        )
    if verdict["tampered"] or verdict["introspection"]:
        return 0.0
    if verdict["status"] != "ok" or verdict["stderr"] or _has_error(cell):
        return 0.0
    if verdict["result"] is None:
        return max_score
    output = {"data": {"text/plain": verdict["result"]}}
    try:
        return float(nbgrader_utils.get_partial_grade(output, max_score))
    except (ValueError, KeyError, TypeError):
        findings.add(
            f"invalid-result:{grade_id}",
            f"Cell '{grade_id}' produced a result that is not a valid score; it scores 0.",
        )
        return 0.0


def score_cells(
    nb: NotebookNode,
    exercise: Exercise,
    findings: Findings,
    verdicts: dict[str, dict | None] | None = None,
) -> list[CellResult]:
    """One CellResult per grade and task cell of the exercise, in the exercise's order; test
    cells are scored from `verdicts` (by grade id) when given, else from their outputs."""
    cells = _cells_by_id(nb)
    results = []
    for info in exercise.grade_cells:
        cell = cells.get(info.grade_id)
        if info.kind == "task":
            # deleted or not, a task is judged by a person on the whole notebook
            results.append(CellResult(info.grade_id, 0.0, info.max_score, True, "task"))
            continue
        if cell is None or info.grade_id in findings.deleted:
            results.append(CellResult(info.grade_id, 0.0, info.max_score, False, info.kind))
            continue
        if info.kind == "test" and info.cell_type == "code" and verdicts is not None:
            score = _test_score(
                info.grade_id, cell, verdicts.get(info.grade_id), info.max_score, findings
            )
            results.append(CellResult(info.grade_id, score, info.max_score, False, info.kind))
            continue
        try:
            auto_score, _ = nbgrader_utils.determine_grade(cell)
        except (ValueError, KeyError, TypeError):
            # nbgrader raises on partial credit above the cell's points or a malformed result;
            # trainee code can fake such a result, so it earns nothing
            findings.add(
                f"invalid-result:{info.grade_id}",
                f"Cell '{info.grade_id}' produced a result that is not a valid score; it scores 0.",
            )
            auto_score = 0.0
        needs_manual_grade = auto_score is None
        score = 0.0 if auto_score is None else float(auto_score)
        results.append(
            CellResult(info.grade_id, score, info.max_score, needs_manual_grade, info.kind)
        )
    return results


def notebook_totals(cells: list[CellResult]) -> tuple[float, float, bool]:
    """(score, max_score, needs_manual_grade) of a notebook, as nbgrader's SubmittedNotebook."""
    return (
        sum(c.score for c in cells),
        sum(c.max_score for c in cells),
        any(c.needs_manual_grade for c in cells),
    )
