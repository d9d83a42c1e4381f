"""Regrading: grade submissions again with the exercise as it is now, through the grading queue.

An instructor asks for one graded attempt, or every graded attempt at an exercise (after fixing
a test). Each submission's job goes back to the queue; its score and cells as they were are kept
first on a `RegradeItem`, so the history always holds the old score.

What a regrade does to scores a person gave (hand grades and overrides): they survive. Where
the cell is still there with the same points, the person's score stands and the grader's new
score is kept beside it (`CellGrade.auto_score`); the item lists those cells (`kept_by_hand`) so
the instructor sees them and can override again. A cell that is gone or changed its points
loses the person's score (`dropped_by_hand`: the override rows stay as history).

A regrade that does not end in a grade (the grader rejects the notebook, or fails on it for
good) changes nothing on the submission: the old score stands and the item says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from lms.errors import Conflict, NotFound
from lms.i18n import N_
from lms.models import (
    CellGrade,
    Exercise,
    GradingJob,
    JobStatus,
    Submission,
    SubmissionPurpose,
    SubmissionStatus,
    User,
    utcnow,
)
from lms.models.regrades import RegradeItem, RegradeRun, RegradeStatus
from lms.services import audit

RECENT_RUNS = 5


@dataclass(frozen=True)
class Requested:
    """A regrade run and the grading jobs it put back in the queue (to hand to the workers)."""

    run_id: int
    job_ids: list[int]


@dataclass(frozen=True)
class Progress:
    """How far a run got: x of N done, of which some failed (their old score stands)."""

    run: RegradeRun
    exercise: Exercise
    total: int
    regraded: int
    failed: int

    @property
    def done(self) -> int:
        """Items finished, regraded or not."""
        return self.regraded + self.failed

    @property
    def finished(self) -> bool:
        """Whether every item is finished."""
        return self.done >= self.total

    def to_json(self) -> dict[str, Any]:
        """What the progress page polls."""
        return {
            "id": self.run.id,
            "exercise": self.exercise.slug,
            "total": self.total,
            "done": self.done,
            "regraded": self.regraded,
            "failed": self.failed,
            "finished": self.finished,
        }


def _graded_attempts():
    return select(Submission).where(
        Submission.purpose == SubmissionPurpose.GRADE,
        Submission.status == SubmissionStatus.GRADED,
    )


def regrade_submission(session: Session, submission_id: int, by_user_id: int) -> Requested:
    """Queue one graded attempt for a regrade (not graded yet or being regraded: Conflict)."""
    submission = session.get(Submission, submission_id)
    if submission is None:
        session.rollback()
        raise NotFound(N_("There is no submission %(id)s."), id=submission_id)
    if submission.purpose != SubmissionPurpose.GRADE or submission.status != (
        SubmissionStatus.GRADED
    ):
        session.rollback()
        raise Conflict(
            N_("Only a graded attempt can be regraded; this one is %(status)s."),
            status=submission.status.value,
        )
    return _request(session, submission.exercise_id, [submission], by_user_id, submission.id)


def regrade_exercise(session: Session, exercise_slug: str, by_user_id: int) -> Requested:
    """Queue every graded attempt at an exercise for a regrade (none: Conflict)."""
    exercise = session.scalar(select(Exercise).where(Exercise.slug == exercise_slug))
    if exercise is None:
        session.rollback()
        raise NotFound(N_("There is no exercise %(slug)s."), slug=exercise_slug or "–")
    attempts = list(
        session.scalars(
            _graded_attempts().where(Submission.exercise_id == exercise.id).order_by(Submission.id)
        )
    )
    if not attempts:
        session.rollback()
        raise Conflict(
            N_("No attempt at %(slug)s is graded: there is nothing to regrade."),
            slug=exercise.slug,
        )
    return _request(session, exercise.id, attempts, by_user_id, None)


def _request(
    session: Session,
    exercise_id: int,
    attempts: list[Submission],
    by_user_id: int,
    submission_id: int | None,
) -> Requested:
    run = RegradeRun(
        exercise_id=exercise_id,
        submission_id=submission_id,
        by_user_id=by_user_id,
        requested_at=utcnow(),
    )
    session.add(run)
    jobs = {
        job.submission_id: job
        for job in session.scalars(
            select(GradingJob)
            .where(GradingJob.submission_id.in_([s.id for s in attempts]))
            .with_for_update()
        )
    }
    job_ids = []
    for submission in attempts:
        job = jobs.get(submission.id)
        if job is None or job.status != JobStatus.DONE:
            continue  # being graded meanwhile: its coming result is the new one anyway
        run.items.append(
            RegradeItem(
                submission_id=submission.id,
                status=RegradeStatus.QUEUED,
                old_score=submission.score,
                old_max_score=submission.max_score,
                old_cells=[_cell_snapshot(c) for c in submission.cells],
                kept_by_hand=[],
                dropped_by_hand=[],
            )
        )
        # Back to the queue as a fresh job: the grader reads the exercise as it is now.
        job.status, job.attempts, job.worker, job.error = JobStatus.QUEUED, 0, None, None
        job.started_at = job.finished_at = None
        job.queued_at = utcnow()
        job_ids.append(job.id)
    if not job_ids:
        session.rollback()
        raise Conflict(N_("These attempts are being graded already; wait for their result."))
    audit.record(
        session,
        "grade.regrade",
        by_user_id,
        attempts[0].user_id if submission_id is not None else None,
        exercise=exercise_id,
        submissions=len(job_ids),
    )
    session.commit()
    for submission in attempts:
        session.expire(submission, ["status"])
    return Requested(run_id=run.id, job_ids=job_ids)


def _cell_snapshot(cell: CellGrade) -> dict[str, Any]:
    return {
        "grade_id": cell.grade_id,
        "kind": cell.kind,
        "score": cell.score,
        "max_score": cell.max_score,
        "auto_score": cell.auto_score,
        "by_hand": cell.manually_graded_at is not None,
    }


# --- called by the job's life cycle (lms.services.grading_jobs) ----------------------------


def pending_item(session: Session, submission_id: int) -> RegradeItem | None:
    """The regrade waiting for this submission's job, if its job is a regrade."""
    return session.scalar(
        select(RegradeItem)
        .where(
            RegradeItem.submission_id == submission_id,
            RegradeItem.status == RegradeStatus.QUEUED,
        )
        .order_by(RegradeItem.id.desc())
        .limit(1)
    )


