"""nbgrader's sanitizing preprocessors, fed from a prepared `Exercise`, not nbgrader's database.

nbgrader's `OverwriteCells` and `OverwriteKernelspec` open nbgrader's `Gradebook` (an SQL database
built by `generate_assignment`) to look up the instructor's version of each cell. Here they get
`ExerciseGradebook`, a small read-only object that answers the same three questions from an
`Exercise`; everything else they do is nbgrader's own code. Tampering that `OverwriteCells`
notices reaches us through its own extension point, `report_change`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from nbformat.notebooknode import NotebookNode
from nbgrader.api import MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor, OverwriteCells, OverwriteKernelspec

from grading.exercise import Exercise, SourceCell

# "source": hidden tests restored (autograde); "release": what the trainee has (check my work)
Version = Literal["source", "release"]


@dataclass(frozen=True)
class GradedCellRow:
    """nbgrader's GradeCell row: what OverwriteCells reads (`max_score`)."""

    name: str
    max_score: float
    cell_type: str


@dataclass(frozen=True)
class NotebookRow:
    """nbgrader's Notebook row: what OverwriteKernelspec reads (`kernelspec`, JSON text)."""

    name: str
    kernelspec: str


@dataclass(frozen=True)
class CellChange:
    """One attribute of an instructor's cell that the submission changed (OverwriteCells saw it)."""

    grade_id: str
    attribute: str  # cell_type | locked | points | checksum
    expected: Any
    found: Any


class ExerciseGradebook:
    """The part of nbgrader's `Gradebook` API that its sanitizing preprocessors use, read from an
    `Exercise` (one notebook, so the notebook and assignment names are ignored)."""

    def __init__(self, exercise: Exercise, version: Version = "source") -> None:
        self.exercise = exercise
        self.cells = exercise.source_cells if version == "source" else exercise.release_cells

    def find_source_cell(self, name: str, notebook: str, assignment: str) -> SourceCell:
        """The instructor's version of cell `name` (MissingEntry if the exercise has none)."""
        try:
            return self.cells[name]
        except KeyError:
            raise MissingEntry(f"No such source cell: {name}") from None

    def find_graded_cell(self, name: str, notebook: str, assignment: str) -> GradedCellRow:
        """The grade (or task) cell `name`, with its max score."""
        try:
            info = self.exercise.grade_cell(name)
        except KeyError:
            raise MissingEntry(f"No such graded cell: {name}") from None
        return GradedCellRow(name=name, max_score=info.max_score, cell_type=info.cell_type)

    def find_notebook(self, name: str, assignment: str) -> NotebookRow:
        """The notebook row (its kernelspec)."""
        return NotebookRow(name=name, kernelspec=json.dumps(self.exercise.kernelspec))


class OverwriteCellsFromExercise(OverwriteCells):
    """nbgrader's OverwriteCells reading an ExerciseGradebook, recording what it changes."""

    def __init__(self, gradebook: ExerciseGradebook, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._exercise_gradebook = gradebook
        self.changes: list[CellChange] = []

    def preprocess(
        self, nb: NotebookNode, resources: dict[str, Any]
    ) -> tuple[NotebookNode, dict[str, Any]]:
        """OverwriteCells.preprocess without its database connection (missing cells are ours)."""
        self.notebook_id = resources["nbgrader"]["notebook"]
        self.assignment_id = resources["nbgrader"]["assignment"]
        self.gradebook = self._exercise_gradebook
        return NbGraderPreprocessor.preprocess(self, nb, resources)

    def report_change(self, name: str, attr: str, old: Any, new: Any) -> None:
        """Record the change instead of only logging it."""
        self.changes.append(CellChange(grade_id=name, attribute=attr, expected=old, found=new))


class OverwriteKernelspecFromExercise(OverwriteKernelspec):
    """nbgrader's OverwriteKernelspec reading an ExerciseGradebook."""

    def __init__(self, gradebook: ExerciseGradebook, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._exercise_gradebook = gradebook

    def preprocess(
        self, nb: NotebookNode, resources: dict[str, Any]
    ) -> tuple[NotebookNode, dict[str, Any]]:
        """Put the source's kernelspec on the submission, as nbgrader does."""
        row = self._exercise_gradebook.find_notebook(resources["nbgrader"]["notebook"], "")
        kernelspec = json.loads(row.kernelspec)
        if kernelspec:
            nb.metadata["kernelspec"] = kernelspec
        return nb, resources
