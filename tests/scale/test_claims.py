"""Claiming a given job for a broker's delivery: queued, finished, held by a live worker, or
abandoned (lease over, or its process gone), and which jobs a broker may have lost."""

from __future__ import annotations

import secrets
import socket
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import update

from lms.models import GradingJob, JobStatus, Submission, SubmissionPurpose, SubmissionStatus
from lms.models import utcnow as now
from lms.services import grading_jobs, submissions

LEASE = 60.0
HOST = socket.gethostname()


@pytest.fixture
def job_id(session, users, content) -> int:
    """A queued grading job for a trainee's submission of the fixture exercise."""
    from sqlalchemy import select

    from lms.models import User

    trainee = session.scalar(select(User).where(User.email == users.trainee))
    exercise = submissions.get_exercise(session, "squares")
    notebook = submissions.notebook_from_answers(session, exercise, {})
    queued = submissions.submit(
        session,
        user_id=trainee.id,
        exercise_slug="squares",
        notebook=notebook,
        name="squares.ipynb",
        origin="upload",
        purpose=SubmissionPurpose.GRADE,
        token=secrets.token_hex(8),
    )
    return queued.job_id


def _job(session, job_id: int) -> GradingJob:
    session.expire_all()
    return session.get(GradingJob, job_id)


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_a_queued_job_is_claimed_and_a_second_delivery_waits_for_the_lease(session, job_id):
    first = grading_jobs.claim_job(session, job_id, f"{HOST}:1:celery", LEASE)
    assert first.state is grading_jobs.ClaimState.CLAIMED and first.previous_worker is None
    job = _job(session, job_id)
    assert job.status is JobStatus.RUNNING and job.attempts == 1
    assert job.submission.status is SubmissionStatus.RUNNING

    second = grading_jobs.claim_job(session, job_id, "other-host:7:celery", LEASE)
    assert second.state is grading_jobs.ClaimState.BUSY
    assert second.previous_worker == f"{HOST}:1:celery"  # pid 1 is alive: wait for the lease
    assert 0 < second.retry_in <= LEASE
    assert _job(session, job_id).attempts == 1


def test_a_job_whose_lease_ran_out_is_taken_over_once(session, job_id):
    grading_jobs.claim_job(session, job_id, "far-away:123:celery", LEASE)
    later = now() + timedelta(seconds=LEASE + 1)
    taken = grading_jobs.claim_job(session, job_id, f"{HOST}:2:celery", LEASE, now=later)
    assert taken.state is grading_jobs.ClaimState.CLAIMED
    assert taken.previous_worker == "far-away:123:celery"
    again = grading_jobs.claim_job(session, job_id, f"{HOST}:3:celery", LEASE, now=later)
    assert again.state is grading_jobs.ClaimState.BUSY  # the new lease started at the take-over
    job = _job(session, job_id)
    assert job.attempts == 2 and job.worker == f"{HOST}:2:celery"


def test_a_job_of_a_dead_process_on_this_host_is_taken_over_at_once(session, job_id):
    dead = f"{HOST}:{_dead_pid()}:celery"
    grading_jobs.claim_job(session, job_id, dead, LEASE)
    assert grading_jobs.claimant_is_gone(dead)
    taken = grading_jobs.claim_job(session, job_id, f"{HOST}:1:celery", LEASE)
    assert taken.state is grading_jobs.ClaimState.CLAIMED and taken.previous_worker == dead


def test_claimant_liveness_is_only_judged_on_this_host() -> None:
    assert not grading_jobs.claimant_is_gone(f"another-{HOST}:{_dead_pid()}:celery")
    assert not grading_jobs.claimant_is_gone(None)
    assert not grading_jobs.claimant_is_gone("garbage")
    assert grading_jobs.worker_name("celery").startswith(f"{HOST}:")


def test_finished_and_missing_jobs_are_left_alone(session, job_id):
    grading_jobs.claim_job(session, job_id, "w:1:celery", LEASE)
    session.execute(update(GradingJob).where(GradingJob.id == job_id).values(status=JobStatus.DONE))
    session.commit()
    later = now() + timedelta(days=1)
    finished = grading_jobs.claim_job(session, job_id, "w:2:celery", LEASE, now=later)
    assert finished.state is grading_jobs.ClaimState.FINISHED
    assert _job(session, job_id).attempts == 1
    missing = grading_jobs.claim_job(session, 10_000, "w:2:celery", LEASE)
    assert missing.state is grading_jobs.ClaimState.MISSING


def test_a_job_whose_workers_keep_dying_is_failed_with_the_reason(session, job_id):
    moment = now()
    for attempt in range(grading_jobs.MAX_ATTEMPTS):
        moment += timedelta(seconds=LEASE + 1)
        worker = f"far:{attempt}:celery"
        outcome = grading_jobs.claim_job(session, job_id, worker, LEASE, now=moment)
        assert outcome.state is grading_jobs.ClaimState.CLAIMED
    moment += timedelta(seconds=LEASE + 1)
    outcome = grading_jobs.claim_job(session, job_id, "far:9:celery", LEASE, now=moment)
    assert outcome.state is grading_jobs.ClaimState.GAVE_UP
    job = _job(session, job_id)
    assert job.status is JobStatus.FAILED and "was lost 3 times" in job.error
    assert job.submission.status is SubmissionStatus.FAILED
    assert "Your file is kept" in job.submission.error


def test_release_puts_the_job_back_only_for_its_claimant(session, job_id):
    grading_jobs.claim_job(session, job_id, "w:1:celery", LEASE)
    assert not grading_jobs.release(session, job_id, "w:2:celery")
    assert grading_jobs.release(session, job_id, "w:1:celery")
    job = _job(session, job_id)
    assert job.status is JobStatus.QUEUED and job.worker is None
    assert job.submission.status is SubmissionStatus.QUEUED


def test_jobs_to_dispatch_are_old_queued_ones_and_running_ones_past_their_lease(session, job_id):
    assert grading_jobs.jobs_to_dispatch(session, now(), LEASE) == [job_id]
    assert grading_jobs.jobs_to_dispatch(session, now() - timedelta(minutes=5), LEASE) == []
    grading_jobs.claim_job(session, job_id, "w:1:celery", LEASE)
    assert grading_jobs.jobs_to_dispatch(session, now(), LEASE) == []
    session.execute(
        update(GradingJob)
        .where(GradingJob.id == job_id)
        .values(started_at=now() - timedelta(seconds=LEASE + 5))
    )
    session.commit()
    assert grading_jobs.jobs_to_dispatch(session, now(), LEASE) == [job_id]
    assert session.get(Submission, _job(session, job_id).submission_id) is not None
