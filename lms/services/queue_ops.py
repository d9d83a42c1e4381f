"""What admins need to operate the grading queue: its depth, what runs, what failed, a retry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from lms.models import Exercise, GradingJob, JobStatus, Submission, User, utcnow
from lms.services import grading_jobs


@dataclass(frozen=True)
class JobRow:
    """One job as the operations page lists it."""

    id: int
    submission_id: int
    trainee: str
    exercise: str
    status: str
    attempts: int
    worker: str | None
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    reason: str | None

    @property
    def running_seconds(self) -> float | None:
        """How long it has been running (None when not running)."""
        if self.status != JobStatus.RUNNING or self.started_at is None:
            return None
        return (utcnow() - self.started_at).total_seconds()


@dataclass(frozen=True)
class QueueOverview:
    """Counts per state, the oldest waiting job, and the jobs worth an admin's look."""

    counts: dict[str, int]
    oldest_queued_at: datetime | None
    running: list[JobRow]
    failed: list[JobRow]
    retrying: list[JobRow]

    @property
    def depth(self) -> int:
        """Jobs waiting for a worker."""
        return self.counts.get(JobStatus.QUEUED.value, 0)

    @property
    def oldest_wait_seconds(self) -> float | None:
        """How long the oldest queued job has waited."""
        if self.oldest_queued_at is None:
            return None
        return (utcnow() - self.oldest_queued_at).total_seconds()


def overview(session: Session, limit: int = 50) -> QueueOverview:
    """The queue's state for the operations page."""
    counts = {status.value: 0 for status in JobStatus}
    counts.update(
        {
            status.value: count
            for status, count in session.execute(
                select(GradingJob.status, func.count()).group_by(GradingJob.status)
            )
        }
    )
    oldest = session.scalar(
        select(func.min(GradingJob.queued_at)).where(GradingJob.status == JobStatus.QUEUED)
    )
    return QueueOverview(
        counts=counts,
        oldest_queued_at=oldest,
        running=_rows(
            session, GradingJob.status == JobStatus.RUNNING, GradingJob.started_at, limit
        ),
        failed=_rows(
            session, GradingJob.status == JobStatus.FAILED, GradingJob.finished_at.desc(), limit
        ),
        # Jobs whose grader raised at least once and that wait for another try.
        retrying=_rows(
            session,
            (GradingJob.status == JobStatus.QUEUED) & GradingJob.error.is_not(None),
            GradingJob.id,
            limit,
        ),
    )


def _rows(session: Session, condition: object, order: object, limit: int) -> list[JobRow]:
    jobs = session.scalars(
        select(GradingJob)
        .where(condition)
        .order_by(order)
        .limit(limit)
        .options(joinedload(GradingJob.submission).joinedload(Submission.exercise))
    ).all()
    emails = (
        dict(
            session.execute(
                select(User.id, User.email).where(
                    User.id.in_({job.submission.user_id for job in jobs})
                )
            ).all()
        )
        if jobs
        else {}
    )
    return [_row(job, emails.get(job.submission.user_id, "?")) for job in jobs]


def _row(job: GradingJob, trainee: str) -> JobRow:
    exercise: Exercise = job.submission.exercise
    return JobRow(
        id=job.id,
        submission_id=job.submission_id,
        trainee=trainee,
        exercise=exercise.slug,
        status=job.status.value,
        attempts=job.attempts,
        worker=job.worker,
        queued_at=job.queued_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        reason=failure_reason(job.error),
    )


def failure_reason(error: str | None) -> str | None:
    """The last line of a stored traceback (the exception and its message), or the sentence."""
    if not error:
        return None
    lines = [line for line in error.strip().splitlines() if line.strip()]
    return lines[-1][:500] if lines else None


def retry_job(session: Session, job_id: int) -> GradingJob:
    """Put a failed job back in the queue (NotFound, or Conflict if it did not fail)."""
    return grading_jobs.retry(session, job_id)
