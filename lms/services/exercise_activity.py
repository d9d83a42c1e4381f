"""Activity per exercise for instructors: graded attempts, their authors, what is pending."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from lms.models import Exercise, Submission, SubmissionPurpose, SubmissionStatus, User


@dataclass(frozen=True)
class ExerciseActivity:
    """Graded attempts at an exercise: how many, by how many trainees, mean score."""

    exercise: Exercise
    attempts: int
    trainees: int
    mean_score: float | None
    pending: int


def per_exercise(session: Session) -> list[ExerciseActivity]:
    """Every exercise with its graded-attempt statistics."""
    graded = Submission.purpose == SubmissionPurpose.GRADE
    stats = {
        row.exercise_id: row
        for row in session.execute(
            select(
                Submission.exercise_id,
                func.count().label("attempts"),
                func.count(func.distinct(Submission.user_id)).label("trainees"),
                # a rejected file is not an attempt at the exercise: it must not pull the mean
                func.avg(
                    case((Submission.status == SubmissionStatus.GRADED, Submission.score))
                ).label("mean"),
            )
            .where(graded)
            .group_by(Submission.exercise_id)
        )
    }
    pending = dict(
        session.execute(
            select(Submission.exercise_id, func.count())
            .where(
                graded, Submission.status.in_((SubmissionStatus.QUEUED, SubmissionStatus.RUNNING))
            )
            .group_by(Submission.exercise_id)
        ).all()
    )
    result = []
    for exercise in session.scalars(select(Exercise).order_by(Exercise.slug)):
        row = stats.get(exercise.id)
        result.append(
            ExerciseActivity(
                exercise=exercise,
                attempts=row.attempts if row else 0,
                trainees=row.trainees if row else 0,
                mean_score=float(row.mean) if row and row.mean is not None else None,
                pending=pending.get(exercise.id, 0),
            )
        )
    return result


def exercise_submissions(session: Session, slug: str) -> tuple[Exercise, list[Submission]] | None:
    """An exercise and all its graded attempts, newest first, with their authors."""
    exercise = session.scalar(select(Exercise).where(Exercise.slug == slug))
    if exercise is None:
        return None
    rows = session.scalars(
        select(Submission)
        .where(Submission.exercise_id == exercise.id, Submission.purpose == SubmissionPurpose.GRADE)
        .order_by(Submission.id.desc())
        .limit(500)
    )
    return exercise, list(rows)


def users_by_id(session: Session, ids: set[int]) -> dict[int, User]:
    """The users with these ids."""
    if not ids:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}
