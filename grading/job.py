"""The grader's typed, JSON-serialisable job and result.

These frozen dataclasses are all that crosses the boundary between the web application (or a
Celery worker, or the command line) and the grader, so a job can be graded in-process, in a worker
pool or on another machine.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

# failed: the grader itself could not grade this submission (it is kept; `error` says why).
Status = Literal["graded", "rejected", "failed"]


@dataclass(frozen=True)
class GradeJob:
    """One submission to grade against one source notebook.

    `source` is the instructor's nbgrader source notebook (JSON text), `submission` the trainee's
    file exactly as received (bytes: it may not even be text), `files` the exercise's data files
    placed beside the notebook when it runs, `timeout` the per-cell wall-clock limit in seconds,
    `budget` the whole notebook's (None: max(60, 10 x timeout)).
    """

    source: str
    submission: bytes
    name: str = "submission.ipynb"
    files: dict[str, bytes] = field(default_factory=dict)
    timeout: float = 30.0
    job_id: str | None = None
    budget: float | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable form (bytes as base64)."""
        return {
            "source": self.source,
            "submission": base64.b64encode(self.submission).decode("ascii"),
            "name": self.name,
            "files": {k: base64.b64encode(v).decode("ascii") for k, v in self.files.items()},
            "timeout": self.timeout,
            "job_id": self.job_id,
            "budget": self.budget,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GradeJob:
        """The inverse of `to_json`."""
        return cls(
            source=data["source"],
            submission=base64.b64decode(data["submission"]),
            name=data.get("name", "submission.ipynb"),
            files={k: base64.b64decode(v) for k, v in data.get("files", {}).items()},
            timeout=float(data.get("timeout", 30.0)),
            job_id=data.get("job_id"),
            budget=None if data.get("budget") is None else float(data["budget"]),
        )


@dataclass(frozen=True)
class CellResult:
    """The score of one grade cell (or task cell), as nbgrader computes it."""

    grade_id: str
    score: float
    max_score: float
    needs_manual_grade: bool
    kind: str = "test"  # test | manual | task


@dataclass(frozen=True)
class TestCheck:
    """What the trainee may read about one test cell, all from the run with the visible tests
    only: whether those passed (passed | failed | not-run), whether the cell also holds hidden
    tests (their text never comes here), and for a failure the test's line, the error and,
    for a comparison, both sides (`compare`: op, left, right, expected: left | right)."""

    grade_id: str
    visible: str
    has_hidden: bool = False
    line: int | None = None
    code: str | None = None
    ename: str | None = None
    evalue: str | None = None
    compare: dict[str, str] | None = None


@dataclass(frozen=True)
class GradeResult:
    """What the grader answers for one submission (the `lms grade --json` object)."""

    submission: str
    status: Status
    score: float = 0.0
    max_score: float = 0.0
    needs_manual_grade: bool = False
    cells: tuple[CellResult, ...] = ()
    flags: tuple[str, ...] = ()
    error: str | None = None
    feedback_html: str | None = None
    graded_notebook: str | None = None  # executed notebook JSON, hidden tests included: staff only
    job_id: str | None = None
    notes: tuple[str, ...] = ()  # one sentence per flag, for people (staff view and feedback)
    checks: tuple[TestCheck, ...] = ()  # per test cell, from the visible run: the trainee's
    hidden_points: float = 0.0  # points of the test cells that also hold hidden tests
    # The flags of the run the trainee may see (visible tests only): `flags` also come from the
    # run that held the hidden tests, and `timeout:test_x` there says where they are.
    shown_flags: tuple[str, ...] = ()

    def to_json(self, *, include_artifacts: bool = False) -> dict[str, Any]:
        """The `lms grade --json` object (README); artifacts (feedback, notebook) only if asked."""
        data = asdict(self)
        data["cells"] = [asdict(c) for c in self.cells]
        data["flags"] = list(self.flags)
        data["notes"] = list(self.notes)
        data["checks"] = [asdict(c) for c in self.checks]
        data["shown_flags"] = list(self.shown_flags)
        if not include_artifacts:
            for key in (
                "feedback_html",
                "graded_notebook",
                "job_id",
                "notes",
                "checks",
                "hidden_points",
                "shown_flags",
            ):
                data.pop(key)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GradeResult:
        """The inverse of `to_json(include_artifacts=True)`."""
        cells = tuple(CellResult(**c) for c in data.get("cells", []))
        return cls(
            submission=data["submission"],
            status=data["status"],
            score=data.get("score", 0.0),
            max_score=data.get("max_score", 0.0),
            needs_manual_grade=data.get("needs_manual_grade", False),
            cells=cells,
            flags=tuple(data.get("flags", [])),
            error=data.get("error"),
            feedback_html=data.get("feedback_html"),
            graded_notebook=data.get("graded_notebook"),
            job_id=data.get("job_id"),
            notes=tuple(data.get("notes", [])),
            checks=tuple(TestCheck(**c) for c in data.get("checks", [])),
            hidden_points=data.get("hidden_points", 0.0),
            shown_flags=tuple(data.get("shown_flags", [])),
        )
