"""Run and see: a trainee's notebook run in the grading sandbox for its outputs, not scored.

The notebook is the exercise's *release* (which never holds hidden tests: nbgrader's
ClearHiddenTests removed them) with the trainee's answers in its answer cells, and it is
refused if any other cell still holds a hidden-test region. It runs in the same sandbox, under
the same limits, as grading: the visible test cells through the test runner, with the failing
line explained. Code cells after `upto` do not run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from nbformat import from_dict

from grading import cells as nbcells
from grading.execution import run_code_cells
from grading.feedback import MAX_PAGE_OUTPUT_CHARS, render_outputs
from grading.sanitize import Findings

HIDDEN_TESTS = "BEGIN HIDDEN TESTS"


class NotARelease(ValueError):
    """The notebook given to run holds hidden tests outside its answer cells."""


@dataclass(frozen=True)
class CellRun:
    """One code cell that ran: its position in the notebook and its rendered outputs."""

    index: int
    execution_count: int | None
    outputs: tuple[dict[str, str], ...]


@dataclass(frozen=True)
class NotebookRun:
    """What a run shows: the code cells that ran, in order, and the sandbox's flags."""

    cells: tuple[CellRun, ...]
    flags: tuple[str, ...]


def _runtime(runtime: Any) -> Any:
    if runtime is not None:
        return runtime
    from grading.runtime import get_runtime

    return get_runtime()


def run_release(
    release: dict[str, Any],
    answers: dict[str, str],
    *,
    files: dict[str, bytes],
    timeout: float,
    upto: int | None = None,
    runtime: Any = None,
) -> NotebookRun:
    """Run the release notebook with `answers` (grade id -> source) up to cell `upto` (a
    position in the notebook; None: every cell) and return what each code cell showed."""
    nb = from_dict(json.loads(json.dumps(release)))
    for cell in nb.cells:
        source = cell.get("source", "")
        cell.source = "".join(source) if isinstance(source, list) else source
        if nbcells.is_answer(cell) and nbcells.grade_id(cell) in answers:
            cell.source = answers[nbcells.grade_id(cell)].replace("\r\n", "\n")
        elif HIDDEN_TESTS in cell.source:
            raise NotARelease("only a release notebook (without hidden tests) can be run")
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    if upto is not None:
        nb.cells = nb.cells[: upto + 1]
    tests = frozenset(
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and nbcells.is_grade(cell) and not nbcells.is_solution(cell)
    )
    findings = Findings()
    run_code_cells(
        nb,
        _runtime(runtime),
        files=files,
        timeout=timeout,
        env={},
        findings=findings,
        tests=tests,
        explain=True,
    )
    budget = MAX_PAGE_OUTPUT_CHARS
    shown = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        outputs = render_outputs(list(cell.outputs), min(budget, 40_000))
        budget -= sum(len(o.get("text", o.get("src", ""))) for o in outputs)
        shown.append(CellRun(index, cell.execution_count, tuple(outputs)))
    return NotebookRun(tuple(shown), tuple(findings.flags))
