"""nbgrader's autograde sanitizing, with every act of tampering recorded as a flag.

nbgrader sanitizes a submission with ClearOutput, DeduplicateIds, OverwriteKernelspec,
OverwriteCells and CheckCellMetadata. We run the same preprocessors (fed from the exercise, see
grading/gradebook.py), after a repair step for what would make nbgrader crash or be fooled: nbgrader
metadata that is not a dict, a test cell re-marked as a solution (which nbgrader would leave to
manual grading), points that are not numbers, grade ids the exercise does not have, and test cells
whose nbgrader metadata was removed. The instructor's version always wins; `Findings` says what
the trainee changed.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

from nbformat.notebooknode import NotebookNode, from_dict
from nbformat.v4 import upgrade as upgrade_v4
from nbgrader.nbgraderformat import ValidationError as NbgraderValidationError
from nbgrader.preprocessors import CheckCellMetadata, ClearOutput, DeduplicateIds

from grading.exercise import Exercise
from grading.gradebook import (
    CellChange,
    ExerciseGradebook,
    OverwriteCellsFromExercise,
    OverwriteKernelspecFromExercise,
    Version,
)
from grading.intake import Rejected

_ROLES = ("grade", "solution", "task")


@dataclass
class Findings:
    """What sanitizing (and later running) found: machine-readable flags, human-readable notes."""

    flags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    deleted: set[str] = field(default_factory=set)
    # each (flag, note) once: the feedback page says a note again in French from its flag
    entries: list[tuple[str, str]] = field(default_factory=list)

    def add(self, flag: str, note: str) -> None:
        """Record `flag` once, and the sentence explaining it."""
        if flag not in self.flags:
            self.flags.append(flag)
        if (flag, note) not in self.entries:
            self.entries.append((flag, note))
        if note not in self.notes:
            self.notes.append(note)


def cell_label(nb: NotebookNode, index: int) -> str:
    """How flags name a cell: its nbgrader grade id, else `cell-N` (N counts from 1)."""
    grade_id = nb.cells[index].metadata.get("nbgrader", {}).get("grade_id")
    return grade_id if isinstance(grade_id, str) and grade_id else f"cell-{index + 1}"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _repair_metadata(nb: NotebookNode, exercise: Exercise, findings: Findings) -> None:
    """Give every known nbgrader cell the released metadata, keeping `locked` and `points` as
    submitted (when well-formed) so that OverwriteCells can see and report their changes."""
    for index, cell in enumerate(nb.cells):
        if "nbgrader" not in cell.metadata:
            continue
        meta = cell.metadata["nbgrader"]
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        released = exercise.release_nbgrader.get(grade_id) if isinstance(grade_id, str) else None
        if released is None:
            del cell.metadata["nbgrader"]
            if not isinstance(meta, dict):
                findings.add(
                    f"invalid-metadata:cell-{index + 1}",
                    f"Cell {index + 1} had damaged nbgrader metadata; it was ignored.",
                )
            elif any(meta.get(k) for k in (*_ROLES, "locked")):
                label = grade_id if isinstance(grade_id, str) else f"cell-{index + 1}"
                findings.add(
                    f"unknown-cell:{label}",
                    f"Cell {index + 1} claims to be nbgrader cell '{label}', which this exercise "
                    "does not have; it was treated as an ordinary cell.",
                )
            continue
        repaired = copy.deepcopy(released)
        changed_roles = [k for k in _ROLES if bool(meta.get(k, False)) != bool(released.get(k))]
        if changed_roles:
            findings.add(
                f"tampered:{grade_id}",
                f"Cell '{grade_id}': its nbgrader role ({', '.join(changed_roles)}) was changed; "
                "the exercise's version was used.",
            )
        if isinstance(meta.get("locked"), bool):
            repaired["locked"] = meta["locked"]
        if "points" in released:
            if _is_number(meta.get("points")):
                repaired["points"] = meta["points"]
            else:
                findings.add(
                    f"tampered:{grade_id}",
                    f"Cell '{grade_id}': its points were changed to {meta.get('points')!r}; "
                    f"the exercise's {float(released['points'])} was used.",
                )
        cell.metadata["nbgrader"] = from_dict(repaired)


def _upgrade_to_cell_ids(nb: NotebookNode) -> None:
    """Give a notebook of nbformat 4.0-4.4 cell ids, as nbformat's own upgrade does: nbgrader's
    OverwriteCells validates a re-typed cell against the 4.5 schema, which requires one (stock
    nbgrader crashes on such a notebook). Nothing else of the notebook changes."""
    minor = nb.get("nbformat_minor")
    if isinstance(minor, int) and minor < 5:
        upgrade_v4(nb, from_version=4, from_minor=minor)
        nb.metadata.pop("orig_nbformat_minor", None)


def _same_text(a: str, b: str) -> bool:
    """Equal but for whitespace: a cell retyped by hand rarely keeps every space and newline."""
    return "".join(a.split()) == "".join(b.split())


def _restore_ungraded(nb: NotebookNode, exercise: Exercise, findings: Findings) -> None:
    """Find cells of the exercise whose nbgrader metadata was removed (same cell id, or the same
    text as the released or source version) and give it back."""
    present = {c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata}
    for grade_id, released in exercise.release_nbgrader.items():
        if grade_id in present:
            continue
        texts = {exercise.release_cells[grade_id].source, exercise.source_cells[grade_id].source}
        cell_id = exercise.release_cell_ids.get(grade_id)
        for cell in nb.cells:
            if "nbgrader" in cell.metadata:
                continue
            retyped = any(_same_text(cell.source, text) for text in texts)
            if (cell_id is not None and cell.get("id") == cell_id) or retyped:
                cell.metadata["nbgrader"] = from_dict(copy.deepcopy(released))
                findings.add(
                    f"tampered:{grade_id}",
                    f"Cell '{grade_id}': its nbgrader metadata was removed; it was restored.",
                )
                break


def _flag_duplicates(nb: NotebookNode, findings: Findings) -> None:
    seen: set[str] = set()
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is None:
            continue
        if grade_id in seen:
            findings.add(
                f"duplicate:{grade_id}",
                f"Cell '{grade_id}' appears more than once; only the last copy was graded.",
            )
        seen.add(grade_id)


def _describe(change: CellChange) -> str:
    what = {
        "cell_type": f"its type was changed from {change.expected} to {change.found}",
        "locked": "its read-only status was changed",
        "points": f"its points were changed from {change.expected} to {change.found}",
        "checksum": "its content was edited",
    }.get(change.attribute, f"its {change.attribute} was changed")
    return f"Cell '{change.grade_id}': {what}; the exercise's version was used."


def _record_changes(
    changes: list[CellChange], exercise: Exercise, version: Version, findings: Findings
) -> None:
    for change in changes:
        released = exercise.release_cells.get(change.grade_id)
        # A test cell whose hidden tests are restored differs from the source but not from the
        # release: that is the trainee's untouched cell, not tampering.
        if (
            change.attribute == "checksum"
            and version == "source"
            and released is not None
            and change.found == released.checksum
        ):
            continue
        findings.add(f"tampered:{change.grade_id}", _describe(change))


class CheckCellMetadataRemembered(CheckCellMetadata):
    """nbgrader's CheckCellMetadata, remembering the notebooks it found valid.

    Its verdict depends only on each cell's type and nbgrader metadata, and after OverwriteCells
    those are the exercise's own for every honest submission of it; re-checking them costs
    ~50 ms a notebook, as jsonschema re-validates its schema for every cell."""

    _valid: ClassVar[set[tuple[tuple[str, str], ...]]] = set()
    _limit: ClassVar[int] = 4096

    def preprocess(
        self, nb: NotebookNode, resources: dict[str, Any]
    ) -> tuple[NotebookNode, dict[str, Any]]:
        """Validate as nbgrader does, unless these cells were already found valid."""
        key = tuple(
            (c.cell_type, json.dumps(c.metadata["nbgrader"], sort_keys=True))
            for c in nb.cells
            if "nbgrader" in c.metadata
        )
        if key in self._valid:
            return nb, resources
        nb, resources = super().preprocess(nb, resources)
        if len(self._valid) >= self._limit:
            self._valid.clear()
        self._valid.add(key)
        return nb, resources


def _drop_cleared_metadata(nb: NotebookNode) -> None:
    """DeduplicateIds empties the metadata of all but the last copy of a cell; nbgrader's own
    CheckCellMetadata would then reject the notebook, so the emptied dicts go."""
    for cell in nb.cells:
        if cell.metadata.get("nbgrader") == {}:
            del cell.metadata["nbgrader"]


def sanitize(
    nb: NotebookNode, exercise: Exercise, version: Version = "source", name: str = "notebook"
) -> tuple[NotebookNode, Findings]:
    """nbgrader's sanitize step on a submission: outputs cleared, the instructor's cells
    restored (with hidden tests for `version="source"`), tampering recorded in the findings."""
    findings = Findings()
    _upgrade_to_cell_ids(nb)
    _repair_metadata(nb, exercise, findings)
    _restore_ungraded(nb, exercise, findings)
    _flag_duplicates(nb, findings)

    resources: dict[str, Any] = {
        "nbgrader": {"notebook": name, "assignment": "atlas", "student": "", "db_url": ""}
    }
    gradebook = ExerciseGradebook(exercise, version)
    overwrite = OverwriteCellsFromExercise(gradebook)
    nb, resources = ClearOutput()(nb, resources)
    nb, resources = DeduplicateIds()(nb, resources)
    _drop_cleared_metadata(nb)
    nb, resources = OverwriteKernelspecFromExercise(gradebook)(nb, resources)
    nb, resources = overwrite(nb, resources)
    _record_changes(overwrite.changes, exercise, version, findings)
    try:
        nb, resources = CheckCellMetadataRemembered()(nb, resources)
    except NbgraderValidationError:
        raise Rejected(
            "The notebook's grading information is damaged beyond repair. Download the exercise "
            "notebook again, copy your answers into it and submit that file."
        ) from None

    present = {c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata}
    for grade_id in exercise.release_nbgrader:
        if grade_id not in present:
            findings.deleted.add(grade_id)
            findings.add(
                f"deleted:{grade_id}",
                f"Cell '{grade_id}' was deleted from the notebook"
                + (" and scores 0." if grade_id in exercise.graded_ids else "."),
            )
    return nb, findings
