"""Load and validate course content from files: pure (no database, no Flask).

`load_content(root)` reads `root/courses/` (course.yml + Markdown lessons, skills.yml, roles.yml)
and `root/exercises/` (exercise.yml + nbgrader source notebook + data files) and returns a
`ContentBundle`, or raises `ContentError` listing every problem as `file:line: message`, so an
author fixes everything in one pass instead of one error per run.
"""

from __future__ import annotations

from pathlib import Path

from lms.content.courses import CourseLoader
from lms.content.exercises import ExerciseLoader
from lms.content.model import ContentBundle, ContentError, Problem
from lms.content.taxonomy import TaxonomyLoader

__all__ = ["ContentError", "Problem", "load_content"]


def load_content(root: Path) -> ContentBundle:
    """Load and validate everything under `root` (courses/ and exercises/); raise ContentError."""
    root = Path(root)
    problems: list[Problem] = []
    courses_dir = root / "courses"
    exercises_dir = root / "exercises"
    if not courses_dir.is_dir():
        problems.append(
            Problem("courses", None, "missing folder: the content root must hold courses/")
        )
    taxonomy = TaxonomyLoader(root, problems)
    skills = taxonomy.load_skills(courses_dir / "skills.yml")
    skill_ids = {s.id for s in skills}
    roles, hiring_plan = taxonomy.load_roles(courses_dir / "roles.yml", skill_ids)
    exercises = ExerciseLoader(root, problems).load_exercises(exercises_dir, skill_ids)
    courses = CourseLoader(root, problems).load_courses(courses_dir, exercises_dir, set(exercises))
    if problems:
        # One file at a time, top to bottom: the order an author fixes them in.
        raise ContentError(sorted(problems, key=lambda p: (p.file, p.line or 0)))
    return ContentBundle(
        skills=skills,
        roles=roles,
        hiring_plan=hiring_plan,
        courses=courses,
        exercises=exercises,
    )
