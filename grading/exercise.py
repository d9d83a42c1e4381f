"""An nbgrader source notebook, prepared once: its release and what nbgrader's gradebook would hold.

`prepare_exercise` runs nbgrader's own `generate_assignment` preprocessor chain on the source. Where
nbgrader's chain has `SaveCells` (which writes the cells into its gradebook database), ours has
`RecordCells`, which writes them into the `resources` dict instead; a second `RecordCells` at the
end records the released version of each cell. The result, `Exercise`, is the gradebook that the
grading pipeline feeds to nbgrader's `OverwriteCells` (see grading/gradebook.py).
"""

from __future__ import annotations

import copy
import functools
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader import utils as nbgrader_utils
from nbgrader.nbgraderformat import MetadataValidator, SchemaTooNewError, SchemaTooOldError
from nbgrader.nbgraderformat import ValidationError as NbgraderValidationError
from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearHiddenTests,
    ClearMarkScheme,
    ClearOutput,
    ClearSolutions,
    ComputeChecksums,
    IncludeHeaderFooter,
    LockCells,
    NbGraderPreprocessor,
)

# nbgrader's InstantiateTests expands these with a live (unsandboxed) kernel; we don't run one.
AUTOTEST_DELIMITER = "AUTOTEST"


class SourceError(ValueError):
    """The source notebook cannot be used as an exercise; the message says why and what to do."""


@dataclass(frozen=True)
class GradeCellInfo:
    """One scored cell of a source notebook: a test, a manually graded answer or a task."""

    grade_id: str
    kind: str  # test | manual | task
    cell_type: str
    max_score: float
    has_hidden_tests: bool = False


@dataclass(frozen=True)
class SourceCell:
    """What nbgrader's gradebook keeps of a cell (its `SourceCell` row)."""

    name: str
    cell_type: str
    locked: bool
    source: str
    checksum: str | None


@dataclass(frozen=True)
class Exercise:
    """A prepared source notebook: the release and nbgrader's view of every nbgrader cell."""

    release: NotebookNode  # never mutate: copy first
    kernelspec: dict[str, Any]
    # the version nbgrader's SaveCells stores: solutions cleared, hidden tests still in
    source_cells: MappingProxyType[str, SourceCell]
    # the version trainees get: hidden tests and mark schemes removed too
    release_cells: MappingProxyType[str, SourceCell]
    grade_cells: tuple[GradeCellInfo, ...]  # grade and task cells, in notebook order
    release_cell_ids: MappingProxyType[str, str]  # grade_id -> nbformat cell id, where present
    release_nbgrader: MappingProxyType[str, dict[str, Any]]  # grade_id -> released metadata

    def grade_cell(self, grade_id: str) -> GradeCellInfo:
        """The grade or task cell called `grade_id` (KeyError if none)."""
        for info in self.grade_cells:
            if info.grade_id == grade_id:
                return info
        raise KeyError(grade_id)

    @property
    def graded_ids(self) -> frozenset[str]:
        """Ids of the grade and task cells."""
        return frozenset(info.grade_id for info in self.grade_cells)


