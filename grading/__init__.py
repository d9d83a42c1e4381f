"""Atlas's grader: nbgrader-exact scores from sandboxed execution.

This package imports neither Flask nor `lms`: a job goes in, a result comes out, both typed and
JSON-serialisable, so it runs the same in-process, in a worker pool or on another machine.
"""

from grading.autograde import check_work, grade, grade_many
from grading.exercise import GradeCellInfo, SourceError, validate_source
from grading.intake import DEFAULT_MAX_SUBMISSION_BYTES
from grading.job import CellResult, GradeJob, GradeResult
from grading.release import release_folder, release_notebook

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
