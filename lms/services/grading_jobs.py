"""The grading job's life cycle, in one place: claim, release, retry, fail, apply the result.

Every backend (the embedded threads, the Celery task) and the operations page move a job only
through these functions. The submission's status is not stored: it is derived from its job
(`Submission.status`, see lms.models.grading_jobs), so the two can never disagree.

A broker (Celery over Redis) may deliver a job's message twice: after a worker died mid-job, after
a visibility timeout, or because the job was re-dispatched. The job row decides what happens
(`claim_job`): queued -> take it; done or failed -> nothing to do; running -> take it over only
once its claimant is gone (its lease ran out, or its process on this host no longer exists).
A trainee has at most one job running: both claims skip a trainee's next job meanwhile.
"""

from __future__ import annotations

import enum
import json
import os
import socket
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from grading.job import GradeJob, GradeResult
from lms.content.translations import notebook_language
from lms.errors import Conflict, NotFound
from lms.i18n import N_
from lms.models import (
    CellGrade,
    Exercise,
    GradingJob,
    JobStatus,
    Submission,
    SubmissionPurpose,
    utcnow,
)
from lms.services import regrades, variants
from lms.services.blobs import get_blob, put_blob

MAX_ATTEMPTS = 3


def _trainee_busy():
    """Whether the trainee of the grading job in the enclosing statement has another job
    running: a trainee has one job running at a time, so one trainee's many or slow notebooks
    never hold every worker while other trainees wait (each waits for at most its own share)."""
    other, others_submission = aliased(GradingJob), aliased(Submission)
    trainee = (
        select(Submission.user_id)
        .where(Submission.id == GradingJob.submission_id)
        .correlate(GradingJob)
        .scalar_subquery()
    )
    return (
        exists()
        .where(other.status == JobStatus.RUNNING, other.id != GradingJob.id)
        .where(others_submission.id == other.submission_id, others_submission.user_id == trainee)
    )


def _lock_trainee(session: Session, job_id: int) -> None:
    # PostgreSQL runs two claims at once: serialise the claims of one trainee (until commit) so
    # both cannot pass the busy check. SQLite serialises every write already.
    if session.get_bind().dialect.name != "postgresql":
        return
    user_id = session.scalar(
        select(Submission.user_id)
        .join(GradingJob, GradingJob.submission_id == Submission.id)
        .where(GradingJob.id == job_id)
    )
    if user_id is not None:
        session.execute(select(func.pg_advisory_xact_lock(_TRAINEE_LOCKS, user_id)))


_TRAINEE_LOCKS = 0x61746C61  # the advisory-lock namespace of trainee claims ("atla")


def claim_next(session: Session, worker: str) -> int | None:
    """Atomically take the oldest queued job for `worker` whose trainee has no job running;
    its id, or None when none is left."""
    while True:
        job_id = session.scalar(
            select(GradingJob.id)
            .where(GradingJob.status == JobStatus.QUEUED, ~_trainee_busy())
            .order_by(GradingJob.id)
            .limit(1)
        )
        if job_id is None:
            session.rollback()
            return None
        if claim(session, job_id, worker):
            return job_id


def claim(session: Session, job_id: int, worker: str) -> bool:
    """Take job `job_id` if it is still queued (another worker may have taken it first) and
    its trainee has no other job running."""
    _lock_trainee(session, job_id)
    taken = (
        session.execute(
            update(GradingJob)
            .where(
                GradingJob.id == job_id,
                GradingJob.status == JobStatus.QUEUED,
                ~_trainee_busy(),
            )
            .values(
                status=JobStatus.RUNNING,
                worker=worker,
                started_at=utcnow(),
                attempts=GradingJob.attempts + 1,
            )
        ).rowcount
        == 1
    )
    _commit_and_refresh_status(session)
    return taken


def _commit_and_refresh_status(session: Session) -> None:
    # Sessions keep their objects after a commit (expire_on_commit=False): the derived status
    # of the submissions they hold must be read again.
    session.commit()
    for instance in session.identity_map.values():
        if isinstance(instance, Submission):
            session.expire(instance, ["status"])


