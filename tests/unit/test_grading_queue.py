"""The grading queue: exclusive claims, results applied once, crashes retried, restarts resumed."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from grading.job import CellResult, GradeJob, GradeResult
from lms.extensions import db
from lms.models import GradingJob, JobStatus, Submission, SubmissionPurpose, User
from lms.queue import get_queue
from lms.queue.worker import Worker
from lms.services import grading_jobs, submissions
from tests.conftest import unfinished_jobs

SOURCE = (
    Path(__file__).parent.parent / "fixtures/content/exercises/squares/squares.ipynb"
).read_bytes()


@pytest.fixture
def queued(session, users, content):
    """A function queueing a submission of the source notebook by the trainee."""
    trainee = session.scalar(select(User).where(User.email == users.trainee))
    session.rollback()
    counter = iter(range(1000))

    def queue(purpose: SubmissionPurpose = SubmissionPurpose.GRADE) -> int:
        return submissions.submit(
            session,
            user_id=trainee.id,
            exercise_slug="squares",
            notebook=SOURCE,
            name="s.ipynb",
            origin="upload",
            purpose=purpose,
            token=f"t{next(counter)}",
        ).job_id

    return queue


def _result(job: GradeJob, score: float = 2.0) -> GradeResult:
    return GradeResult(
        submission=job.name,
        status="graded",
        score=score,
        max_score=3.0,
        cells=(
            CellResult("test_squares", score, 2.0, False),
            CellResult("test_total", 0, 1, False),
        ),
        feedback_html="<p>ok</p>",
        job_id=job.job_id,
    )


def test_a_job_is_claimed_by_one_worker_only(session, queued) -> None:
    job_id = queued()
    assert grading_jobs.claim(session, job_id, "w1") is True
    assert grading_jobs.claim(session, job_id, "w2") is False
    assert grading_jobs.claim_next(session, "w2") is None
    job = session.get(GradingJob, job_id)
    assert (job.status, job.worker, job.attempts) == (JobStatus.RUNNING, "w1", 1)
    assert job.submission.status.value == "running"
    session.rollback()


def test_grade_job_carries_source_submission_and_files(session, queued) -> None:
    job_id = queued()
    grade_job, purpose = grading_jobs.build_grade_job(session, job_id)
    assert grade_job.submission == SOURCE and grade_job.job_id == str(job_id)
    assert "BEGIN HIDDEN TESTS" in grade_job.source  # the grader gets the source, not the release
    assert grade_job.files == {"data/numbers.txt": b"1\n2\n3\n"} and grade_job.timeout == 10
    assert purpose is SubmissionPurpose.GRADE


def test_a_result_is_applied_once(session, queued) -> None:
    job_id = queued()
    grading_jobs.claim(session, job_id, "w1")
    grade_job, _ = grading_jobs.build_grade_job(session, job_id)
    assert grading_jobs.apply_result(session, job_id, _result(grade_job, 2.0)) is True
    assert grading_jobs.apply_result(session, job_id, _result(grade_job, 0.0)) is False
    submission = session.get(GradingJob, job_id).submission
    assert submission.score == 2.0 and len(submission.cells) == 2
    assert submission.status.value == "graded" and submission.graded_at is not None
    session.rollback()


def test_a_crashing_grader_is_retried_then_fails_keeping_the_notebook(
    app,
    session,
    queued,
) -> None:
    job_id = queued()

    def crashing(job: GradeJob) -> GradeResult:
        raise RuntimeError("grader bug")

    worker = Worker(db.sessionmaker_for(app), "w", graders={SubmissionPurpose.GRADE: crashing})
    for _ in range(grading_jobs.MAX_ATTEMPTS):
        assert worker.run_once() is True
    assert worker.run_once() is False
    job = session.get(GradingJob, job_id)
    assert job.status is JobStatus.FAILED and "grader bug" in job.error
    assert job.submission.status.value == "failed" and "kept" in job.submission.error
    assert submissions.get_blob(session, job.submission.notebook_sha256) == SOURCE
    session.rollback()


def test_jobs_left_running_are_requeued_and_graded_after_a_restart(
    app,
    session,
    queued,
) -> None:
    first, second = queued(), queued()
    # A server took the first job and died while grading it; the second never started.
    grading_jobs.claim(session, first, "dead-server:1:0")
    graded: list[str] = []

    def grade(job: GradeJob) -> GradeResult:
        graded.append(job.job_id)
        return _result(job)

    queue = get_queue(app)  # the restarted server's queue
    queue.graders = {SubmissionPurpose.GRADE: grade}
    queue.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and unfinished_jobs(session):
            session.rollback()
            time.sleep(0.05)
    finally:
        queue.stop()
    session.rollback()
    assert sorted(graded) == sorted([str(first), str(second)])
    for job_id in (first, second):
        job = session.get(GradingJob, job_id)
        assert job.status is JobStatus.DONE and job.submission.score == 2.0
    session.rollback()


def test_enqueue_wakes_an_idle_worker(app, session, queued) -> None:
    done = threading.Event()

    def grade(job: GradeJob) -> GradeResult:
        done.set()
        return _result(job)

    queue = get_queue(app)
    queue.graders = {SubmissionPurpose.GRADE: grade}
    queue.poll_seconds = 3600  # only a wake-up can make it look at the table again
    queue.start()
    try:
        time.sleep(0.2)  # let the worker find the empty queue and go to sleep
        queue.enqueue(queued())
        assert done.wait(30)
    finally:
        queue.stop()
    assert session.scalar(select(Submission.status)).value in ("running", "graded")
    session.rollback()


def test_jobs_ahead_counts_the_queue_before_a_submission(session, queued) -> None:
    first, second = queued(), queued()
    submission_of = {
        job_id: session.get(GradingJob, job_id).submission_id for job_id in (first, second)
    }
    assert grading_jobs.jobs_ahead(session, submission_of[first]) == 0
    assert grading_jobs.jobs_ahead(session, submission_of[second]) == 1
    grading_jobs.claim(session, first, "w1")
    assert grading_jobs.jobs_ahead(session, submission_of[second]) == 0
    session.rollback()
