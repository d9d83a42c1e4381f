"""The grading jobs' life cycle: claim, build the grader's job, apply its result once."""

from __future__ import annotations

import json

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from grading.job import GradeJob, GradeResult
from lms.models import (
    CellGrade,
    Exercise,
    GradingJob,
    JobStatus,
    Submission,
    SubmissionPurpose,
    SubmissionStatus,
    utcnow,
)
from lms.services.blobs import get_blob, put_blob

MAX_ATTEMPTS = 3


def claim_next(session: Session, worker: str) -> int | None:
    """Atomically take the oldest queued job for `worker`; its id, or None when none is left."""
    while True:
        job_id = session.scalar(
            select(GradingJob.id)
            .where(GradingJob.status == JobStatus.QUEUED)
            .order_by(GradingJob.id)
            .limit(1)
        )
        if job_id is None:
            session.rollback()
            return None
        if claim(session, job_id, worker):
            return job_id


def claim(session: Session, job_id: int, worker: str) -> bool:
    """Take job `job_id` if it is still queued (another worker may have taken it first)."""
    taken = (
        session.execute(
            update(GradingJob)
            .where(GradingJob.id == job_id, GradingJob.status == JobStatus.QUEUED)
            .values(
                status=JobStatus.RUNNING,
                worker=worker,
                started_at=utcnow(),
                attempts=GradingJob.attempts + 1,
            )
        ).rowcount
        == 1
    )
    if taken:
        set_submission_status(session, job_id, SubmissionStatus.RUNNING)
    session.commit()
    return taken


def set_submission_status(session: Session, job_id: int, status: SubmissionStatus) -> None:
    """Move the submission of a job to `status` (the caller commits)."""
    session.execute(
        update(Submission)
        .where(
            Submission.id
            == select(GradingJob.submission_id).where(GradingJob.id == job_id).scalar_subquery()
        )
        .values(status=status)
    )


def build_grade_job(session: Session, job_id: int) -> tuple[GradeJob, SubmissionPurpose]:
    """The grader's job for a queued grading job: the source, the submission, the data files."""
    job = session.get(GradingJob, job_id)
    submission = job.submission
    exercise = session.get(Exercise, submission.exercise_id)
    grade_job = GradeJob(
        source=get_blob(session, exercise.source_sha256).decode("utf-8"),
        submission=get_blob(session, submission.notebook_sha256),
        name=submission.notebook_name,
        files={f.path: get_blob(session, f.sha256) for f in exercise.files},
        timeout=exercise.timeout,
        job_id=str(job_id),
    )
    purpose = submission.purpose
    session.rollback()  # end the read transaction: grading may take a while
    return grade_job, purpose


def apply_result(session: Session, job_id: int, result: GradeResult) -> bool:
    """Record a result on the job's submission; a second call for the same job changes nothing."""
    job = session.get(GradingJob, job_id, with_for_update=True)
    if job is None or job.status in (JobStatus.DONE, JobStatus.FAILED):
        session.rollback()
        return False
    submission = job.submission
    submission.status = (
        SubmissionStatus.GRADED if result.status == "graded" else SubmissionStatus.REJECTED
    )
    submission.score, submission.max_score = result.score, result.max_score
    submission.needs_manual_grade = result.needs_manual_grade
    submission.flags, submission.error = list(result.flags), result.error
    submission.feedback_html = result.feedback_html
    if result.graded_notebook is not None:
        submission.graded_notebook_sha256 = put_blob(session, result.graded_notebook.encode())
    submission.cells = [
        CellGrade(
            grade_id=c.grade_id,
            kind=c.kind,
            score=c.score,
            max_score=c.max_score,
            needs_manual_grade=c.needs_manual_grade,
        )
        for c in result.cells
    ]
    submission.graded_at = job.finished_at = utcnow()
    job.status = JobStatus.DONE
    session.commit()
    return True


def record_failure(session: Session, job_id: int, error: str) -> None:
    """The grader crashed on this job: retry it, or after MAX_ATTEMPTS mark it failed for good."""
    job = session.get(GradingJob, job_id, with_for_update=True)
    if job is None or job.status is not JobStatus.RUNNING:
        session.rollback()
        return
    job.error = error[-4000:]
    if job.attempts < MAX_ATTEMPTS:
        job.status = JobStatus.QUEUED
        job.submission.status = SubmissionStatus.QUEUED
    else:
        job.status, job.finished_at = JobStatus.FAILED, utcnow()
        job.submission.status = SubmissionStatus.FAILED
        job.submission.error = (
            "The grader failed on this notebook. Your file is kept; "
            "an instructor has been told and can re-grade it."
        )
    session.commit()


def requeue_abandoned(session: Session) -> int:
    """Put back in the queue jobs left running by a server that stopped; how many."""
    ids = list(session.scalars(select(GradingJob.id).where(GradingJob.status == JobStatus.RUNNING)))
    if ids:
        session.execute(
            update(GradingJob)
            .where(GradingJob.id.in_(ids))
            .values(status=JobStatus.QUEUED, worker=None)
        )
        session.execute(
            update(Submission)
            .where(
                Submission.id.in_(select(GradingJob.submission_id).where(GradingJob.id.in_(ids)))
            )
            .values(status=SubmissionStatus.QUEUED)
        )
    session.commit()
    return len(ids)


def jobs_ahead(session: Session, submission_id: int) -> int:
    """How many queued jobs will be taken before this submission's (0 once it runs)."""
    own = select(GradingJob.id).where(GradingJob.submission_id == submission_id).scalar_subquery()
    return session.scalar(
        select(func.count()).where(GradingJob.status == JobStatus.QUEUED, GradingJob.id < own)
    )


def job_summary(result: GradeResult) -> str:
    """A one-line description of a result, for logs."""
    return json.dumps(
        {
            "status": result.status,
            "score": result.score,
            "max_score": result.max_score,
            "flags": list(result.flags),
        }
    )
