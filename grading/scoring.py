"""Scores as nbgrader's gradebook holds them after `autograde`.

Per grade cell, nbgrader's SaveAutoGrades stores `auto_score` from `utils.determine_grade` and sets
`needs_manual_grade` when there is no auto score; `Grade.score` is the auto score, or 0 when there
is none. Task cells get a Grade row that SaveAutoGrades never touches, so they keep the defaults:
no score (0) and `needs_manual_grade` true. A notebook's score and max score are the sums over its
grade and task cells, and it needs manual grading when any of them does. Scores always come from
the exercise's cells (restored from the source), never from what the trainee's metadata claims.
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


def score_cells(nb: NotebookNode, exercise: Exercise, findings: Findings) -> list[CellResult]:
    """One CellResult per grade and task cell of the exercise, in the exercise's order."""
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
