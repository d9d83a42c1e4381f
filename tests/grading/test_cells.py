"""grading.cells: nbgrader's cell vocabulary, equal to nbgrader's own readers, never raising."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbgrader import utils as nbgrader_utils

from grading import cells
from grading.cells import CellKind

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(
    [*REPO.glob("exercises/*/*.ipynb"), *REPO.glob("tests/fixtures/**/*.ipynb")], key=str
)


def _cell(**nbgrader: object) -> dict:
    return {"cell_type": "code", "metadata": {"nbgrader": nbgrader}, "source": "", "outputs": []}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO)))
def test_the_readers_agree_with_nbgrader_on_every_notebook_we_ship(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        assert cells.is_grade(cell) == bool(nbgrader_utils.is_grade(cell))
        assert cells.is_solution(cell) == bool(nbgrader_utils.is_solution(cell))
        assert cells.is_locked(cell) == bool(nbgrader_utils.is_locked(cell))
        assert cells.is_task(cell) == bool(nbgrader_utils.is_task(cell))
        if nbgrader_utils.is_grade(cell):
            assert cells.points(cell) == float(cell.metadata.nbgrader["points"])
        if "nbgrader" in cell.metadata:
            assert cells.grade_id(cell) == cell.metadata.nbgrader.get("grade_id")
    # The same readers on the plain JSON dict (what the web app holds) give the same answers.
    plain = json.loads(nbformat.writes(notebook))
    assert [cells.kind(c) for c in plain["cells"]] == [cells.kind(c) for c in notebook.cells]
    assert [cells.is_answer(c) for c in plain["cells"]] == [
        cells.is_answer(c) for c in notebook.cells
    ]


def test_the_shipped_notebooks_have_every_kind_of_scored_cell() -> None:
    kinds = {
        cells.kind(cell) for path in NOTEBOOKS for cell in nbformat.read(path, as_version=4).cells
    }
    assert {CellKind.TEST, CellKind.MANUAL} <= kinds  # the agreement above is not vacuous


def test_the_kind_of_a_scored_cell() -> None:
    assert cells.kind(_cell(grade=True, solution=False, grade_id="t", points=1)) is CellKind.TEST
    assert cells.kind(_cell(grade=True, solution=True, grade_id="m", points=2)) is CellKind.MANUAL
    task = {"cell_type": "markdown", "metadata": {"nbgrader": {"task": True, "grade_id": "k"}}}
    assert cells.kind(task) is CellKind.TASK
    assert cells.kind(_cell(solution=True, grade_id="answer")) is None  # an autograded answer
    assert cells.kind(_cell(locked=True, grade_id="readonly")) is None
    assert set(cells.HAND_GRADED_KINDS) == {"manual", "task"}  # the strings stored in the DB


@pytest.mark.parametrize(
    "damaged",
    [
        "not a cell",
        {"cell_type": "code"},
        {"metadata": None},
        {"metadata": ["nbgrader"]},
        {"metadata": {"nbgrader": "solution"}},
        {"metadata": {"nbgrader": None}},
        {"metadata": {"nbgrader": {"grade_id": 7, "solution": True, "points": "lots"}}},
        {"metadata": {"nbgrader": {"grade_id": "", "grade": True, "points": float("nan")}}},
    ],
)
def test_damaged_metadata_reads_as_no_answer_and_never_raises(damaged: object) -> None:
    assert cells.grade_id(damaged) is None
    assert not cells.is_answer(damaged)
    assert cells.points(damaged) == 0.0
    assert cells.grade_ids([damaged]) == set()


def test_an_answer_needs_a_grade_id() -> None:
    assert cells.is_answer(_cell(solution=True, grade_id="squares"))
    assert not cells.is_answer(_cell(solution=True))
    assert not cells.is_answer(_cell(grade=True, grade_id="test_squares"))


def test_a_notebook_is_for_an_exercise_when_it_shares_a_grade_id() -> None:
    exercise = {"squares", "test_squares"}
    ours = [_cell(solution=True, grade_id="squares"), {"cell_type": "markdown", "metadata": {}}]
    other = [_cell(solution=True, grade_id="cubes"), _cell(grade=True, grade_id="test_cubes")]
    assert cells.is_for_exercise(ours, exercise)
    assert not cells.is_for_exercise(other, exercise)
    assert not cells.is_for_exercise([], exercise)
    assert not cells.is_for_exercise([{"metadata": {"nbgrader": {"grade_id": 1}}}], {"1"})
    assert cells.is_for_exercise(other, set())  # an exercise without grade ids takes anything