class RecordCells(NbGraderPreprocessor):
    """Record nbgrader cells into `resources['atlas'][key]`, as nbgrader's SaveCells records them
    into its gradebook (same fields, same selection of cells)."""

    def __init__(self, key: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.key = key

    def preprocess(
        self, nb: NotebookNode, resources: dict[str, Any]
    ) -> tuple[NotebookNode, dict[str, Any]]:
        """Record the cells, then pass the notebook on unchanged."""
        resources.setdefault("atlas", {})[self.key] = {}
        return super().preprocess(nb, resources)

    def preprocess_cell(
        self, cell: NotebookNode, resources: dict[str, Any], index: int
    ) -> tuple[NotebookNode, dict[str, Any]]:
        """Keep what SaveCells._create_source_cell keeps, for the cells SaveCells keeps."""
        u = nbgrader_utils
        if u.is_grade(cell) or u.is_solution(cell) or u.is_locked(cell) or u.is_task(cell):
            name = cell.metadata.nbgrader["grade_id"]
            resources["atlas"][self.key][name] = SourceCell(
                name=name,
                cell_type=cell.cell_type,
                locked=u.is_locked(cell),
                source=cell.source,
                checksum=cell.metadata.nbgrader.get("checksum"),
            )
        return cell, resources


def _release_chain(header_path: str | None) -> list[NbGraderPreprocessor]:
    """nbgrader 0.9.6 GenerateAssignment.preprocessors, with RecordCells in place of SaveCells."""
    header = IncludeHeaderFooter(header=header_path) if header_path else IncludeHeaderFooter()
    return [
        header,
        LockCells(),
        ClearSolutions(),
        ClearOutput(),
        CheckCellMetadata(),
        ComputeChecksums(),
        RecordCells("source"),
        ClearHiddenTests(),
        ClearMarkScheme(),
        ComputeChecksums(),
        CheckCellMetadata(),
        RecordCells("release"),
    ]


def read_source(source_json: str) -> NotebookNode:
    """Parse and check a source notebook the way nbgrader reads one (nbformat 4, valid nbgrader
    metadata, no AUTOTEST directives); raise SourceError saying what is wrong."""
    try:
        nb = nbformat.reads(source_json, as_version=4)
    except Exception as exc:  # nbformat raises a zoo of types for bad JSON / bad notebooks
        raise SourceError(
            f"The source is not a readable Jupyter notebook ({exc}). "
            "Save it again from Jupyter and retry."
        ) from exc
    if nb.get("nbformat") != 4:
        raise SourceError("The source notebook must be nbformat 4; open and save it in Jupyter.")
    try:
        MetadataValidator().validate_nb(nb)
    except (SchemaTooOldError, SchemaTooNewError) as exc:
        raise SourceError(
            f"The source's nbgrader metadata has the wrong schema version ({exc}); "
            "run `nbgrader update` on it first."
        ) from exc
    except Exception as exc:  # jsonschema and nbgrader errors alike
        raise SourceError(f"The source's nbgrader metadata is invalid: {exc}") from exc
    for cell in nb.cells:
        if cell.cell_type == "code" and AUTOTEST_DELIMITER in cell.source:
            raise SourceError(
                "The source uses nbgrader AUTOTEST directives, which Atlas does not expand; "
                "write the test code out in the cell instead."
            )
    return nb


@contextmanager
def _header_file(header_json: str | None) -> Iterator[str | None]:
    """IncludeHeaderFooter reads its header from a path, so give it one."""
    if header_json is None:
        yield None
        return
    fd, path = tempfile.mkstemp(suffix=".ipynb")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(header_json)
        yield path
    finally:
        os.unlink(path)


def _grade_cells(
    nb: NotebookNode, source_cells: dict[str, SourceCell], release_cells: dict[str, SourceCell]
) -> list[GradeCellInfo]:
    """The scored cells of the (released) notebook, in order, as nbgrader's gradebook sees them."""
    infos = []
    for cell in nb.cells:
        u = nbgrader_utils
        if not (u.is_grade(cell) or u.is_task(cell)):
            continue
        grade_id = cell.metadata.nbgrader["grade_id"]
        if u.is_task(cell):
            kind = "task"
        elif u.is_solution(cell):
            kind = "manual"
        else:
            kind = "test"
        infos.append(
            GradeCellInfo(
                grade_id=grade_id,
                kind=kind,
                cell_type=cell.cell_type,
                max_score=float(cell.metadata.nbgrader.get("points", 0.0)),
                # only ClearHiddenTests changes a grade cell between the two records
                has_hidden_tests=kind != "task"
                and source_cells[grade_id].source != release_cells[grade_id].source,
            )
        )
    return infos


def prepare_exercise(source_json: str, header_json: str | None = None) -> Exercise:
    """Run nbgrader's generate_assignment chain on a source notebook; raise SourceError if the
    source is not usable."""
    nb = read_source(source_json)
    resources: dict[str, Any] = {"nbgrader": {}, "atlas": {}}
    with _header_file(header_json) as header_path:
        try:
            for preprocessor in _release_chain(header_path):
                nb, resources = preprocessor(nb, resources)
        except (RuntimeError, ValueError, NbgraderValidationError, KeyError) as exc:
            raise SourceError(f"nbgrader cannot release this source notebook: {exc}") from exc
    source_cells = resources["atlas"]["source"]
    release_cells = resources["atlas"]["release"]
    grade_cells = _grade_cells(nb, source_cells, release_cells)
    if not grade_cells:
        raise SourceError(
            "The source notebook has no graded cells (no nbgrader tests, manually graded "
            "answers or tasks); mark at least one cell with the nbgrader toolbar."
        )
    recorded = [
        c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") in release_cells
    ]
    cell_ids = {c.metadata.nbgrader["grade_id"]: c["id"] for c in recorded if "id" in c}
    release_nbgrader = {
        c.metadata.nbgrader["grade_id"]: copy.deepcopy(dict(c.metadata.nbgrader)) for c in recorded
    }
    return Exercise(
        release=nb,
        kernelspec=dict(nb.metadata.get("kernelspec", {})),
        source_cells=MappingProxyType(source_cells),
        release_cells=MappingProxyType(release_cells),
        grade_cells=tuple(grade_cells),
        release_cell_ids=MappingProxyType(cell_ids),
        release_nbgrader=MappingProxyType(release_nbgrader),
    )


@functools.lru_cache(maxsize=64)
def load_exercise(source_json: str) -> Exercise:
    """`prepare_exercise`, cached by source text: one exercise is graded many times."""
    return prepare_exercise(source_json)


def validate_source(source_json: str) -> list[GradeCellInfo]:
    """The grade cells of a source notebook; raises SourceError saying what is wrong with it."""
    return list(load_exercise(source_json).grade_cells)
