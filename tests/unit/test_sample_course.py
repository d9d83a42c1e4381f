"""The sample course shipped for the demo loads, and its exercise grades as intended."""

from __future__ import annotations

import shutil
from pathlib import Path

import grading
from lms.content.loader import load_content

REPO = Path(__file__).resolve().parent.parent.parent


def _sample_root(tmp_path: Path) -> Path:
    """The sample course and its exercise alone, with the real skills taxonomy."""
    root = tmp_path / "sample"
    shutil.copytree(REPO / "courses/getting-started", root / "courses/getting-started")
    shutil.copytree(REPO / "exercises/python-warmup", root / "exercises/python-warmup")
    shutil.copy(REPO / "courses/skills.yml", root / "courses/skills.yml")
    (root / "courses/roles.yml").write_text("roles: []\nhiring_plan: []\n")
    return root


def test_sample_course_loads(tmp_path: Path) -> None:
    bundle = load_content(_sample_root(tmp_path))
    (course,) = bundle.courses
    assert course.slug == "getting-started" and course.title_fr
    lesson = course.modules[0].lessons[0]
    assert lesson.title == "How grading works" and lesson.markdown_fr
    exercise = bundle.exercises["python-warmup"]
    assert exercise.skills == {
        "test_squares": ["python-basics"],
        "test_word_counts": ["python-basics"],
    }
    assert sum(c.max_score for c in exercise.grade_cells) == 5


def test_sample_exercise_grades_solution_full_and_release_zero(tmp_path: Path) -> None:
    source = (REPO / "exercises/python-warmup/warmup.ipynb").read_text()
    release = grading.release_notebook(source)
    assert "BEGIN HIDDEN TESTS" not in release and "BEGIN SOLUTION" not in release
    solved = grading.grade(grading.GradeJob(source=source, submission=source.encode()))
    blank = grading.grade(grading.GradeJob(source=source, submission=release.encode()))
    assert (solved.score, solved.max_score) == (5.0, 5.0)
    assert (blank.score, blank.max_score) == (0.0, 5.0)
