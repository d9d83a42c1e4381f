"""A trainee's progress through courses: best scores, completion, what to do next."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session, selectinload

from lms.models import (
    CellGrade,
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
    points: float = 0.0  # the best graded score of each exercise, summed
    max_points: float = 0.0

    @property
    def percent(self) -> int:
        """Completed exercises as a whole percentage."""
        if not self.exercises_total:
            return 0
        return round(100 * self.exercises_done / self.exercises_total)

    @property
    def points_percent(self) -> int:
        """Points earned as a whole percentage of the course's points."""
        return percent_of(self.points, self.max_points)


def percent_of(points: float, max_points: float) -> int:
    """`points` as a whole percentage of `max_points` (0 when there are none)."""
    return round(100 * points / max_points) if max_points else 0


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


def done_exercises(session: Session, user_id: int) -> set[int]:
    """Ids of the exercises where one graded attempt passed every autograded test: what a
    person grades (manual answers, tasks) may be pending or graded, and may score anything."""
    failed_test = exists().where(
        CellGrade.submission_id == Submission.id,
        CellGrade.kind == "test",
        CellGrade.score < CellGrade.max_score,
    )
    return set(
        session.scalars(
            select(Submission.exercise_id)
            .where(
                Submission.user_id == user_id,
                Submission.purpose == SubmissionPurpose.GRADE,
                Submission.status == SubmissionStatus.GRADED,
                ~failed_test,
            )
            .distinct()
        )
    )


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


def _course_progress(course: Course, best: dict[int, float], done: set[int]) -> CourseProgress:
    pending = [(m, e) for m in course.modules for e in m.exercises if e.id not in done]
    exercises = [e for m in course.modules for e in m.exercises]
    next_module, next_exercise = pending[0] if pending else (None, None)
    # A module not begun yet starts with its first lesson, not straight with the exercise.
    begun = next_module is not None and any(e.id in best for e in next_module.exercises)
    return CourseProgress(
        course=course,
        exercises_total=len(exercises),
        exercises_done=len(exercises) - len(pending),
        started=any(e.id in best for e in exercises),
        next_exercise=next_exercise,
        next_lesson=next_module.lessons[0]
        if next_module and next_module.lessons and not begun
        else None,
        points=sum(best.get(e.id) or 0.0 for e in exercises),
        max_points=sum(e.max_score for e in exercises),
    )


def dashboard(session: Session, user_id: int) -> list[CourseProgress]:
    """Progress in every course: started courses first."""
    best = best_scores(session, user_id)
    done = done_exercises(session, user_id)
    progress = [_course_progress(course, best, done) for course in list_courses(session)]
    return sorted(progress, key=lambda p: not p.started)


@dataclass(frozen=True)
class CoursePage:
    """One course with the trainee's progress, best score and completion per exercise."""

    progress: CourseProgress
    best: dict[int, float]
    done: set[int]


def course_page(session: Session, user_id: int, slug: str) -> CoursePage | None:
    """The course with this slug and the trainee's progress in it (None if there is none)."""
    course = get_course(session, slug)
    if course is None:
        return None
    best = best_scores(session, user_id)
    done = done_exercises(session, user_id)
    return CoursePage(_course_progress(course, best, done), best, done)


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
