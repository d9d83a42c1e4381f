"""Course content imported from git: skills, roles, courses, modules, lessons, exercises."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Enum, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.i18n import N_
from lms.models.base import Base, utcnow


class ExerciseKind(enum.StrEnum):
    """Practice attempts weigh less than assessments in readiness (`MasteryModel`'s
    practice_weight and assessment_weight). The one place for the kinds: their values, used by
    content validation, readiness evidence and the API, and their names (`_(kind.label)`)."""

    PRACTICE = "practice"
    ASSESSMENT = "assessment"

    @property
    def label(self) -> str:
        """The kind's name for people, marked for translation (the web layer translates it)."""
        return _EXERCISE_KIND_LABELS[self]


_EXERCISE_KIND_LABELS = {
    ExerciseKind.PRACTICE: N_("Practice"),
    ExerciseKind.ASSESSMENT: N_("Assessment"),
}


class Skill(Base):
    """A skill of the taxonomy (courses/skills.yml)."""

    __tablename__ = "skills"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_fr: Mapped[str | None] = mapped_column(String(200))
    track: Mapped[str] = mapped_column(String(20))


class Role(Base):
    """A target role (courses/roles.yml)."""

    __tablename__ = "roles"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_fr: Mapped[str | None] = mapped_column(String(200))
    track: Mapped[str] = mapped_column(String(20))
    skills: Mapped[list[RoleSkill]] = relationship(
        back_populates="role", cascade="all, delete-orphan", order_by="RoleSkill.skill_id"
    )


class RoleSkill(Base):
    """A skill a role requires, with its target level, weight and criticality."""

    __tablename__ = "role_skills"

    role_id: Mapped[str] = mapped_column(
        ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True
    )
    skill_id: Mapped[str] = mapped_column(ForeignKey("skills.id"), primary_key=True)
    level: Mapped[float] = mapped_column(Float)
    weight: Mapped[float] = mapped_column(Float)
    critical: Mapped[bool]
    role: Mapped[Role] = relationship(back_populates="skills")


class HiringTarget(Base):
    """How many people of a role are wanted, by when: a row of the hiring plan, first loaded
    from courses/roles.yml, then kept by admins in the browser (lms/services/hiring_plan.py)."""

    __tablename__ = "hiring_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    role_id: Mapped[str] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"))
    count: Mapped[int]
    by: Mapped[date]
    # Set when an admin adds or changes the row; once any row is, the file no longer rules.
    edited_at: Mapped[datetime | None]
    edited_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class Course(Base):
    """A course: ordered modules of lessons and exercises."""

    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    title_fr: Mapped[str | None] = mapped_column(String(200))
    track: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(5))
    summary: Mapped[str] = mapped_column(Text, default="")
    summary_fr: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    modules: Mapped[list[Module]] = relationship(
        back_populates="course", cascade="all, delete-orphan", order_by="Module.position"
    )


class Module(Base):
    """A module of a course."""

    __tablename__ = "modules"
    __table_args__ = (UniqueConstraint("course_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    title_fr: Mapped[str | None] = mapped_column(String(200))
    position: Mapped[int]
    course: Mapped[Course] = relationship(back_populates="modules")
    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="module", cascade="all, delete-orphan", order_by="Lesson.position"
    )
    exercise_links: Mapped[list[ModuleExercise]] = relationship(
        back_populates="module", cascade="all, delete-orphan", order_by="ModuleExercise.position"
    )

    @property
    def exercises(self) -> list[Exercise]:
        """The module's exercises, in order."""
        return [link.exercise for link in self.exercise_links]


class Lesson(Base):
    """A Markdown lesson (English, and French when written)."""

    __tablename__ = "lessons"
    __table_args__ = (UniqueConstraint("module_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(200))
    title_fr: Mapped[str | None] = mapped_column(String(200))
    markdown: Mapped[str] = mapped_column(Text)
    markdown_fr: Mapped[str | None] = mapped_column(Text)
    source_path: Mapped[str] = mapped_column(String(300))
    position: Mapped[int]
    module: Mapped[Module] = relationship(back_populates="lessons")


class Exercise(Base):
    """An nbgrader exercise: source and release notebooks and data files are blobs."""

    __tablename__ = "exercises"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    title_fr: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[ExerciseKind] = mapped_column(
        Enum(
            ExerciseKind,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    notebook_name: Mapped[str] = mapped_column(String(200))
    source_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    release_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    # The French notebooks (lms/content/translations.py), when the exercise is translated.
    source_fr_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    release_fr_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    timeout: Mapped[float] = mapped_column(Float, default=30.0)
    # An assessment's retake counts toward readiness only this many days after the attempt
    # that counted (None: only the first graded attempt ever counts).
    retake_after_days: Mapped[float | None] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float, default=0.0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    files: Mapped[list[ExerciseFile]] = relationship(
        back_populates="exercise", cascade="all, delete-orphan", order_by="ExerciseFile.path"
    )
    grade_cells: Mapped[list[GradeCell]] = relationship(
        back_populates="exercise", cascade="all, delete-orphan", order_by="GradeCell.position"
    )
    module_links: Mapped[list[ModuleExercise]] = relationship(back_populates="exercise")


class ModuleExercise(Base):
    """An exercise's place in a module (an exercise may appear in several modules)."""

    __tablename__ = "module_exercises"

    module_id: Mapped[int] = mapped_column(
        ForeignKey("modules.id", ondelete="CASCADE"), primary_key=True
    )
    exercise_id: Mapped[int] = mapped_column(
        ForeignKey("exercises.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int]
    module: Mapped[Module] = relationship(back_populates="exercise_links")
    exercise: Mapped[Exercise] = relationship(back_populates="module_links")


class ExerciseFile(Base):
    """A data file shipped with an exercise and present when grading."""

    __tablename__ = "exercise_files"

    exercise_id: Mapped[int] = mapped_column(
        ForeignKey("exercises.id", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str] = mapped_column(String(300), primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    exercise: Mapped[Exercise] = relationship(back_populates="files")


class GradeCell(Base):
    """A grade cell of an exercise's source notebook."""

    __tablename__ = "grade_cells"
    __table_args__ = (UniqueConstraint("exercise_id", "grade_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exercise_id: Mapped[int] = mapped_column(ForeignKey("exercises.id", ondelete="CASCADE"))
    grade_id: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))  # test | manual | task
    max_score: Mapped[float] = mapped_column(Float)
    position: Mapped[int]
    exercise: Mapped[Exercise] = relationship(back_populates="grade_cells")
    skills: Mapped[list[GradeCellSkill]] = relationship(
        back_populates="grade_cell", cascade="all, delete-orphan"
    )


class GradeCellSkill(Base):
    """Evidence mapping: a grade cell demonstrates a skill."""

    __tablename__ = "grade_cell_skills"

    grade_cell_id: Mapped[int] = mapped_column(
        ForeignKey("grade_cells.id", ondelete="CASCADE"), primary_key=True
    )
    skill_id: Mapped[str] = mapped_column(ForeignKey("skills.id"), primary_key=True)
    grade_cell: Mapped[GradeCell] = relationship(back_populates="skills")
