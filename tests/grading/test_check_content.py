"""`lms check-content`: every exercise's solution gets full marks and its untouched release none,
graded for real in the sandbox; a broken exercise fails naming the exercise and the cell."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from grading import CellResult, GradeResult
from lms.cli import main
from lms.content import load_content
from lms.content.check import check_exercises, judge

ROOT = Path(__file__).parents[2]
GOOD = ROOT / "tests" / "fixtures" / "content_loader" / "good"
NOTEBOOK = "exercises/demo-exercise/squares.ipynb"


def _broken_copy(tmp_path: Path) -> Path:
    """The good fixture tree with a test that passes without work and one the solution fails."""
    root = tmp_path / "content"
    shutil.copytree(GOOD, root)
    nb = json.loads((root / NOTEBOOK).read_text(encoding="utf-8"))
    test = next(
        c for c in nb["cells"] if c["metadata"]["nbgrader"]["grade_id"] == "correct_squares"
    )
    test["source"] = "assert squares(2) == [1, 4, 9]  # wrong on purpose\n"
    free = json.loads(json.dumps(test))
    free["id"] = "free-points"
    free["source"] = "assert True\n"
    free["metadata"]["nbgrader"]["grade_id"] = "free_points"
    nb["cells"].append(free)
    (root / NOTEBOOK).write_text(json.dumps(nb, indent=1), encoding="utf-8")
    yml = root / "exercises/demo-exercise/exercise.yml"
    yml.write_text(yml.read_text() + "  free_points: [python-basics]\n")
    return root


def test_a_sound_exercise_passes(runtime) -> None:
    (check,) = check_exercises(list(load_content(GOOD).exercises.values()), runtime)

    assert check.ok, check.problems
    assert (check.exercise, check.autograded_points, check.manual_points) == ("demo-exercise", 2, 1)
    assert (check.solution_score, check.release_score) == (2, 0)


def test_a_broken_exercise_fails_naming_exercise_and_cells(runtime, tmp_path: Path) -> None:
    bundle = load_content(_broken_copy(tmp_path))

    (check,) = check_exercises(list(bundle.exercises.values()), runtime)

    assert not check.ok
    problems = {(p.exercise, p.cell): p.message for p in check.problems}
    assert "the solution scores 0/2" in problems[("demo-exercise", "correct_squares")]
    assert "the untouched release scores 2/2" in problems[("demo-exercise", "free_points")]


def test_invalid_content_fails_before_grading(tmp_path: Path) -> None:
    root = tmp_path / "content"
    shutil.copytree(GOOD, root)
    yml = root / "exercises/demo-exercise/exercise.yml"
    yml.write_text(yml.read_text().replace("kind: practice", "kind: quiz"))

    result = CliRunner().invoke(main, ["check-content", "--root", str(root)])

    assert result.exit_code != 0
    assert "exercises/demo-exercise/exercise.yml:2:" in result.output
    assert "1 content problem(s)" in result.output


def test_unknown_exercise_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["check-content", "--root", str(GOOD), "--exercise", "nope"])

    assert result.exit_code == 2 and "no such exercise: nope" in result.output


@pytest.mark.slow
def test_the_broken_exercise_makes_the_command_fail(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["check-content", "--root", str(_broken_copy(tmp_path))])

    assert result.exit_code == 1, result.output
    assert "FAIL demo-exercise" in result.output
    assert "demo-exercise:correct_squares: the solution scores 0/2" in result.output
    assert "demo-exercise:free_points: the untouched release scores 2/2" in result.output


@pytest.mark.slow
def test_check_content_passes_on_the_repository_content() -> None:
    """What CI runs: every exercise of courses/ (the three tracks and getting-started)."""
    result = CliRunner().invoke(main, ["check-content", "--root", str(ROOT), "--json"])

    assert result.exit_code == 0, result.output
    checks = [json.loads(line) for line in result.output.splitlines()]
    assert {c["exercise"] for c in checks} == set(load_content(ROOT).exercises)
    for check in checks:
        assert check["ok"], check
        assert check["solution_score"] == check["autograded_points"] > 0, check
        assert check["release_score"] == 0, check


def test_a_flag_on_either_run_is_a_problem_naming_the_cell() -> None:
    exercise = load_content(GOOD).exercises["demo-exercise"]
    cells = (
        CellResult("correct_squares", 2.0, 2.0, False, "test"),
        CellResult("explain", 0.0, 1.0, True, "manual"),
    )
    solution = GradeResult("squares.ipynb", "graded", 2.0, 3.0, True, cells)
    release = GradeResult(
        "squares.ipynb",
        "graded",
        0.0,
        3.0,
        True,
        (CellResult("correct_squares", 0.0, 2.0, False, "test"), cells[1]),
        flags=("timeout:correct_squares",),
    )

    check = judge(exercise, solution, release)

    assert [(p.cell, p.message) for p in check.problems] == [
        ("correct_squares", "grading the release flagged timeout:correct_squares")
    ]
    assert (check.autograded_points, check.solution_score, check.manual_points) == (2, 2, 1)
