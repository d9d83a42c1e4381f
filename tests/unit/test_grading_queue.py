"""The grading queue: exclusive claims, results applied once, crashes retried, restarts resumed."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from grading.job import CellResult, GradeJob, GradeResult
from lms.errors import Conflict, NotFound
from lms.extensions import db
from lms.models import GradingJob, JobStatus, Submission, SubmissionPurpose, SubmissionStatus, User
from lms.queue import get_queue
from lms.queue.worker import Worker
from lms.services import grading_jobs, queue_ops, submissions
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


def _status(session, job_id: int) -> str:
    """The submission's status as a fresh query sees it (derived from the job in SQL)."""
    session.rollback()
    value = session.scalar(
        select(Submission.status).join(GradingJob).where(GradingJob.id == job_id)
    )
    session.rollback()
    return value.value


def test_the_submission_status_is_the_jobs_at_every_step(session, queued) -> None:
    job_id = queued()
    assert _status(session, job_id) == "queued"
    grading_jobs.claim(session, job_id, "w1")
    assert _status(session, job_id) == "running"
    assert grading_jobs.release(session, job_id, "w2") is False  # not its claimant
    assert grading_jobs.release(session, job_id, "w1") is True
    assert _status(session, job_id) == "queued"
    assert session.get(GradingJob, job_id).worker is None
    grading_jobs.claim(session, job_id, "w1")
    grading_jobs.record_failure(session, job_id, "Traceback...\nRuntimeError: boom")
    assert _status(session, job_id) == "queued"  # a first failure is retried
    assert session.get(GradingJob, job_id).attempts == 2  # every claim counts
    session.rollback()


def test_a_rejected_notebook_is_rejected_once_its_job_is_done(session, queued) -> None:
    job_id = queued()
    grading_jobs.claim(session, job_id, "w1")
    grade_job, _ = grading_jobs.build_grade_job(session, job_id)
    rejected = GradeResult(
        submission=grade_job.name,
        status="rejected",
        score=0.0,
        max_score=3.0,
        error="not a notebook",
        job_id=grade_job.job_id,
    )
    assert grading_jobs.apply_result(session, job_id, rejected) is True
    assert _status(session, job_id) == "rejected"
    job = session.get(GradingJob, job_id)
    assert job.status is JobStatus.DONE and job.submission.status.value == "rejected"
    # Queries that count graded work see it as not graded.
    graded = select(Submission.id).where(Submission.status == SubmissionStatus.GRADED)
    assert session.scalars(graded).all() == []
    session.rollback()


def test_the_status_held_by_a_session_follows_the_transition(session, queued) -> None:
    job_id = queued()
    submission = session.get(GradingJob, job_id).submission
    assert submission.status is SubmissionStatus.QUEUED
    grading_jobs.claim(session, job_id, "w1")
    assert submission.status is SubmissionStatus.RUNNING  # not the stale copy
    grade_job, _ = grading_jobs.build_grade_job(session, job_id)
    grading_jobs.apply_result(session, job_id, _result(grade_job))
    assert submission.status is SubmissionStatus.GRADED
    session.rollback()


def _fail_for_good(session, job_id: int) -> None:
    for attempt in range(grading_jobs.MAX_ATTEMPTS):
        assert grading_jobs.claim(session, job_id, f"w{attempt}")
        grading_jobs.record_failure(session, job_id, f"RuntimeError: try {attempt}")


def test_retry_requeues_only_a_failed_job_with_fresh_attempts(session, queued) -> None:
    job_id = queued()
    with pytest.raises(Conflict, match="not failed"):
        grading_jobs.retry(session, job_id)
    with pytest.raises(NotFound):
        grading_jobs.retry(session, 10_000)
    _fail_for_good(session, job_id)
    assert _status(session, job_id) == "failed"
    job = queue_ops.retry_job(session, job_id)  # the operations page's retry is the same
    assert (job.status, job.attempts, job.worker, job.finished_at) == (
        JobStatus.QUEUED,
        0,
        None,
        None,
    )
    assert job.submission.error is None and "try 2" in job.error  # the reason stays visible
    assert _status(session, job_id) == "queued"
    assert grading_jobs.claim_next(session, "w") == job_id


