"""One trainee has at most one grading job running: the claims skip their next job meanwhile."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from lms.models import GradingJob, JobStatus, SubmissionPurpose, User
from lms.services import grading_jobs, submissions

SOURCE = (
    Path(__file__).parent.parent / "fixtures/content/exercises/squares/squares.ipynb"
).read_bytes()


@pytest.fixture
def submit(session, users, content):
    """A function queueing a submission by the trainee with this email; returns the job id."""
    ids = {
        email: session.scalar(select(User.id).where(User.email == email))
        for email in (users.trainee, users.other_trainee)
    }
    session.rollback()
    counter = iter(range(1000))

    def queue(email: str) -> int:
        return submissions.submit(
            session,
            user_id=ids[email],
            exercise_slug="squares",
            notebook=SOURCE,
            name="s.ipynb",
            origin="upload",
            purpose=SubmissionPurpose.GRADE,
            token=f"t{next(counter)}",
        ).job_id

    return queue


def _finish(session, job_id: int) -> None:
    job = session.get(GradingJob, job_id)
    job.status = JobStatus.DONE
    session.commit()


def test_a_trainees_second_job_waits_while_another_trainee_is_served(session, users, submit):
    first, second, third = (submit(users.trainee) for _ in range(3))
    others = submit(users.other_trainee)

    assert grading_jobs.claim_next(session, "w1") == first
    # The trainee's next jobs are older than the other trainee's, yet the other goes first.
    assert grading_jobs.claim_next(session, "w2") == others
    assert grading_jobs.claim_next(session, "w3") is None
    # A delivered message for the trainee's second job (Celery) cannot take it either.
    assert grading_jobs.claim(session, second, "w3") is False

    _finish(session, first)
    assert grading_jobs.claim_next(session, "w1") == second
    assert grading_jobs.claim(session, third, "w3") is False
    _finish(session, second)
    assert grading_jobs.claim(session, third, "w3") is True


def test_a_trainees_jobs_run_one_after_the_other(session, users, submit):
    jobs = [submit(users.trainee) for _ in range(3)]
    taken = []
    for _ in jobs:
        job_id = grading_jobs.claim_next(session, "w1")
        assert grading_jobs.claim_next(session, "w2") is None
        taken.append(job_id)
        _finish(session, job_id)
    assert taken == jobs
