"""The grader's command-line contract (README, "The grader's command line"): `lms release` and
`lms grade --json`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from fixtures_core import DATA_FILES, HIDDEN_MARKER, PS1, exercise_source, submission

from lms.cli import main

CONTRACT_KEYS = [
    "submission",
    "status",
    "score",
    "max_score",
    "needs_manual_grade",
    "cells",
    "flags",
    "error",
]
CELL_KEYS = {"grade_id", "score", "max_score", "needs_manual_grade"}


@pytest.fixture
def exercise(tmp_path: Path) -> Path:
    folder = tmp_path / "exercise"
    folder.mkdir()
    (folder / "source.ipynb").write_text(exercise_source())
    for name, data in DATA_FILES.items():
        (folder / name).write_bytes(data)
    return folder / "source.ipynb"


def test_grade_json_follows_the_contract(exercise: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.ipynb"
    good.write_bytes(submission(explain="commutative"))
    empty = tmp_path / "empty.ipynb"
    empty.write_bytes(b"")

    result = CliRunner().invoke(
        main, ["grade", "--source", str(exercise), str(good), str(empty), "--json"]
    )

    assert result.exit_code == 0, result.output
    answers = json.loads(result.stdout)
    assert [a["submission"] for a in answers] == [str(good), str(empty)]
    for answer in answers:
        assert list(answer) == CONTRACT_KEYS
    graded, rejected = answers
    assert graded["status"] == "graded" and graded["error"] is None
    assert (graded["score"], graded["max_score"], graded["needs_manual_grade"]) == (3.0, 6.0, True)
    assert [c["grade_id"] for c in graded["cells"]] == [
        "test_add",
        "test_data",
        "explain",
        "plot_task",
    ]
    assert all(CELL_KEYS <= set(c) for c in graded["cells"])
    assert graded["flags"] == []
    assert rejected["status"] == "rejected" and "empty" in rejected["error"]
    assert HIDDEN_MARKER not in result.stdout


def test_grade_table_and_timeout_option(exercise: Path, tmp_path: Path) -> None:
    looping = tmp_path / "loop.ipynb"
    looping.write_bytes(submission("    while True:\n        pass"))

    result = CliRunner().invoke(
        main, ["grade", "--source", str(exercise), str(looping), "--timeout", "1"]
    )

    assert result.exit_code == 0, result.output
    assert "loop.ipynb" in result.stdout and "graded" in result.stdout
    assert "timeout:test_add" in result.stdout


def test_grade_writes_feedback_pages(exercise: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.ipynb"
    good.write_bytes(submission())
    pages = tmp_path / "feedback"

    result = CliRunner().invoke(
        main, ["grade", "--source", str(exercise), str(good), "--feedback", str(pages)]
    )

    assert result.exit_code == 0, result.output
    (page,) = pages.iterdir()
    assert "test_add" in page.read_text() and HIDDEN_MARKER not in page.read_text()


def test_usage_errors_exit_non_zero(exercise: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["grade", "--source", str(exercise)]).exit_code == 2
    missing = runner.invoke(main, ["grade", "--source", str(exercise), "nope.ipynb"])
    assert missing.exit_code == 2
    bad_source = tmp_path / "bad.ipynb"
    bad_source.write_text("{}")
    answer = runner.invoke(main, ["grade", "--source", str(bad_source), str(exercise)])
    assert answer.exit_code == 1 and "bad.ipynb" in answer.output


def test_release_one_notebook(exercise: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "release.ipynb"
    result = CliRunner().invoke(main, ["release", str(exercise), "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "YOUR CODE HERE" in text and HIDDEN_MARKER not in text


def test_release_a_folder_with_data(exercise: Path, tmp_path: Path) -> None:
    out = tmp_path / "released"
    result = CliRunner().invoke(main, ["release", str(exercise.parent), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["data.txt", "source.ipynb"]


def test_release_of_a_bad_source_explains(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ipynb"
    bad.write_text("not a notebook")
    result = CliRunner().invoke(main, ["release", str(bad), "-o", str(tmp_path / "x.ipynb")])
    assert result.exit_code == 1 and "not a readable Jupyter notebook" in result.output
    assert not (tmp_path / "x.ipynb").exists()


def test_console_script_grades_ps1(tmp_path: Path) -> None:
    if not PS1.is_dir():
        pytest.skip("the nbgrader ps1 fixture is not present locally")
    lms = Path(sys.executable).with_name("lms")
    source = PS1 / "source" / "ps1" / "problem1.ipynb"
    sub = PS1 / "submitted" / "hacker" / "ps1" / "problem1.ipynb"
    out = subprocess.run(
        [str(lms), "grade", "--source", str(source), str(sub), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    (answer,) = json.loads(out.stdout)
    assert (answer["status"], answer["score"], answer["max_score"]) == ("graded", 3.0, 10.0)