def hand_scores(submission: Submission) -> list[dict[str, Any]]:
    """The cells of `submission` a person scored, as plain values (read before a new result
    replaces the cells)."""
    return [
        {
            "grade_id": c.grade_id,
            "score": c.score,
            "max_score": c.max_score,
            "comment": c.comment,
            "graded_by_id": c.graded_by_id,
            "manually_graded_at": c.manually_graded_at,
        }
        for c in submission.cells
        if c.manually_graded_at is not None
    ]


def keep_hand_scores(
    item: RegradeItem, submission: Submission, before: list[dict[str, Any]]
) -> None:
    """After the new result is on `submission`: put back the scores a person gave (see the
    module's docstring), recompute the total, and close the item as regraded."""
    new_cells = {c.grade_id: c for c in submission.cells}
    kept, dropped = [], []
    for old in before:
        new = new_cells.get(old["grade_id"])
        if new is None or new.max_score != old["max_score"]:
            dropped.append(old["grade_id"])
            continue
        new.auto_score, new.score, new.needs_manual_grade = new.score, old["score"], False
        new.comment, new.graded_by_id = old["comment"], old["graded_by_id"]
        new.manually_graded_at = old["manually_graded_at"]
        kept.append(old["grade_id"])
    if kept:
        submission.score = sum(c.score for c in submission.cells)
        submission.needs_manual_grade = any(c.needs_manual_grade for c in submission.cells)
    item.kept_by_hand, item.dropped_by_hand = kept, dropped
    item.status, item.finished_at = RegradeStatus.REGRADED, utcnow()
    item.new_score, item.new_max_score = submission.score, submission.max_score


def refuse(item: RegradeItem, error: str | None) -> None:
    """The regrade did not end in a grade: the submission keeps its old score; say why."""
    item.status, item.finished_at = RegradeStatus.FAILED, utcnow()
    item.error = (error or "The grader gave no reason.")[-4000:]


# --- reading ------------------------------------------------------------------------------


def _progress_query():
    def counted(status: RegradeStatus):
        return func.coalesce(func.sum(case((RegradeItem.status == status, 1), else_=0)), 0)

    return (
        select(
            RegradeRun,
            Exercise,
            func.count(RegradeItem.id),
            counted(RegradeStatus.REGRADED),
            counted(RegradeStatus.FAILED),
        )
        .join(Exercise, Exercise.id == RegradeRun.exercise_id)
        .outerjoin(RegradeItem, RegradeItem.run_id == RegradeRun.id)
        .group_by(RegradeRun.id, Exercise.id)
    )


def _progress_rows(session: Session, query) -> list[Progress]:
    return [
        Progress(run=run, exercise=exercise, total=total, regraded=regraded, failed=failed)
        for run, exercise, total, regraded, failed in session.execute(query)
    ]


def progress(session: Session, run_id: int) -> Progress | None:
    """How far one run got (None if there is no such run)."""
    found = _progress_rows(session, _progress_query().where(RegradeRun.id == run_id))
    return found[0] if found else None


def recent(session: Session, limit: int = RECENT_RUNS) -> list[Progress]:
    """The latest runs, newest first, with their progress (one query: the gradebook shows it)."""
    query = _progress_query().order_by(RegradeRun.id.desc()).limit(limit)
    return _progress_rows(session, query)


def run_items(session: Session, run_id: int) -> list[tuple[RegradeItem, User]]:
    """A run's items with each submission's trainee, in the order they were queued."""
    rows = session.execute(
        select(RegradeItem, User)
        .join(Submission, Submission.id == RegradeItem.submission_id)
        .join(User, User.id == Submission.user_id)
        .where(RegradeItem.run_id == run_id)
        .order_by(RegradeItem.id)
    )
    return [(item, user) for item, user in rows]


def history(session: Session, submission_id: int) -> list[RegradeItem]:
    """Every regrade of one submission, newest first (its old scores)."""
    return list(
        session.scalars(
            select(RegradeItem)
            .where(RegradeItem.submission_id == submission_id)
            .order_by(RegradeItem.id.desc())
        )
    )


def being_regraded():
    """Submissions whose regrade is queued or running (they keep showing their old score)."""
    return select(RegradeItem.submission_id).where(RegradeItem.status == RegradeStatus.QUEUED)


def counts_in_gradebook():
    """The condition for a graded attempt the gradebook shows: graded, or graded before and
    being regraded now (its old score stands until the new one arrives)."""
    return or_(Submission.status == SubmissionStatus.GRADED, Submission.id.in_(being_regraded()))
