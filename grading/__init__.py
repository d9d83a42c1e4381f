"""Atlas's grader: nbgrader-exact scores from sandboxed execution.

This package imports neither Flask nor `lms`: a job goes in, a result comes out, both typed and
JSON-serialisable, so it runs the same in-process, in a worker pool or on another machine.
"""

from grading.lazy_imports import defer_nbgrader_extensions, defer_rfc3987_syntax

defer_rfc3987_syntax()  # before nbformat imports jsonschema (see grading/lazy_imports.py)
defer_nbgrader_extensions()  # before the first nbgrader import (same file)

from grading.autograde import check_work, grade, grade_many  # noqa: E402
from grading.exercise import GradeCellInfo, SourceError, validate_source  # noqa: E402
from grading.intake import DEFAULT_MAX_SUBMISSION_BYTES  # noqa: E402
from grading.job import CellResult, GradeJob, GradeResult  # noqa: E402
from grading.release import release_folder, release_notebook  # noqa: E402

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
