"""Checking an nbgrader source notebook and listing its grade cells.

The grader (`grading.validate_source`) is the authority on what a valid source notebook is; the
minimal check below is only used when the grader does not provide it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from lms.content.model import GradeCell


class NotebookProblem(Exception):
    """The source notebook is invalid; `grade_id` names the cell concerned when known."""

    def __init__(self, message: str, grade_id: str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.grade_id = grade_id
        self.line = line


def _grader_validate() -> tuple[Callable[[str], list[Any]], type[Exception]] | None:
    try:
        from grading import SourceError, validate_source
    except ImportError:  # an older grader without validate_source: use the minimal check
        return None
    return validate_source, SourceError


def line_of_grade_id(source_json: str, grade_id: str) -> int | None:
    """The 1-based line of a grade cell's `"grade_id": "..."` in the notebook text, if found."""
    pattern = re.compile(r'"grade_id"\s*:\s*' + re.escape(json.dumps(grade_id)))
    for number, text in enumerate(source_json.splitlines(), start=1):
        if pattern.search(text):
            return number
    return None


def grade_cells_of(source_json: str) -> list[Any]:
    """The grade cells of an nbgrader source notebook; raise NotebookProblem when it is invalid."""
    try:
        json.loads(source_json)
    except json.JSONDecodeError as exc:
        raise NotebookProblem(
            f"the notebook is not valid JSON: {exc.msg}", line=exc.lineno
        ) from None
    grader = _grader_validate()
    if grader is None:
        return _minimal_grade_cells(source_json)
    validate, source_error = grader
    try:
        return list(validate(source_json))
    except source_error as exc:
        grade_id = getattr(exc, "grade_id", None)
        line = line_of_grade_id(source_json, grade_id) if grade_id else None
        raise NotebookProblem(str(exc), grade_id=grade_id, line=line) from None


def _minimal_grade_cells(source_json: str) -> list[GradeCell]:
    import nbformat

    try:
        nb = nbformat.reads(source_json, as_version=nbformat.NO_CONVERT)
    except Exception as exc:  # noqa: BLE001 - nbformat raises several unrelated types
        raise NotebookProblem(f"not a readable notebook: {exc}") from None
    if nb.get("nbformat") != 4:
        raise NotebookProblem("the notebook must be nbformat 4 (save it with Jupyter >= 4)")
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        raise NotebookProblem(f"the notebook does not match nbformat 4: {exc.message}") from None
    cells: list[GradeCell] = []
    seen: set[str] = set()
    for index, cell in enumerate(nb.cells, start=1):
        meta = cell.metadata.get("nbgrader")
        if not meta:
            continue
        grade_id = meta.get("grade_id")
        is_grade = bool(meta.get("grade"))
        is_task = bool(meta.get("task"))
        if not grade_id:
            if is_grade or is_task or meta.get("solution") or meta.get("locked"):
                raise NotebookProblem(f"cell {index} has nbgrader metadata but no grade_id")
            continue
        line = line_of_grade_id(source_json, grade_id)
        if grade_id in seen:
            raise NotebookProblem(f"grade_id {grade_id!r} is used by two cells", grade_id, line)
        seen.add(grade_id)
        if not (is_grade or is_task):
            continue
        points = meta.get("points")
        if not isinstance(points, int | float) or isinstance(points, bool) or points < 0:
            raise NotebookProblem(
                f"grade cell {grade_id!r} needs 'points' (a number >= 0)", grade_id, line
            )
        if is_task:
            kind = "task"
        elif cell.cell_type == "code" and not meta.get("solution"):
            kind = "test"
        else:
            kind = "manual"
        cells.append(GradeCell(grade_id=grade_id, kind=kind, max_score=float(points)))
    return cells
