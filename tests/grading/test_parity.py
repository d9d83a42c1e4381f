"""Parity with nbgrader 0.9.6: its own example course (every number), and its scoring rules
(partial credit), with the sandbox on."""

from __future__ import annotations

import json
import os

import nbformat
import pytest
from fixtures_core import KERNELSPEC, PS1
from nbformat.v4 import new_code_cell, new_notebook

from grading import GradeJob, grade_many, release_notebook
from grading.release import exercise_files


def _expected() -> dict:
    if not PS1.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{PS1} is missing: CI must check out shared/ beside the repository")
        pytest.skip(f"{PS1} not present locally (the nbgrader ps1 parity fixture)")
    return json.loads((PS1 / "expected-scores.json").read_text())["submissions"]


def test_ps1_scores_equal_nbgrader_cell_by_cell() -> None:
    expected = _expected()
    files = exercise_files(PS1 / "source" / "ps1")
    jobs = [
        GradeJob(
            source=(PS1 / want["source"]).read_text(),
            submission=(PS1 / path).read_bytes(),
            name=path,
            files=files,
        )
        for path, want in expected.items()
    ]

    results = grade_many(jobs)

    assert len(results) == len(expected) == 4
    for result, (path, want) in zip(results, expected.items(), strict=True):
        assert result.submission == path
        assert result.status == "graded", result.error
        got = (result.score, result.max_score, result.needs_manual_grade)
        assert got == (want["score"], want["max_score"], want["needs_manual_grade"]), path
        assert [c.grade_id for c in result.cells] == list(want["cells"]), path
        for c in result.cells:
            w = want["cells"][c.grade_id]
            assert (c.score, c.max_score, c.needs_manual_grade) == (
                w["score"],
                w["max_score"],
                w["needs_manual_grade"],
            ), f"{path} {c.grade_id}"


def test_ps1_tampering_by_bitdiddle_is_flagged() -> None:
    # bitdiddle commented out one test and emptied another: nbgrader restores them silently
    expected = _expected()
    path = "submitted/bitdiddle/ps1/problem1.ipynb"
    job = GradeJob(
        source=(PS1 / expected[path]["source"]).read_text(),
        submission=(PS1 / path).read_bytes(),
        name=path,
        files=exercise_files(PS1 / "source" / "ps1"),
    )
    (result,) = grade_many([job])
    assert set(result.flags) == {"tampered:correct_squares", "tampered:squares_invalid_input"}


def _partial_credit_exercise(test_source: str) -> str:
    cells = [
        new_code_cell(
            "def half(x):\n    ### BEGIN SOLUTION\n    return x / 2\n    ### END SOLUTION",
            metadata={"nbgrader": _meta("half", solution=True)},
        ),
        new_code_cell(test_source, metadata={"nbgrader": _meta("partial", grade=True, points=1)}),
    ]
    return nbformat.writes(new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC}))


def _meta(grade_id: str, *, grade: bool = False, solution: bool = False, points=None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": False, "schema_version": 3}
    meta["solution"] = solution
    if points is not None:
        meta["points"] = points
    return meta


def _grade_partial(test_source: str, answer: str):
    source = _partial_credit_exercise(test_source)
    released = json.loads(release_notebook(source))
    released["cells"][0]["source"] = f"def half(x):\n    return {answer}"
    job = GradeJob(source=source, submission=json.dumps(released).encode())
    (result,) = grade_many([job])
    return result


def test_partial_credit_is_the_test_cells_value_as_in_nbgrader() -> None:
    # nbgrader's partial credit: a test cell whose result is a number scores that number
    test = "score = 0.0\nif half(2) == 1: score += 0.25\nif half(3) == 1.5: score += 0.5\nscore"
    assert _grade_partial(test, "x // 2").score == 0.25
    assert _grade_partial(test, "x / 2").score == 0.75


def test_partial_credit_above_the_points_scores_zero_with_a_flag() -> None:
    # nbgrader raises on this (its autograde of the notebook fails); we score 0 and say why
    result = _grade_partial("half(2) * 10", "x / 2")
    assert result.score == 0.0 and "invalid-result:partial" in result.flags


def test_non_numeric_result_is_full_credit_as_in_nbgrader() -> None:
    assert _grade_partial("'looks fine'", "x / 2").score == 1.0
