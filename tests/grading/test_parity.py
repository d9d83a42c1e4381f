"""Parity with nbgrader 0.9.6 on its own example course: every number, sandbox on."""

from __future__ import annotations

import json
import os

import pytest
from fixtures_core import PS1

from grading import GradeJob, grade_many
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