def test_a_finished_job_is_not_moved_again(session, queued) -> None:
    job_id = queued()
    grading_jobs.claim(session, job_id, "w1")
    grade_job, _ = grading_jobs.build_grade_job(session, job_id)
    grading_jobs.apply_result(session, job_id, _result(grade_job))
    grading_jobs.record_failure(session, job_id, "late failure")  # e.g. a duplicate delivery
    assert grading_jobs.release(session, job_id, "w1") is False
    assert grading_jobs.claim(session, job_id, "w2") is False
    assert grading_jobs.requeue_abandoned(session) == 0
    assert _status(session, job_id) == "graded"
    assert session.get(GradingJob, job_id).error is None


def test_only_the_life_cycle_module_moves_a_job() -> None:
    # One owner: no other module of lms/ writes a job's status (nor a submission's, derived).
    root = Path(__file__).resolve().parents[2] / "lms"
    owner = root / "services" / "grading_jobs.py"
    writers = [
        path.relative_to(root).as_posix()
        for path in root.rglob("*.py")
        if path != owner
        and "migrations" not in path.parts
        and re.search(
            r"\bstatus\s*=\s*JobStatus|\.status\s*=\s*(Job|Submission)Status|"
            r"values\(status=",
            path.read_text(),
        )
    ]
    assert writers == []
    assert "status" not in Submission.__table__.columns


def test_the_migration_derives_every_status_from_a_job(tmp_path) -> None:
    import sqlite3

    from alembic import command

    from lms.migrations import alembic_config, upgrade

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    upgrade(url, "0003")
    now = "2026-01-01 00:00:00.000000"
    with sqlite3.connect(tmp_path / "old.sqlite") as old:
        old.execute("INSERT INTO blobs VALUES ('b', 2, x'7b7d', ?)", (now,))
        old.execute(
            "INSERT INTO users (id, email, display_name, password_hash, role, active, "
            "created_at) VALUES (1, 'a@b.c', 'A', 'x', 'trainee', 1, ?)",
            (now,),
        )
        old.execute(
            "INSERT INTO exercises (id, slug, title, kind, notebook_name, source_sha256, "
            "release_sha256, timeout, max_score, updated_at) "
            "VALUES (1, 'e', 'E', 'notebook', 'e.ipynb', 'b', 'b', 10, 3, ?)",
            (now,),
        )
        for number, status in enumerate(["graded", "rejected", "queued", "failed", "graded"]):
            old.execute(
                "INSERT INTO submissions (id, user_id, exercise_id, purpose, origin, "
                "idempotency_token, notebook_sha256, notebook_name, status, needs_manual_grade, "
                "flags, created_at) VALUES (?, 1, 1, 'grade', 'seed', ?, 'b', 'e.ipynb', ?, 0, "
                "'[]', ?)",
                (number + 1, f"t{number}", status, now),
            )
        # The last one has a job that disagrees with the copy: the job wins.
        old.execute(
            "INSERT INTO grading_jobs (submission_id, status, attempts, queued_at) "
            "VALUES (5, 'running', 1, ?)",
            (now,),
        )
    upgrade(url)
    from sqlalchemy.orm import Session

    from lms.extensions import make_engine

    engine = make_engine(url)
    with Session(engine) as session:
        statuses = session.execute(
            select(Submission.id, Submission.status).order_by(Submission.id)
        ).all()
        jobs = session.scalar(select(func.count()).select_from(GradingJob))
    engine.dispose()
    assert [status.value for _, status in statuses] == [
        "graded",
        "rejected",
        "queued",
        "failed",
        "running",
    ]
    assert jobs == 5
    command.downgrade(alembic_config(url), "0003")  # and back, the status copied from the jobs
    with sqlite3.connect(tmp_path / "old.sqlite") as old:
        back = old.execute("SELECT status FROM submissions ORDER BY id").fetchall()
    assert [status for (status,) in back] == ["graded", "rejected", "queued", "failed", "running"]
