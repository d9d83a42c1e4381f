"""`lms import`: upsert by slug, idempotent, all or nothing, errors that name file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms.content.loader import ContentError
from lms.models import (
    Blob,
    Course,
    Exercise,
    GradeCell,
    GradeCellSkill,
    HiringTarget,
    Lesson,
    Role,
    Skill,
)
from lms.services.content_import import import_content


def _snapshot(session) -> dict:
    """Everything the import writes, as comparable values."""
    snap = {
        "courses": [(c.id, c.slug, c.title) for c in session.scalars(select(Course))],
        "lessons": [
            (lesson.id, lesson.slug, lesson.title, lesson.position)
            for lesson in session.scalars(select(Lesson).order_by(Lesson.id))
        ],
        "exercises": [
            (e.id, e.slug, e.source_sha256, e.release_sha256, e.max_score)
            for e in session.scalars(select(Exercise))
        ],
        "cells": [(c.id, c.grade_id, c.max_score) for c in session.scalars(select(GradeCell))],
        "cell_skills": sorted(
            (s.grade_cell_id, s.skill_id) for s in session.scalars(select(GradeCellSkill))
        ),
        "skills": sorted(s.id for s in session.scalars(select(Skill))),
        "roles": sorted(r.id for r in session.scalars(select(Role))),
        "blobs": session.scalar(select(func.count()).select_from(Blob)),
        "targets": session.scalar(select(func.count()).select_from(HiringTarget)),
    }
    session.rollback()
    return snap


@pytest.fixture
def tree(tmp_path: Path, fixture_content: Path) -> Path:
    """A writable copy of the fixture content."""
    root = tmp_path / "content"
    shutil.copytree(fixture_content, root)
    return root


def test_import_creates_everything(session, fixture_content) -> None:
    summary = import_content(session, fixture_content)
    assert (summary.courses, summary.lessons, summary.exercises) == (1, 2, 1)
    exercise = session.scalar(select(Exercise).where(Exercise.slug == "squares"))
    assert exercise.max_score == 3.0 and exercise.kind.value == "practice"
    assert [f.path for f in exercise.files] == ["data/numbers.txt"]
    skills = {c.grade_id: sorted(s.skill_id for s in c.skills) for c in exercise.grade_cells}
    assert skills == {"test_squares": ["python-basics"], "test_total": ["python-basics", "testing"]}
    course = session.scalar(select(Course).where(Course.slug == "intro"))
    assert [lesson.slug for lesson in course.modules[0].lessons] == ["01-hello", "02-more"]
    assert course.modules[0].lessons[0].markdown_fr.startswith("# Leçon bonjour")
    assert [e.slug for e in course.modules[0].exercises] == ["squares"]
    role = session.get(Role, "junior-dev")
    assert [(s.skill_id, s.critical) for s in role.skills] == [
        ("python-basics", True),
        ("testing", False),
    ]
    session.rollback()


def test_import_is_idempotent(session, fixture_content) -> None:
    import_content(session, fixture_content)
    first = _snapshot(session)
    import_content(session, fixture_content)
    assert _snapshot(session) == first


def test_changes_are_upserted_by_slug(session, tree: Path) -> None:
    import_content(session, tree)
    before = _snapshot(session)
    course_yml = tree / "courses/intro/course.yml"
    course_yml.write_text(course_yml.read_text().replace("      - lessons/02-more.md\n", ""))
    lesson = tree / "courses/intro/lessons/01-hello.md"
    lesson.write_text(lesson.read_text().replace("# Hello lesson", "# Hello again"))
    import_content(session, tree)
    after = _snapshot(session)
    assert after["courses"] == before["courses"]  # same row, same id
    assert after["lessons"] == [(before["lessons"][0][0], "01-hello", "Hello again", 0)]
    assert after["exercises"] == before["exercises"]


def test_invalid_content_names_file_and_line_and_changes_nothing(session, tree: Path) -> None:
    import_content(session, tree)
    before = _snapshot(session)
    course_yml = tree / "courses/intro/course.yml"
    course_yml.write_text(course_yml.read_text().replace("track: data", "track: cooking"))
    (tree / "exercises/squares/exercise.yml").write_text("title: [unclosed\n")
    with pytest.raises(ContentError) as raised:
        import_content(session, tree)
    message = str(raised.value)
    assert "courses/intro/course.yml:4:" in message
    assert "exercises/squares/exercise.yml:" in message and "invalid YAML" in message
    assert _snapshot(session) == before


def test_failure_during_the_upsert_rolls_everything_back(
    session,
    tree: Path,
    monkeypatch,
) -> None:
    import_content(session, tree)
    before = _snapshot(session)
    lesson = tree / "courses/intro/lessons/01-hello.md"
    lesson.write_text(lesson.read_text().replace("# Hello lesson", "# Changed title"))
    skills = tree / "courses/skills.yml"
    skills.write_text(skills.read_text().replace("name: Testing code", "name: Testing things"))

    import grading

    def failing_release(source_json: str) -> str:
        raise RuntimeError("disk full")  # any failure after validation, mid-way through the writes

    monkeypatch.setattr(grading, "release_notebook", failing_release)
    with pytest.raises(RuntimeError):
        import_content(session, tree)
    assert _snapshot(session) == before
    assert session.get(Skill, "testing").name == "Testing code"
    session.rollback()
