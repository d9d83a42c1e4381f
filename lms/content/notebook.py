"""Checking an nbgrader source notebook and listing its grade cells.

The grader (`grading.validate_source`) is the authority on what a valid source notebook is; this
module only turns its verdict into a problem an author can locate (a line in the notebook file).
"""

from __future__ import annotations

import json
import re

from grading import GradeCellInfo, SourceError, validate_source


class NotebookProblem(Exception):
    """The source notebook is invalid; `grade_id` names the cell concerned when known."""

    def __init__(self, message: str, grade_id: str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.grade_id = grade_id
        self.line = line


def line_of_grade_id(source_json: str, grade_id: str) -> int | None:
    """The 1-based line of a grade cell's `"grade_id": "..."` in the notebook text, if found."""
    pattern = re.compile(r'"grade_id"\s*:\s*' + re.escape(json.dumps(grade_id)))
    for number, text in enumerate(source_json.splitlines(), start=1):
        if pattern.search(text):
            return number
    return None


def grade_cells_of(source_json: str) -> list[GradeCellInfo]:
    """The grade cells of an nbgrader source notebook; raise NotebookProblem when it is invalid."""
    try:
        json.loads(source_json)
    except json.JSONDecodeError as exc:
        raise NotebookProblem(
            f"the notebook is not valid JSON: {exc.msg}", line=exc.lineno
        ) from None
    try:
        return validate_source(source_json)
    except SourceError as exc:
        grade_id = getattr(exc, "grade_id", None)
        line = line_of_grade_id(source_json, grade_id) if grade_id else None
        raise NotebookProblem(str(exc), grade_id=grade_id, line=line) from None
