"""`lms import`: validate the content tree, then upsert it by slug in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lms.models import (
    Course,
    Exercise,
    ExerciseFile,
    ExerciseKind,
    ExerciseVariant,
    GradeCell,
    GradeCellSkill,
    HiringTarget,
    Lesson,
    Module,
    ModuleExercise,
    Role,
    RoleSkill,
    Skill,
)
from lms.services import audit
from lms.services.blobs import put_blob


@dataclass(frozen=True)
class ImportSummary:
    """How many of each thing the content tree holds (all now in the database)."""

    skills: int
    roles: int
    courses: int
    lessons: int
    exercises: int


def import_content(session: Session, root: Path) -> ImportSummary:
    """Load and validate `root` (courses/ and exercises/), then upsert it all or nothing.

    Raises lms.content.loader.ContentError (every problem, as file:line: message) before the
    database is touched; any later failure rolls the whole import back.
    """
    import grading
    from lms.content.loader import load_content

    bundle = load_content(root)
    try:
        for skill in bundle.skills:
            _upsert_skill(session, skill)
        session.flush()
        for role in bundle.roles:
            _upsert_role(session, role)
        # Once an admin has edited the plan in the browser, the file no longer replaces it.
        if not audit.plan_edited(session):
            session.execute(delete(HiringTarget))
            session.add_all(
                HiringTarget(role_id=t.role, count=t.count, by=t.by) for t in bundle.hiring_plan
            )
        exercises = {
            slug: _upsert_exercise(session, ex, grading.release_notebook)
            for slug, ex in sorted(bundle.exercises.items())
        }
        session.flush()
        for position, course in enumerate(bundle.courses):
            _upsert_course(session, course, position, exercises)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return ImportSummary(
        skills=len(bundle.skills),
        roles=len(bundle.roles),
        courses=len(bundle.courses),
        lessons=sum(len(m.lessons) for c in bundle.courses for m in c.modules),
        exercises=len(bundle.exercises),
    )


def _upsert_skill(session: Session, skill) -> None:
    row = session.get(Skill, skill.id) or Skill(id=skill.id)
    row.name, row.name_fr, row.track = skill.name, skill.name_fr, skill.track
    session.add(row)


def _upsert_role(session: Session, role) -> None:
    row = session.get(Role, role.id) or Role(id=role.id)
    row.name, row.name_fr, row.track = role.name, role.name_fr, role.track
    row.skills = [
        RoleSkill(skill_id=s.skill, level=s.level, weight=s.weight, critical=s.critical)
        for s in role.skills
    ]
    session.add(row)
    session.flush()


def _upsert_exercise(session: Session, ex, release_notebook) -> Exercise:
    # Blobs first: a half-filled new exercise must not be flushed by their look-ups.
    source_sha = put_blob(session, ex.source_json.encode("utf-8"))
    release_sha = put_blob(session, release_notebook(ex.source_json).encode("utf-8"))
    source_fr_sha = release_fr_sha = None
    if ex.source_fr_json is not None:
        source_fr_sha = put_blob(session, ex.source_fr_json.encode("utf-8"))
        release_fr_sha = put_blob(session, release_notebook(ex.source_fr_json).encode("utf-8"))
    wanted_files = {path: put_blob(session, data) for path, data in ex.files.items()}
    row = session.scalar(select(Exercise).where(Exercise.slug == ex.slug))
    if row is None:
        row = Exercise(slug=ex.slug)
        session.add(row)
    row.title, row.title_fr = ex.title, ex.title_fr
    row.kind = ExerciseKind(ex.kind)
    row.notebook_name = ex.notebook_name
    row.timeout = float(ex.timeout)
    row.retake_after_days = ex.retake_after_days
    row.source_sha256, row.release_sha256 = source_sha, release_sha
    row.source_fr_sha256, row.release_fr_sha256 = source_fr_sha, release_fr_sha
    row.files = [f for f in row.files if f.path in wanted_files]
    for f in row.files:
        f.sha256 = wanted_files.pop(f.path)
    row.files.extend(ExerciseFile(path=p, sha256=sha) for p, sha in sorted(wanted_files.items()))
    _sync_grade_cells(session, row, ex)
    _sync_variants(session, row, ex, release_notebook)
    row.max_score = sum(float(c.max_score) for c in ex.grade_cells)
    return row


def _sync_variants(session: Session, row: Exercise, ex, release_notebook) -> None:
    # The pool, by key: a variant kept keeps its row (assignments name it by key); a variant
    # taken out of the pool is deleted (its trainees are given another on their next visit).
    session.flush()
    existing = {
        v.key: v
        for v in session.scalars(
            select(ExerciseVariant).where(ExerciseVariant.exercise_id == row.id)
        )
    }
    for position, variant in enumerate(ex.variants):
        v_row = existing.pop(variant.key, None) or ExerciseVariant(
            exercise_id=row.id, key=variant.key
        )
        v_row.position = position
        v_row.source_sha256 = put_blob(session, variant.source_json.encode("utf-8"))
        v_row.release_sha256 = put_blob(
            session, release_notebook(variant.source_json).encode("utf-8")
        )
        v_row.source_fr_sha256 = v_row.release_fr_sha256 = None
        if variant.source_fr_json is not None:
            v_row.source_fr_sha256 = put_blob(session, variant.source_fr_json.encode("utf-8"))
            v_row.release_fr_sha256 = put_blob(
                session, release_notebook(variant.source_fr_json).encode("utf-8")
            )
        session.add(v_row)
    for gone in existing.values():
        session.delete(gone)


def _sync_grade_cells(session: Session, row: Exercise, ex) -> None:
    existing = {cell.grade_id: cell for cell in row.grade_cells}
    cells = []
    for position, info in enumerate(ex.grade_cells):
        cell = existing.get(info.grade_id) or GradeCell(grade_id=info.grade_id)
        cell.kind, cell.max_score, cell.position = info.kind, float(info.max_score), position
        wanted = list(dict.fromkeys(ex.skills.get(info.grade_id, [])))
        if [s.skill_id for s in cell.skills] != wanted:
            cell.skills = [GradeCellSkill(skill_id=s) for s in wanted]
        cells.append(cell)
    row.grade_cells = cells
    session.flush()


def _upsert_course(session: Session, course, position: int, exercises: dict[str, Exercise]) -> None:
    row = session.scalar(select(Course).where(Course.slug == course.slug))
    if row is None:
        row = Course(slug=course.slug)
        session.add(row)
    row.title, row.title_fr, row.track = course.title, course.title_fr, course.track
    row.language, row.summary, row.summary_fr = course.language, course.summary, course.summary_fr
    row.position = position
    existing = {m.slug: m for m in row.modules}
    modules = []
    for m_pos, module in enumerate(course.modules):
        m_row = existing.get(module.slug) or Module(slug=module.slug)
        m_row.title, m_row.title_fr, m_row.position = module.title, module.title_fr, m_pos
        _sync_lessons(m_row, module.lessons)
        m_row.exercise_links = (
            [
                ModuleExercise(exercise=exercises[slug], position=e_pos)
                for e_pos, slug in enumerate(module.exercises)
            ]
            if [link.exercise.slug for link in m_row.exercise_links] != module.exercises
            else m_row.exercise_links
        )
        modules.append(m_row)
    row.modules = modules
    session.flush()


def _sync_lessons(module: Module, lessons: list) -> None:
    existing = {lesson.slug: lesson for lesson in module.lessons}
    rows = []
    for position, lesson in enumerate(lessons):
        row = existing.get(lesson.slug) or Lesson(slug=lesson.slug)
        row.title, row.title_fr = lesson.title, lesson.title_fr
        row.markdown, row.markdown_fr = lesson.markdown, lesson.markdown_fr
        row.source_path, row.position = lesson.path, position
        rows.append(row)
    module.lessons = rows