def build_grade_job(session: Session, job_id: int) -> tuple[GradeJob, SubmissionPurpose]:
    """The grader's job for a queued grading job: the source, the submission, the data files."""
    job = session.get(GradingJob, job_id)
    submission = job.submission
    exercise = session.get(Exercise, submission.exercise_id)
    notebook = get_blob(session, submission.notebook_sha256)
    # An assessment with a variant pool is graded against the variant the trainee was given
    # (stored server-side, lms.services.variants), never one the notebook names: a notebook
    # copied from a trainee with another variant is graded against the copier's variant.
    sources = variants.stored(session, submission.user_id, exercise) or exercise
    # A notebook released in French is graded against the French source: the same code and
    # tests, but its locked markdown cells (and their checksums) are the French ones.
    source_sha256 = sources.source_sha256
    if sources.source_fr_sha256 and notebook_language(notebook) == "fr":
        source_sha256 = sources.source_fr_sha256
    grade_job = GradeJob(
        source=get_blob(session, source_sha256).decode("utf-8"),
        submission=notebook,
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
    regrade = regrades.pending_item(session, submission.id)
    if regrade is not None and result.status != "graded":
        # A regrade the grader refused: the submission keeps its old result and score.
        regrades.refuse(regrade, result.error)
        job.status, job.finished_at = JobStatus.DONE, utcnow()
        _commit_and_refresh_status(session)
        return False
    by_hand = regrades.hand_scores(submission) if regrade is not None else []
    if submission.cells:
        # A regrade replaces the cells: the old rows go first (one grade per cell id).
        submission.cells = []
        session.flush()
    submission.rejected = result.status != "graded"
    submission.score, submission.max_score = result.score, result.max_score
    submission.needs_manual_grade = result.needs_manual_grade
    submission.flags, submission.error = list(result.flags), result.error
    submission.feedback_html = result.feedback_html
    submission.checks = [asdict(check) for check in result.checks]
    submission.hidden_points = result.hidden_points
    submission.shown_flags = list(result.shown_flags)
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
    if regrade is not None:
        regrades.keep_hand_scores(regrade, submission, by_hand)
    submission.graded_at = job.finished_at = utcnow()
    job.status = JobStatus.DONE
    _commit_and_refresh_status(session)
    return True


def submission_of(session: Session, job_id: int) -> int | None:
    """The submission a job grades."""
    return session.scalar(select(GradingJob.submission_id).where(GradingJob.id == job_id))


def record_failure(session: Session, job_id: int, error: str) -> None:
    """The grader crashed on this job: retry it, or after MAX_ATTEMPTS mark it failed for good."""
    job = session.get(GradingJob, job_id, with_for_update=True)
    if job is None or job.status is not JobStatus.RUNNING:
        session.rollback()
        return
    job.error = error[-4000:]
    regrade = regrades.pending_item(session, job.submission_id)
    if job.attempts < MAX_ATTEMPTS:
        job.status = JobStatus.QUEUED
    elif regrade is not None:
        # A regrade the grader failed on for good: the previous result stands, the item says so.
        regrades.refuse(regrade, "The grader failed on this notebook: " + error[-2000:])
        job.status, job.finished_at = JobStatus.DONE, utcnow()
    else:
        job.status, job.finished_at = JobStatus.FAILED, utcnow()
        job.submission.error = (
            "The grader failed on this notebook. Your file is kept; "
            "an instructor has been told and can re-grade it."
        )
    _commit_and_refresh_status(session)


def requeue_abandoned(session: Session) -> int:
    """Put back in the queue jobs left running by a server that stopped; how many."""
    ids = list(session.scalars(select(GradingJob.id).where(GradingJob.status == JobStatus.RUNNING)))
    if ids:
        session.execute(
            update(GradingJob)
            .where(GradingJob.id.in_(ids))
            .values(status=JobStatus.QUEUED, worker=None)
        )
    _commit_and_refresh_status(session)
    return len(ids)


def retry(session: Session, job_id: int) -> GradingJob:
    """Put a failed job back in the queue with fresh attempts (the caller hands it to the
    queue); its last error stays visible until it is graded."""
    job = session.get(GradingJob, job_id)
    if job is None:
        session.rollback()
        raise NotFound(N_("There is no grading job %(id)s."), id=job_id)
    if job.status != JobStatus.FAILED:
        session.rollback()
        raise Conflict(
            N_("Job %(id)s is %(status)s, not failed: only failed jobs can be retried."),
            id=job_id,
            status=job.status.value,
        )
    job.status, job.attempts, job.worker = JobStatus.QUEUED, 0, None
    job.started_at = job.finished_at = None
    job.queued_at = utcnow()
    job.submission.error = None
    _commit_and_refresh_status(session)
    return job


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


# --- claims of a given job, for messages a broker delivered --------------------------


class ClaimState(enum.StrEnum):
    """What a delivered message should do with its job."""

    CLAIMED = "claimed"  # ours now: grade it
    FINISHED = "finished"  # done or failed already: a duplicate delivery, nothing to do
    BUSY = "busy"  # another live worker holds it: look again in `retry_in` seconds
    MISSING = "missing"  # no such job (deleted with its submission)
    GAVE_UP = "gave_up"  # its workers died MAX_ATTEMPTS times: marked failed with the reason


@dataclass(frozen=True)
class Claim:
    """The outcome of `claim_job`."""

    state: ClaimState
    retry_in: float = 0.0
    previous_worker: str | None = None


def worker_name(label: str) -> str:
    """A worker name that says where it runs: `host:pid:label` (as the embedded pool's names)."""
    return f"{socket.gethostname()}:{os.getpid()}:{label}"[:120]


def claimant_is_gone(worker: str | None) -> bool:
    """Whether `worker` (host:pid:...) ran on this host in a process that no longer exists."""
    host, _, rest = (worker or "").partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False  # another machine: only its lease can tell
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # exists, owned by someone else
        return False
    return False


def claim_job(
    session: Session, job_id: int, worker: str, lease_seconds: float, now: datetime | None = None
) -> Claim:
    """Take job `job_id` for `worker` if it is queued or abandoned; say why not otherwise."""
    for _ in range(5):  # a concurrent claim or re-queue changes the row between our two looks
        if claim(session, job_id, worker):
            return Claim(ClaimState.CLAIMED)
        row = session.execute(
            select(
                GradingJob.status, GradingJob.worker, GradingJob.started_at, GradingJob.attempts
            ).where(GradingJob.id == job_id)
        ).one_or_none()
        session.rollback()
        if row is None:
            return Claim(ClaimState.MISSING)
        if row.status in (JobStatus.DONE, JobStatus.FAILED):
            return Claim(ClaimState.FINISHED, previous_worker=row.worker)
        if row.status == JobStatus.QUEUED:
            continue
        moment = now or utcnow()
        lease_end = (row.started_at or moment) + timedelta(seconds=lease_seconds)
        if lease_end > moment and not claimant_is_gone(row.worker):
            return Claim(ClaimState.BUSY, (lease_end - moment).total_seconds(), row.worker)
        if _take_over(session, job_id, row.attempts, worker, moment):
            if row.attempts >= MAX_ATTEMPTS:
                record_failure(
                    session,
                    job_id,
                    (
                        f"The worker grading this job was lost {row.attempts} times (killed, "
                        f"out of memory, or its machine stopped); last one: {row.worker}."
                    ),
                )
                return Claim(ClaimState.GAVE_UP, previous_worker=row.worker)
            return Claim(ClaimState.CLAIMED, previous_worker=row.worker)
    return Claim(ClaimState.BUSY, retry_in=1.0)


def _take_over(session: Session, job_id: int, attempts: int, worker: str, moment: datetime) -> bool:
    # `attempts` grows at every claim, so it versions the row: only one taker can win.
    taken = (
        session.execute(
            update(GradingJob)
            .where(
                GradingJob.id == job_id,
                GradingJob.status == JobStatus.RUNNING,
                GradingJob.attempts == attempts,
            )
            .values(worker=worker, started_at=moment, attempts=GradingJob.attempts + 1)
        ).rowcount
        == 1
    )
    _commit_and_refresh_status(session)
    return taken


def release(session: Session, job_id: int, worker: str) -> bool:
    """Give back a job `worker` claimed but could not finish (it goes back to the queue)."""
    released = (
        session.execute(
            update(GradingJob)
            .where(
                GradingJob.id == job_id,
                GradingJob.status == JobStatus.RUNNING,
                GradingJob.worker == worker,
            )
            .values(status=JobStatus.QUEUED, worker=None)
        ).rowcount
        == 1
    )
    _commit_and_refresh_status(session)
    return released


def jobs_to_dispatch(
    session: Session, queued_before: datetime, lease_seconds: float, limit: int = 10_000
) -> list[int]:
    """Jobs a broker may not hold: queued before `queued_before`, or running past their lease."""
    lease_start = utcnow() - timedelta(seconds=lease_seconds)
    ids = list(
        session.scalars(
            select(GradingJob.id)
            .where(
                or_(
                    (GradingJob.status == JobStatus.QUEUED)
                    & (GradingJob.queued_at <= queued_before),
                    (GradingJob.status == JobStatus.RUNNING)
                    & (GradingJob.started_at <= lease_start),
                )
            )
            .order_by(GradingJob.id)
            .limit(limit)
        )
    )
    session.rollback()
    return ids
