"""A trainee's progress through courses: best scores, completion, what to do next."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from lms.models import (
    Course,
    Exercise,
    Lesson,
    Module,
    ModuleExercise,
    Submission,
    SubmissionPurpose,
    SubmissionStatus,
)


@dataclass(frozen=True)
class CourseProgress:
    """How far a trainee is in one course."""

    course: Course
    exercises_total: int
    exercises_done: int
    started: bool
    next_exercise: Exercise | None
    next_lesson: Lesson | None = None  # read first: the exercise's module is not begun yet

    @property
    def percent(self) -> int:
        """Completed exercises as a whole percentage."""
        if not self.exercises_total:
            return 0
        return round(100 * self.exercises_done / self.exercises_total)


def best_scores(session: Session, user_id: int) -> dict[int, float]:
    """Exercise id -> the trainee's best graded score."""
    rows = session.execute(
        select(Submission.exercise_id, func.max(Submission.score))
        .where(
            Submission.user_id == user_id,
            Submission.purpose == SubmissionPurpose.GRADE,
            Submission.status == SubmissionStatus.GRADED,
        )
        .group_by(Submission.exercise_id)
    )
    return {exercise_id: score for exercise_id, score in rows}


def is_done(exercise: Exercise, best: dict[int, float]) -> bool:
    """An exercise is done once a graded attempt earned every point."""
    return exercise.id in best and best[exercise.id] >= exercise.max_score


def _courses_with_contents() -> Select[tuple[Course]]:
    return select(Course).options(
        selectinload(Course.modules).selectinload(Module.lessons),
        selectinload(Course.modules)
        .selectinload(Module.exercise_links)
        .selectinload(ModuleExercise.exercise),
    )


def list_courses(session: Session) -> list[Course]:
    """Every course, in catalogue order, with modules, lessons and exercises loaded."""
    return list(session.scalars(_courses_with_contents().order_by(Course.position, Course.slug)))


def dashboard(session: Session, user_id: int) -> list[CourseProgress]:
    """Progress in every course: started courses first."""
    best = best_scores(session, user_id)
    progress = []
    for course in list_courses(session):
        pending = [(m, e) for m in course.modules for e in m.exercises if not is_done(e, best)]
        exercises = [e for m in course.modules for e in m.exercises]
        next_module, next_exercise = pending[0] if pending else (None, None)
        # A module not begun yet starts with its first lesson, not straight with the exercise.
        begun = next_module is not None and any(e.id in best for e in next_module.exercises)
        progress.append(
            CourseProgress(
                course=course,
                exercises_total=len(exercises),
                exercises_done=len(exercises) - len(pending),
                started=any(e.id in best for e in exercises),
                next_exercise=next_exercise,
                next_lesson=next_module.lessons[0]
                if next_module and next_module.lessons and not begun
                else None,
            )
        )
    return sorted(progress, key=lambda p: not p.started)


def get_course(session: Session, slug: str) -> Course | None:
    """The course with this slug, with its modules, lessons and exercises."""
    return session.scalar(_courses_with_contents().where(Course.slug == slug))


def get_lesson(
    session: Session, course_slug: str, module_slug: str, lesson_slug: str
) -> tuple[Lesson, Lesson | None, Lesson | None] | None:
    """The lesson with the previous and next lessons of its course (or None if absent)."""
    course = get_course(session, course_slug)
    if course is None:
        return None
    lessons = [lesson for m in course.modules for lesson in m.lessons]
    for index, lesson in enumerate(lessons):
        if lesson.module.slug == module_slug and lesson.slug == lesson_slug:
            before = lessons[index - 1] if index else None
            after = lessons[index + 1] if index + 1 < len(lessons) else None
            return lesson, before, after
    return None
