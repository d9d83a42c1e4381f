"""Claiming one given job for a message a broker delivered, and finding jobs a broker may have lost.

A broker (Celery over Redis) may deliver a job's message twice: after a worker died mid-job, after
a visibility timeout, or because the job was re-dispatched. The job row decides what happens:
queued -> take it; done or failed -> nothing to do; running -> take it over only once its
claimant is gone (its lease ran out, or its process on this host no longer exists), else wait.
"""

from __future__ import annotations

import enum
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from lms.models import GradingJob, JobStatus, SubmissionStatus, utcnow
from lms.services import grading_jobs


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
        if grading_jobs.claim(session, job_id, worker):
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
            if row.attempts >= grading_jobs.MAX_ATTEMPTS:
                grading_jobs.record_failure(
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
    session.commit()
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
    if released:
        grading_jobs.set_submission_status(session, job_id, SubmissionStatus.QUEUED)
    session.commit()
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
