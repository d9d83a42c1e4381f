"""The Celery task and backend without a broker process: the task run in-process on the test
database with the real grader, and the backend's behaviour when the broker is down."""

from __future__ import annotations

import logging
import secrets

import pytest
from sqlalchemy import select

import lms.queue.celery_backend  # noqa: F401 - registers "celery"
from lms.extensions import db
from lms.models import GradingJob, JobStatus, SubmissionPurpose, SubmissionStatus, User
from lms.queue import BACKENDS, get_queue
from lms.queue.celery_app import GRADE_TASK, CelerySettings, make_celery, redispatch
from lms.services import submissions
from tests.conftest import make_test_app

RIGHT = {
    "squares": "def squares(n):\n    return [i * i for i in range(n)]",
    "total": "def total(path):\n    return sum(int(x) for x in open(path).read().split())",
}


def _submit(session, email: str) -> int:
    trainee = session.scalar(select(User).where(User.email == email))
    exercise = submissions.get_exercise(session, "squares")
    notebook = submissions.notebook_from_answers(session, exercise, RIGHT)
    return submissions.submit(
        session,
        user_id=trainee.id,
        exercise_slug="squares",
        notebook=notebook,
        name="squares.ipynb",
        origin="upload",
        purpose=SubmissionPurpose.GRADE,
        token=secrets.token_hex(8),
    ).job_id


@pytest.fixture
def celery_on_test_db(app):
    """A Celery app bound to the test database, with an in-memory broker."""
    settings = CelerySettings(
        broker_url="memory://",
        database_url=app.config["DATABASE_URL"],
        visibility_timeout=30,
        lease_seconds=30,
        redispatch_seconds=5,
    )
    celery = make_celery(settings)
    yield celery
    celery.close()


def test_the_task_grades_a_queued_job_once_and_ignores_a_second_delivery(
    celery_on_test_db, session, users, content
):
    job_id = _submit(session, users.trainee)
    task = celery_on_test_db.tasks[GRADE_TASK]
    assert task.acks_late and task.reject_on_worker_lost
    assert celery_on_test_db.conf.worker_prefetch_multiplier == 1
    assert celery_on_test_db.conf.broker_transport_options["visibility_timeout"] == 30

    assert task.apply(args=[job_id]).get() == "done"
    session.expire_all()
    job = session.get(GradingJob, job_id)
    graded_at, cells = job.submission.graded_at, [c.id for c in job.submission.cells]
    assert job.status is JobStatus.DONE and job.attempts == 1
    assert job.submission.status is SubmissionStatus.GRADED
    assert job.submission.score == job.submission.max_score == 3.0
    session.rollback()  # SQLite: an open transaction here would hold the write lock

    assert task.apply(args=[job_id]).get() == "finished"
    session.expire_all()
    job = session.get(GradingJob, job_id)
    assert job.attempts == 1 and job.submission.graded_at == graded_at
    assert [c.id for c in job.submission.cells] == cells


def test_redispatch_sends_the_jobs_left_queued(celery_on_test_db, session, users, content):
    first, second = _submit(session, users.trainee), _submit(session, users.trainee)
    sent = []
    celery_on_test_db.send_task = lambda name, args, queue: sent.append((name, args, queue))
    assert redispatch(celery_on_test_db, queued_for=0) == 2
    assert [args for _, args, _ in sent] == [[first], [second]]
    assert redispatch(celery_on_test_db, queued_for=3600) == 0  # queued just now: not yet
    assert len(sent) == 2


def test_backend_is_chosen_by_the_broker_url_and_keeps_jobs_when_the_broker_is_down(
    tmp_path, caplog
):
    assert "celery" in BACKENDS
    app = make_test_app(tmp_path, BROKER_URL="redis://127.0.0.1:1/0")
    queue = get_queue(app)
    assert type(queue).__name__ == "CeleryQueue"
    with db.sessionmaker_for(app)() as session:
        from lms.services.accounts import create_user
        from lms.services.content_import import import_content
        from tests.conftest import FIXTURE_CONTENT

        import_content(session, FIXTURE_CONTENT)
        create_user(session, "t@example.org", "trainee", "a long enough password")
        job_id = _submit(session, "t@example.org")
        with caplog.at_level(logging.WARNING, logger="lms.queue.celery_backend"):
            assert queue.enqueue(job_id) is False
        assert "broker unreachable" in caplog.text
        assert session.get(GradingJob, job_id).status is JobStatus.QUEUED
    queue.stop()
    db.engine_for(app).dispose()
