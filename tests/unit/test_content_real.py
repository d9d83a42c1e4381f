"""The repository's own content loads without errors and meets the bar set by issue 4."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lms.content import ContentBundle, load_content

ROOT = Path(__file__).parents[2]
TRACK_COURSES = {
    "data": "data-engineering",
    "ai": "ai-engineering",
    "middleware": "middleware-engineering",
}


@pytest.fixture(scope="module")
def bundle() -> ContentBundle:
    """The repository's content, loaded once."""
    return load_content(ROOT)


def test_three_tracks_with_at_least_four_modules_each(bundle: ContentBundle) -> None:
    courses = {c.slug: c for c in bundle.courses}
    for track, slug in TRACK_COURSES.items():
        course = courses[slug]
        assert course.track == track
        assert len(course.modules) >= 4, slug
        for module in course.modules:
            assert module.lessons and module.exercises, f"{slug}/{module.slug}"


def test_a_whole_course_is_available_in_french(bundle: ContentBundle) -> None:
    french = [
        c
        for c in bundle.courses
        if c.slug in TRACK_COURSES.values()
        and c.title_fr
        and all(m.title_fr for m in c.modules)
        and all(lesson.markdown_fr and lesson.title_fr for m in c.modules for lesson in m.lessons)
    ]
    assert french, "at least one track course must have every lesson in French"


def test_lessons_are_substantial_and_show_code(bundle: ContentBundle) -> None:
    for course in bundle.courses:
        if course.slug not in TRACK_COURSES.values():
            continue
        for module in course.modules:
            for lesson in module.lessons:
                for text in filter(None, (lesson.markdown, lesson.markdown_fr)):
                    assert len(text.split()) >= 500, f"{lesson.path} is too short"
                    assert "```" in text, f"{lesson.path} has no code"


def test_every_grade_cell_is_mapped_to_a_known_skill(bundle: ContentBundle) -> None:
    known = {s.id for s in bundle.skills}
    for slug, exercise in bundle.exercises.items():
        for cell in exercise.grade_cells:
            skills = exercise.skills.get(cell.grade_id)
            assert skills, f"{slug}:{cell.grade_id} is not mapped"
            assert set(skills) <= known, f"{slug}:{cell.grade_id} -> {skills}"


def test_each_track_has_hidden_tests_and_a_manual_question(bundle: ContentBundle) -> None:
    for slug in TRACK_COURSES.values():
        course = next(c for c in bundle.courses if c.slug == slug)
        kinds: set[str] = set()
        for module in course.modules:
            for name in module.exercises:
                cells = bundle.exercises[name].grade_cells
                tests = [c for c in cells if c.kind == "test"]
                assert tests and all(c.has_hidden_tests for c in tests if c.max_score >= 3), (
                    f"{name}: tests worth 3 points or more must hide tests"
                )
                kinds.update(c.kind for c in cells)
        assert "manual" in kinds or "task" in kinds, f"{slug} has no manually graded question"


def test_skills_cover_three_tracks_and_python_basics(bundle: ContentBundle) -> None:
    tracks = {s.track for s in bundle.skills}
    assert tracks == {"ai", "data", "middleware"}
    assert any(s.id == "python-basics" and s.track == "data" for s in bundle.skills)


def test_roles_and_hiring_plan(bundle: ContentBundle) -> None:
    roles = {r.id: r for r in bundle.roles}
    for role_id in ("data-engineer", "ml-engineer", "integration-engineer"):
        role = roles[role_id]
        assert any(s.critical for s in role.skills), role_id
        assert all(0 <= s.level <= 1 and s.weight > 0 for s in role.skills)
    planned = {t.role for t in bundle.hiring_plan}
    assert {"data-engineer", "ml-engineer", "integration-engineer"} <= planned
    assert all(t.count > 0 for t in bundle.hiring_plan)


def test_exercises_need_no_network_and_only_declared_packages() -> None:
    """The sandbox has no network: notebooks import only the standard library's offline modules
    and packages the project installs (no urllib, requests, socket...)."""
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    installed = {"numpy", "pandas", "sklearn", "jsonschema"}
    assert "scikit-learn" in pyproject and "jsonschema" in pyproject
    stdlib = {
        "base64", "binascii", "bisect", "copy", "csv", "datetime", "hashlib", "json", "os",
        "pathlib", "random", "re", "shutil", "sqlite3", "tempfile", "warnings",
    }  # fmt: skip
    for notebook in sorted((ROOT / "exercises").glob("*/*.ipynb")):
        source = "\n".join(
            "".join(c["source"]) for c in json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        )
        for match in re.finditer(r"^\s*(?:from|import)\s+([a-zA-Z_]\w*)", source, re.MULTILINE):
            assert match[1] in installed | stdlib, f"{notebook.name} imports {match[1]}"
