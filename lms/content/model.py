"""The content bundle: frozen dataclasses for what `courses/` and `exercises/` hold."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lms.models.content import ExerciseKind

TRACKS = ("ai", "data", "middleware")
LANGUAGES = ("en", "fr")
EXERCISE_KINDS = tuple(kind.value for kind in ExerciseKind)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the content: where (file relative to the root, line) and what."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"


class ContentError(Exception):
    """The content is invalid; `problems` lists every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Skill:
    """One skill of the taxonomy (courses/skills.yml)."""

    id: str
    name: str
    name_fr: str | None
    track: str


@dataclass(frozen=True)
class RoleSkill:
    """A skill a role requires: target mastery level (0..1), weight, and whether it is critical."""

    skill: str
    level: float
    weight: float
    critical: bool


@dataclass(frozen=True)
class Role:
    """A target role (courses/roles.yml)."""

    id: str
    name: str
    name_fr: str | None
    track: str
    skills: list[RoleSkill]


@dataclass(frozen=True)
class HiringTarget:
    """How many people of a role are wanted, by when."""

    role: str
    count: int
    by: date


@dataclass(frozen=True)
class Lesson:
    """A Markdown lesson; `slug` is the file stem, `path` relative to the content root."""

    slug: str
    title: str
    title_fr: str | None
    markdown: str
    markdown_fr: str | None
    path: str


@dataclass(frozen=True)
class Module:
    """A module of a course: lessons then exercises (exercise slugs), in order."""

    slug: str
    title: str
    title_fr: str | None
    lessons: list[Lesson]
    exercises: list[str]


@dataclass(frozen=True)
class Course:
    """A course (courses/<slug>/course.yml)."""

    slug: str
    title: str
    title_fr: str | None
    track: str
    language: str
    summary: str
    summary_fr: str | None
    modules: list[Module]
    order: float = 100  # where the course is listed: lowest first, then by slug


@dataclass(frozen=True)
class Variant:
    """One notebook of an assessment's variant pool: `key` is its file name in the folder."""

    key: str
    source_json: str
    source_fr_json: str | None = None


@dataclass(frozen=True)
class Exercise:
    """An exercise (exercises/<slug>/): the nbgrader source notebook, its data files and skills."""

    slug: str
    title: str
    title_fr: str | None
    kind: str
    notebook_name: str
    source_json: str
    files: dict[str, bytes]
    timeout: float
    skills: dict[str, list[str]]  # grade_id -> skill ids
    grade_cells: list[Any] = field(default_factory=list)
    retake_after_days: float | None = None  # assessments: a retake counts after this cool-down
    # the French source notebook (lms/content/translations.py), when the exercise has one
    source_fr_json: str | None = None
    # An assessment's variant pool (exercise.yml `variants`): every variant, the first being the
    # exercise's own notebook; empty when the exercise has a single notebook.
    variants: list[Variant] = field(default_factory=list)


@dataclass(frozen=True)
class ContentBundle:
    """Everything under a content root, validated."""

    skills: list[Skill]
    roles: list[Role]
    hiring_plan: list[HiringTarget]
    courses: list[Course]
    exercises: dict[str, Exercise]
