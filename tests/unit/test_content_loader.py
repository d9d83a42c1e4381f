"""The content loader: a good tree loads; every kind of problem names its file and line; all
problems are reported at once."""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from lms.content import ContentError, load_content

FIXTURES = Path(__file__).parents[1] / "fixtures" / "content_loader"
GOOD = FIXTURES / "good"
BROKEN = FIXTURES / "broken"
COURSE_YML = "courses/demo-course/course.yml"
EXERCISE_YML = "exercises/demo-exercise/exercise.yml"
NOTEBOOK = "exercises/demo-exercise/squares.ipynb"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A writable copy of the good tree."""
    root = tmp_path / "content"
    shutil.copytree(GOOD, root)
    return root


def problems_of(root: Path) -> list[tuple[str, int | None, str]]:
    """(file, line, message) of every problem load_content reports (fails if it loads)."""
    with pytest.raises(ContentError) as info:
        load_content(root)
    return [(p.file, p.line, p.message) for p in info.value.problems]


def edit(root: Path, relative: str, old: str, new: str) -> None:
    """Replace `old` (which must be there) by `new` in one file of the tree."""
    path = root / relative
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {relative}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_good_tree_loads_everything() -> None:
    bundle = load_content(GOOD)

    assert [(s.id, s.track) for s in bundle.skills] == [
        ("python-basics", "data"),
        ("communication", "data"),
    ]
    assert bundle.skills[0].name_fr == "Bases de Python"
    (role,) = bundle.roles
    assert role.id == "data-engineer" and role.name_fr == "Ingénieur·e données"
    assert [(s.skill, s.level, s.weight, s.critical) for s in role.skills] == [
        ("python-basics", 0.7, 2.0, True),
        ("communication", 0.5, 1.0, False),
    ]
    assert [(t.role, t.count, t.by) for t in bundle.hiring_plan] == [
        ("data-engineer", 3, date(2027, 6, 30))
    ]
    (course,) = bundle.courses
    assert (course.slug, course.track, course.language) == ("demo-course", "data", "en")
    assert course.title_fr == "Cours de démonstration"
    (module,) = course.modules
    assert module.exercises == ["demo-exercise"]
    (lesson,) = module.lessons
    assert lesson.slug == "01-intro" and lesson.path == "courses/demo-course/lessons/01-intro.md"
    assert lesson.title == "Introduction" and lesson.title_fr == "Introduction en français"
    assert lesson.markdown.startswith("# Introduction\n")
    assert lesson.markdown_fr is not None and "Du texte." in lesson.markdown_fr
    exercise = bundle.exercises["demo-exercise"]
    assert exercise.kind == "practice" and exercise.notebook_name == "squares.ipynb"
    assert exercise.timeout == 20.0
    assert exercise.files == {"data/squares.csv": b"n,square\n1,1\n2,4\n"}
    assert json.loads(exercise.source_json)["nbformat"] == 4
    assert exercise.skills == {"correct_squares": ["python-basics"], "explain": ["communication"]}
    assert [(c.grade_id, c.kind, c.max_score) for c in exercise.grade_cells] == [
        ("correct_squares", "test", 2.0),
        ("explain", "manual", 1.0),
    ]


def test_bundle_is_frozen() -> None:
    bundle = load_content(GOOD)
    with pytest.raises(dataclasses.FrozenInstanceError):
        bundle.courses[0].slug = "changed"  # type: ignore[misc]


def test_every_problem_of_a_broken_tree_is_reported_at_once() -> None:
    found = {(file, line) for file, line, _ in problems_of(BROKEN)}
    expected = {
        ("courses/skills.yml", 5),  # duplicate skill id
        ("courses/skills.yml", 10),  # unknown track
        ("courses/roles.yml", 6),  # role requires an unknown skill
        ("courses/roles.yml", 11),  # level outside 0..1
        ("courses/roles.yml", 14),  # hiring plan for an unknown role
        ("courses/roles.yml", 18),  # count is not a number
        ("courses/roles.yml", 19),  # by is not a date
        (COURSE_YML, 1),  # slug differs from the folder
        (COURSE_YML, 4),  # unknown language
        (COURSE_YML, 6),  # unknown key
        (COURSE_YML, 12),  # missing lesson
        (COURSE_YML, 15),  # missing exercise
        (COURSE_YML, 16),  # duplicate module slug
        ("courses/demo-course/lessons/01-intro.md", 1),  # no title
        ("exercises/Bad_Folder", None),  # folder name is not a slug
        (EXERCISE_YML, 2),  # unknown kind
        (EXERCISE_YML, 4),  # missing data file
        (EXERCISE_YML, 6),  # unknown skill; unmapped grade cell
        (EXERCISE_YML, 7),  # mapping for a cell that does not exist
    }
    assert expected <= found, sorted(expected - found, key=str)


def test_error_text_is_one_file_line_message_per_problem() -> None:
    with pytest.raises(ContentError) as info:
        load_content(BROKEN)
    lines = str(info.value).splitlines()
    assert len(lines) == len(info.value.problems)
    assert "courses/skills.yml:5: skill id 'python-basics' is already defined at line 2" in lines
    assert "exercises/Bad_Folder: exercise folder names are slugs" in "\n".join(lines)


@pytest.mark.parametrize(
    ("relative", "old", "new", "file", "line", "words"),
    [
        pytest.param(
            COURSE_YML,
            "title: Demo course",
            "title: [unclosed",
            COURSE_YML,
            3,
            "started at line 2",
            id="yaml-syntax",
        ),
        pytest.param(
            COURSE_YML,
            "title: Demo course\n",
            "",
            COURSE_YML,
            1,
            "missing the required key 'title'",
            id="missing-key",
        ),
        pytest.param(
            COURSE_YML,
            "    title: First steps",
            "    title: First steps\n    colour: red",
            COURSE_YML,
            11,
            "unknown key 'colour'",
            id="unknown-module-key",
        ),
        pytest.param(
            COURSE_YML,
            "track: data",
            "track: cooking",
            COURSE_YML,
            4,
            "'track' must be one of ai, data, middleware",
            id="bad-track",
        ),
        pytest.param(
            COURSE_YML,
            "language: en",
            "language: en\nlanguage: fr",
            COURSE_YML,
            6,
            "appears twice",
            id="duplicate-key",
        ),
        pytest.param(
            COURSE_YML,
            "lessons/01-intro.md",
            "lessons/09-nowhere.md",
            COURSE_YML,
            12,
            "does not exist",
            id="missing-lesson",
        ),
        pytest.param(
            COURSE_YML,
            "      - demo-exercise",
            "      - demo-exercise\n      - ghost",
            COURSE_YML,
            15,
            "exercise 'ghost' does not exist",
            id="missing-exercise",
        ),
        pytest.param(
            COURSE_YML,
            "lessons/01-intro.md",
            "../../outside.md",
            COURSE_YML,
            12,
            "inside the course folder",
            id="lesson-outside-course",
        ),
        pytest.param(
            EXERCISE_YML,
            "notebook: squares.ipynb",
            "notebook: nope.ipynb",
            EXERCISE_YML,
            3,
            "notebook 'nope.ipynb' does not exist",
            id="missing-notebook",
        ),
        pytest.param(
            EXERCISE_YML,
            "files: [data/squares.csv]",
            "files: [../../../etc/passwd]",
            EXERCISE_YML,
            4,
            "inside the exercise folder",
            id="data-file-outside",
        ),
        pytest.param(
            EXERCISE_YML,
            "  explain: [communication]\n",
            "",
            EXERCISE_YML,
            7,
            "grade cell 'explain' is not mapped to any skill",
            id="unmapped-grade-cell",
        ),
        pytest.param(
            EXERCISE_YML,
            "[communication]",
            "[telepathy]",
            EXERCISE_YML,
            8,
            "unknown skill 'telepathy'",
            id="unknown-skill",
        ),
        pytest.param(
            EXERCISE_YML,
            "timeout: 20",
            "timeout: -1",
            EXERCISE_YML,
            5,
            "'timeout' must be a number > 0",
            id="bad-timeout",
        ),
        pytest.param(
            "courses/roles.yml",
            "skill: communication",
            "skill: juggling",
            "courses/roles.yml",
            11,
            "unknown skill 'juggling'",
            id="role-unknown-skill",
        ),
        pytest.param(
            "courses/roles.yml",
            "weight: 2",
            "weight: 0",
            "courses/roles.yml",
            9,
            "'weight' must be a number > 0",
            id="role-zero-weight",
        ),
        pytest.param(
            "courses/roles.yml",
            "critical: true",
            "critical: maybe",
            "courses/roles.yml",
            10,
            "'critical' must be true or false",
            id="role-critical-not-bool",
        ),
        pytest.param(
            "courses/roles.yml",
            "  - role: data-engineer",
            "  - role: pilot",
            "courses/roles.yml",
            15,
            "unknown role 'pilot'",
            id="hiring-unknown-role",
        ),
        pytest.param(
            "courses/skills.yml",
            "track: data\n  - id: communication",
            "track: data\n  - id: Communication Skills",
            "courses/skills.yml",
            6,
            "must be an identifier",
            id="skill-id-not-slug",
        ),
    ],
)
def test_each_kind_of_problem_names_file_and_line(
    tree: Path, relative: str, old: str, new: str, file: str, line: int, words: str
) -> None:
    edit(tree, relative, old, new)
    problems = problems_of(tree)
    assert any(f == file and n == line and words in m for f, n, m in problems), problems


def test_invalid_notebook_json_names_the_notebook_and_line(tree: Path) -> None:
    (tree / NOTEBOOK).write_text('{\n "cells": [\n  oops\n ]\n}\n', encoding="utf-8")
    problems = problems_of(tree)
    assert any(f == NOTEBOOK and n == 3 and "not valid JSON" in m for f, n, m in problems)


def test_invalid_nbgrader_source_is_reported_on_the_notebook(tree: Path) -> None:
    nb = json.loads((tree / NOTEBOOK).read_text(encoding="utf-8"))
    grade_cell = next(c for c in nb["cells"] if c["metadata"]["nbgrader"].get("grade"))
    del grade_cell["metadata"]["nbgrader"]["points"]
    (tree / NOTEBOOK).write_text(json.dumps(nb, indent=1), encoding="utf-8")
    problems = problems_of(tree)
    assert any(f == NOTEBOOK and "invalid nbgrader source notebook" in m for f, _, m in problems)


def test_a_grade_cell_can_be_mapped_in_its_own_metadata(tree: Path) -> None:
    edit(tree, EXERCISE_YML, "  explain: [communication]\n", "")
    nb = json.loads((tree / NOTEBOOK).read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c["metadata"]["nbgrader"]["grade_id"] == "explain")
    cell["metadata"]["atlas"] = {"skills": ["communication"]}
    (tree / NOTEBOOK).write_text(json.dumps(nb, indent=1), encoding="utf-8")

    exercise = load_content(tree).exercises["demo-exercise"]

    assert exercise.skills["explain"] == ["communication"]


def test_a_course_folder_without_course_yml_is_reported(tree: Path) -> None:
    (tree / "courses" / "empty-course").mkdir()
    problems = problems_of(tree)
    assert ("courses/empty-course/course.yml", None) in {(f, n) for f, n, _ in problems}


def test_a_french_lesson_without_title_is_reported(tree: Path) -> None:
    (tree / "courses/demo-course/lessons/01-intro.fr.md").write_text("Pas de titre.\n")
    problems = problems_of(tree)
    assert ("courses/demo-course/lessons/01-intro.fr.md", 1) in {(f, n) for f, n, _ in problems}


def test_courses_are_listed_by_order_then_slug(tree: Path) -> None:
    second = tree / "courses" / "another-course"
    shutil.copytree(tree / "courses" / "demo-course", second)
    edit(tree, "courses/another-course/course.yml", "slug: demo-course", "slug: another-course")
    assert [c.slug for c in load_content(tree).courses] == ["another-course", "demo-course"]
    edit(tree, "courses/demo-course/course.yml", "slug: demo-course", "slug: demo-course\norder: 1")
    assert [c.slug for c in load_content(tree).courses] == ["demo-course", "another-course"]


def test_a_negative_course_order_is_reported(tree: Path) -> None:
    edit(
        tree, "courses/demo-course/course.yml", "slug: demo-course", "slug: demo-course\norder: -1"
    )
    problems = problems_of(tree)
    assert ("courses/demo-course/course.yml", 2) in {(f, n) for f, n, _ in problems}


def test_tool_and_hidden_folders_are_not_content(tree: Path) -> None:
    # Jupyter and Python drop these next to real content; loading them would report bogus
    # "missing course.yml / exercise.yml" problems.
    for parent in ("courses", "exercises"):
        for name in (".ipynb_checkpoints", "__pycache__", ".git"):
            (tree / parent / name).mkdir()
    bundle = load_content(tree)
    assert [c.slug for c in bundle.courses] == ["demo-course"]
    assert list(bundle.exercises) == ["demo-exercise"]
