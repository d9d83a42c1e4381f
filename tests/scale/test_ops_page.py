"""The admins' operations page: queue depth, running and failed jobs with their reason, retry."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import select, update

from lms.models import GradingJob, JobStatus, SubmissionPurpose, SubmissionStatus, User
from lms.services import grading_jobs, submissions

RIGHT = {
    "squares": "def squares(n):\n    return [i * i for i in range(n)]",
    "total": "def total(path):\n    return sum(int(x) for x in open(path).read().split())",
}


@pytest.fixture
def ops_app(app):
    """The app with the operations blueprint (registered here until create_app does it)."""
    from lms.web import ops

    if "ops" not in app.blueprints:
        app.register_blueprint(ops.bp)
    return app


def _queued_job(session, email: str) -> int:
    trainee = session.scalar(select(User).where(User.email == email))
    exercise = submissions.get_exercise(session, "squares")
    return submissions.submit(
        session,
        user_id=trainee.id,
        exercise_slug="squares",
        notebook=submissions.notebook_from_answers(session, exercise, RIGHT),
        name="squares.ipynb",
        origin="upload",
        purpose=SubmissionPurpose.GRADE,
        token=secrets.token_hex(8),
    ).job_id


def _failed_job(session, email: str) -> int:
    job_id = _queued_job(session, email)
    grading_jobs.claim(session, job_id, "host:1:test")
    session.execute(
        update(GradingJob).where(GradingJob.id == job_id).values(attempts=grading_jobs.MAX_ATTEMPTS)
    )
    session.commit()
    grading_jobs.record_failure(
        session,
        job_id,
        "Traceback (most recent call last):\n  File x\nRuntimeError: the kernel machinery broke\n",
    )
    return job_id


def test_only_admins_see_the_page(ops_app, client, auth, users) -> None:
    assert client.get("/admin/ops/").status_code == 302  # to the sign-in page
    auth.login(users.trainee)
    assert client.get("/admin/ops/").status_code == 403
    auth.logout()
    auth.login(users.instructor)
    assert client.get("/admin/ops/").status_code == 403


def test_page_shows_depth_running_and_failures_with_their_reason(
    ops_app, client, auth, users, content, session
) -> None:
    _queued_job(session, users.trainee)
    running = _queued_job(session, users.trainee)
    grading_jobs.claim(session, running, "gradinghost:4242:celery")
    _failed_job(session, users.other_trainee)
    auth.login(users.admin)
    html = client.get("/admin/ops/").get_data(as_text=True)
    assert '<td data-count="queued">1</td>' in html
    assert '<td data-count="running">1</td>' in html
    assert '<td data-count="failed">1</td>' in html
    assert "gradinghost:4242:celery" in html
    assert "RuntimeError: the kernel machinery broke" in html
    assert users.other_trainee in html
    assert "embedded mode" in html


def test_retry_requeues_a_failed_job_which_is_then_graded(
    ops_app, client, auth, users, content, session, run_jobs
) -> None:
    job_id = _failed_job(session, users.trainee)
    auth.login(users.admin)
    assert client.post(f"/admin/ops/jobs/{job_id}/retry").status_code == 400  # no CSRF token
    response = auth.post(f"/admin/ops/jobs/{job_id}/retry")
    assert response.status_code == 303
    session.expire_all()
    job = session.get(GradingJob, job_id)
    assert job.status is JobStatus.QUEUED and job.attempts == 0
    assert job.submission.status is SubmissionStatus.QUEUED and job.submission.error is None
    session.rollback()
    assert f"Job {job_id} is queued again." in client.get("/admin/ops/").get_data(as_text=True)

    assert run_jobs() == 1
    session.expire_all()
    job = session.get(GradingJob, job_id)
    assert job.status is JobStatus.DONE and job.submission.status is SubmissionStatus.GRADED


def test_retry_refuses_jobs_that_did_not_fail(
    ops_app, client, auth, users, content, session
) -> None:
    job_id = _queued_job(session, users.trainee)
    auth.login(users.admin)
    response = auth.post(f"/admin/ops/jobs/{job_id}/retry")
    assert response.status_code == 303
    html = client.get("/admin/ops/").get_data(as_text=True)
    assert "only failed jobs can be retried" in html
    assert auth.post("/admin/ops/jobs/999/retry").status_code == 303
    assert "There is no grading job 999." in client.get("/admin/ops/").get_data(as_text=True)
