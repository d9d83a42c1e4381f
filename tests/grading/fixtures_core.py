"""Notebooks for the grading-pipeline tests: a small nbgrader exercise with every kind of cell
(read-only text, solution, visible and hidden tests, a test reading a data file, a manually
graded answer, a task), and helpers to build trainee submissions from its release."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grading import GradeJob, release_notebook

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
PS1 = SHARED / "peer" / "nbgrader-ps1"

# appears only inside the hidden tests: it must never reach a trainee
HIDDEN_MARKER = "HIDDEN_MARKER_7f3a"


def _nbgrader(grade_id: str, *, grade=False, solution=False, locked=False, points=None, task=False):
    meta: dict[str, Any] = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
    }
    if points is not None:
        meta["points"] = points
    if task:
        meta["task"] = True
    return {"nbgrader": meta}


KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


@functools.cache
def exercise_source() -> str:
    """The instructor's source notebook (JSON)."""
    cells = [
        new_markdown_cell(
            "# Adding numbers\nRead `data.txt` when asked.",
            metadata=_nbgrader("intro", locked=True),
        ),
        new_code_cell(
            "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION",
            metadata=_nbgrader("add", solution=True),
        ),
        new_code_cell(
            "assert add(1, 2) == 3\n"
            "### BEGIN HIDDEN TESTS\n"
            f"{HIDDEN_MARKER} = add(-1, 1)\n"
            f"assert {HIDDEN_MARKER} == 0, 'add fails on negatives'\n"
            "### END HIDDEN TESTS",
            metadata=_nbgrader("test_add", grade=True, points=2),
        ),
        new_code_cell(
            "assert open('data.txt').read().strip() == 'forty-two'",
            metadata=_nbgrader("test_data", grade=True, points=1),
        ),
        new_markdown_cell(
            "### BEGIN SOLUTION\nAddition is commutative.\n### END SOLUTION",
            metadata=_nbgrader("explain", grade=True, solution=True, points=2),
        ),
        new_markdown_cell(
            "Plot something.\n=== BEGIN MARK SCHEME ===\nanything goes\n=== END MARK SCHEME ===",
            metadata=_nbgrader("plot_task", locked=True, points=1, task=True),
        ),
    ]
    nb = new_notebook(
        cells=cells,
        metadata={"kernelspec": KERNELSPEC},
    )
    return nbformat.writes(nb)


DATA_FILES = {"data.txt": b"forty-two\n"}


@functools.cache
def _release_text() -> str:
    return release_notebook(exercise_source())


def release() -> dict[str, Any]:
    """The released notebook (a fresh dict, sources as strings, ready to edit)."""
    nb = json.loads(_release_text())
    for c in nb["cells"]:
        c["source"] = "".join(c["source"])
    return nb


def cell(nb: dict[str, Any], grade_id: str) -> dict[str, Any]:
    """The cell of `nb` with nbgrader id `grade_id`."""
    for c in nb["cells"]:
        if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id:
            return c
    raise KeyError(grade_id)


def submission(
    add_body: str = "    return a + b",
    explain: str | None = None,
    edit: Callable[[dict[str, Any]], None] | None = None,
) -> bytes:
    """A trainee's notebook: the release with `add` answered, then `edit` applied."""
    nb = release()
    cell(nb, "add")["source"] = f"def add(a, b):\n{add_body}"
    if explain is not None:
        cell(nb, "explain")["source"] = explain
    if edit is not None:
        edit(nb)
    return json.dumps(nb).encode()


def job(data: bytes, name: str = "submission.ipynb", timeout: float = 30.0) -> GradeJob:
    """A grading job for the fixture exercise."""
    return GradeJob(
        source=exercise_source(),
        submission=data,
        name=name,
        files=dict(DATA_FILES),
        timeout=timeout,
    )


def by_id(result) -> dict[str, Any]:
    """A result's cells by grade id."""
    return {c.grade_id: c for c in result.cells}


def copy_nb(nb: dict[str, Any]) -> dict[str, Any]:
    """A deep copy (edits in tests must not leak between cases)."""
    return copy.deepcopy(nb)
