"""nbgrader's cell vocabulary, in one place: what a cell's `metadata.nbgrader` says it is.

The readers take a cell as a plain JSON dict or as nbformat's NotebookNode (a dict) alike, and
agree with `nbgrader.utils.is_grade/is_solution/is_locked/is_task` on every well-formed cell.
Unlike nbgrader's, they never raise: metadata that is missing or damaged (not a dict, a grade id
that is not a string) reads as "not an nbgrader cell", because the notebooks read here come from
trainees and may have been edited by hand. This module imports nothing else of the grader.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from typing import Any


class CellKind(enum.StrEnum):
    """The kind of a scored cell, as nbgrader's gradebook sorts them."""

    TEST = "test"  # autograder tests: `grade` without `solution`
    MANUAL = "manual"  # a manually graded answer: `grade` and `solution`
    TASK = "task"  # a manually graded task (a markdown cell the instructor scores)


# The scored cells an instructor grades by hand (the others the autograder scores).
HAND_GRADED_KINDS: tuple[CellKind, ...] = (CellKind.MANUAL, CellKind.TASK)


def nbgrader_metadata(cell: Any) -> Mapping[str, Any]:
    """The cell's `metadata.nbgrader` mapping, or an empty one when it is missing or damaged."""
    metadata = cell.get("metadata") if isinstance(cell, Mapping) else None
    nbgrader = metadata.get("nbgrader") if isinstance(metadata, Mapping) else None
    return nbgrader if isinstance(nbgrader, Mapping) else {}


def grade_id(cell: Any) -> str | None:
    """The cell's nbgrader grade id, or None when it has none (or one that is not a string)."""
    value = nbgrader_metadata(cell).get("grade_id")
    return value if isinstance(value, str) and value else None


def points(cell: Any) -> float:
    """The points the cell is worth (0 when it names none or an unusable number)."""
    value = nbgrader_metadata(cell).get("points", 0.0)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0


def is_grade(cell: Any) -> bool:
    """Whether the cell is scored (nbgrader's `grade`: tests or a manually graded answer)."""
    return bool(nbgrader_metadata(cell).get("grade", False))


def is_solution(cell: Any) -> bool:
    """Whether the cell holds the trainee's answer (nbgrader's `solution`)."""
    return bool(nbgrader_metadata(cell).get("solution", False))


def is_task(cell: Any) -> bool:
    """Whether the cell is a manually graded task (nbgrader's `task`)."""
    return bool(nbgrader_metadata(cell).get("task", False))


def is_locked(cell: Any) -> bool:
    """Whether the cell's source is restored from the source notebook at grading (as nbgrader's
    `is_locked`: grade cells that are not answers, and cells marked read-only)."""
    if is_solution(cell):
        return False
    return is_grade(cell) or bool(nbgrader_metadata(cell).get("locked", False))


def is_answer(cell: Any) -> bool:
    """Whether the trainee answers in this cell: a solution cell with a grade id."""
    return is_solution(cell) and grade_id(cell) is not None


def kind(cell: Any) -> CellKind | None:
    """The kind of a scored cell (test, manual answer or task); None for any other cell."""
    if is_task(cell):
        return CellKind.TASK
    if not is_grade(cell):
        return None
    return CellKind.MANUAL if is_solution(cell) else CellKind.TEST


def grade_ids(cells: Iterable[Any]) -> set[str]:
    """The grade ids of `cells` (cells without one are skipped)."""
    return {found for cell in cells if (found := grade_id(cell)) is not None}


def is_for_exercise(cells: Iterable[Any], exercise_grade_ids: Iterable[str]) -> bool:
    """Whether a notebook with `cells` is one for the exercise whose cells have these grade ids:
    it shares at least one of them (an exercise without grade ids accepts any notebook)."""
    expected = set(exercise_grade_ids)
    return not expected or bool(grade_ids(cells) & expected)
