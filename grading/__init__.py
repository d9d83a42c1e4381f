"""Atlas's grader: nbgrader-exact scores from sandboxed execution.

This package imports neither Flask nor `lms`: a job goes in, a result comes out, both typed and
JSON-serialisable, so it runs the same in-process, in a worker pool or on another machine.

The names below are imported on first use: `import grading.runtime` (the sandbox alone) does
not pay for nbgrader, nbconvert and nbformat, so `lms grade` can start the fork server while
the pipeline is still being imported.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from grading.lazy_imports import defer_nbgrader_extensions, defer_rfc3987_syntax

defer_rfc3987_syntax()  # before nbformat imports jsonschema (see grading/lazy_imports.py)
defer_nbgrader_extensions()  # before the first nbgrader import (same file)

if TYPE_CHECKING:
    from grading.autograde import check_work, grade, grade_many
    from grading.exercise import GradeCellInfo, SourceError, validate_source
    from grading.intake import DEFAULT_MAX_SUBMISSION_BYTES
    from grading.job import CellResult, GradeJob, GradeResult
    from grading.release import release_folder, release_notebook

_HOMES = {
    "check_work": "grading.autograde",
    "grade": "grading.autograde",
    "grade_many": "grading.autograde",
    "GradeCellInfo": "grading.exercise",
    "SourceError": "grading.exercise",
    "validate_source": "grading.exercise",
    "DEFAULT_MAX_SUBMISSION_BYTES": "grading.intake",
    "CellResult": "grading.job",
    "GradeJob": "grading.job",
    "GradeResult": "grading.job",
    "release_folder": "grading.release",
    "release_notebook": "grading.release",
}
__all__ = [
    "DEFAULT_MAX_SUBMISSION_BYTES",
    "CellResult",
    "GradeCellInfo",
    "GradeJob",
    "GradeResult",
    "SourceError",
    "check_work",
    "grade",
    "grade_many",
    "release_folder",
    "release_notebook",
    "validate_source",
]


def __getattr__(name: str) -> Any:
    """`grading.grade` and the other names of `__all__`, imported from their module once."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'grading' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups (and monkeypatching) see a plain attribute
    return value
