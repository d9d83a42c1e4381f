"""Scale-out for real: PostgreSQL, Redis, and `lms worker` processes killed with -9.

Every submission must end with exactly one result, whatever dies when.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

import lms.queue.celery_backend  # noqa: F401 - registers the "celery" backend before create_app
from lms import create_app
from lms.extensions import db
from lms.models import GradingJob, JobStatus, Submission, SubmissionStatus, UserRole
from lms.queue.celery_app import CelerySettings, make_celery, send_grade_job
from lms.services import submissions
from lms.services.accounts import create_user
from tests.scale.cluster import WorkerProcess, job_counts, run_lms, wait_for

pytestmark = [pytest.mark.celery, pytest.mark.slow]

PASSWORD = "scale-out-password"
RIGHT = "def add(a, b):\n    return a + b"
# Slow enough (2 x 1.5 s: the visible and the hidden test call it) to be killed mid-job.
SLOW = "def add(a, b):\n    import time\n    time.sleep(1.5)\n    return a + b"
DEAD_BROKER = "redis://127.0.0.1:1/7"  # nothing listens on port 1
_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


class Trainee:
    """A signed-in trainee who uploads notebooks through the real submission view."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.client: FlaskClient = app.test_client()
        with db.sessionmaker_for(app)() as session:
            create_user(session, "scale@example.org", UserRole.TRAINEE, PASSWORD)
            exercise = submissions.get_exercise(session, "tiny-sum")
            self.notebooks = {
                answer: submissions.notebook_from_answers(session, exercise, {"add": answer})
                for answer in (RIGHT, SLOW)
            }
        page = self.client.get("/login").get_data(as_text=True)
        self.csrf = _CSRF.search(page).group(1)
        response = self.client.post(
            "/login",
            data={"email": "scale@example.org", "password": PASSWORD, "csrf_token": self.csrf},
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        self.csrf = _CSRF.search(
            self.client.get("/exercises/tiny-sum").get_data(as_text=True)
        ).group(1)

    def submit(self, answer: str = RIGHT) -> int:
        """Upload a notebook; the submission's id (the view answered 202)."""
        from io import BytesIO

        response = self.client.post(
            "/exercises/tiny-sum/submissions",
            data={
                "csrf_token": self.csrf,
                "token": secrets.token_hex(16),
                "origin": "upload",
                "action": "submit",
                "notebook": (BytesIO(self.notebooks[answer]), "tiny-sum.ipynb"),
            },
            headers={"Accept": "application/json"},
            content_type="multipart/form-data",
        )
        assert response.status_code == 202, response.get_data(as_text=True)
        return response.json["submission_id"]


def make_app(env: dict[str, str], broker_url: str | None = None) -> Flask:
    """The web application on the scale-out database, sending jobs to `broker_url`."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "scale-test",
            "DATABASE_URL": env["LMS_DATABASE_URL"],
            "BROKER_URL": broker_url or env["LMS_BROKER_URL"],
            # A deadline surge from one test account: lift the per-trainee submission rate limit.
            "SUBMISSIONS_PER_MINUTE": 10_000,
        }
    )
    assert type(app.extensions["lms.queue"]).__name__ == "CeleryQueue"
    if "ops" not in app.blueprints:  # until create_app registers it
        from lms.web import ops

        app.register_blueprint(ops.bp)
    return app


@pytest.fixture
def web(scale_env: dict[str, str]) -> Iterator[Flask]:
    """The web application, with the Celery backend on the test broker."""
    app = make_app(scale_env)
    yield app
    app.extensions["lms.queue"].stop()
    db.engine_for(app).dispose()


def worker_pid(job: GradingJob) -> int:
    """The pid in a job's worker name (host:pid:label)."""
    return int(job.worker.split(":")[1])


def all_jobs(sessions: sessionmaker[Session]) -> list[GradingJob]:
    """Every job, with its submission and the submission's cell grades."""
    with sessions() as session:
        return list(
            session.scalars(
                select(GradingJob)
                .order_by(GradingJob.id)
                .options(selectinload(GradingJob.submission).selectinload(Submission.cells))
            )
        )


def assert_one_result_each(jobs: list[GradingJob], expected: int) -> None:
    """Every job done, every submission graded once, with its single grade cell."""
    assert len(jobs) == expected
    for job in jobs:
        submission = job.submission
        assert job.status == JobStatus.DONE, (job.id, job.status, job.error)
        assert submission.status == SubmissionStatus.GRADED, (submission.id, submission.error)
        assert (submission.score, submission.max_score) == (1.0, 1.0)
        assert [cell.grade_id for cell in submission.cells] == ["test_add"]


def test_200_submissions_two_workers_one_killed_mid_job(web, start_worker, scale_sessions):
    """Two workers grade 200 uploads; one is killed -9 mid-job; every submission is graded
    exactly once, and only the killed jobs ran twice."""
    first, second = start_worker(2, wait=False), start_worker(2, wait=False)
    first.wait_ready()
    second.wait_ready()
    trainee = Trainee(web)
    ids = [trainee.submit(RIGHT) for _ in range(60)]
    slow_ids = {trainee.submit(SLOW) for _ in range(6)}  # both workers get some
    ids += sorted(slow_ids)

    def victim_running_slow_job() -> WorkerProcess | None:
        running = [
            job
            for job in all_jobs(scale_sessions)
            if job.status == JobStatus.RUNNING and job.submission_id in slow_ids
        ]
        return next(
            (
                w
                for w in (first, second)
                if any(worker_pid(job) in w.pool_pids() for job in running)
            ),
            None,
        )

    wait_for(lambda: victim_running_slow_job() is not None, 120, "a slow job to start")
    victim = victim_running_slow_job()
    survivor = second if victim is first else first
    victim_pids = victim.pool_pids()
    victim.kill_hard()
    killed = {
        job.id
        for job in all_jobs(scale_sessions)
        if job.status == JobStatus.RUNNING and worker_pid(job) in victim_pids
    }
    assert killed, "the victim was running no job when killed"
    ids += [trainee.submit(RIGHT) for _ in range(200 - len(ids))]  # the survivor takes them all
    assert len(set(ids)) == 200

    wait_for(
        lambda: job_counts(scale_sessions).get(JobStatus.DONE, 0) == 200,
        150,
        "all 200 jobs to be done",
    )
    jobs = all_jobs(scale_sessions)
    assert_one_result_each(jobs, 200)
    survivor_pids = survivor.pool_pids()
    for job in jobs:
        # A grader error (job.error) is retried and counts as an attempt; nothing else may.
        if job.id in killed:  # re-run, by the surviving worker
            assert worker_pid(job) in survivor_pids, (job.id, job.worker)
            assert job.attempts == 2 or job.error, (job.id, job.attempts)
        else:
            assert job.attempts == 1 or job.error, (job.id, job.attempts, job.worker)
    assert "re-grading a job abandoned by" in survivor.output()


def test_killed_pool_process_job_rerun_once_and_redelivery_changes_nothing(
    web, start_worker, scale_sessions
):
    """kill -9 of the process grading a job: Celery re-delivers it at once, it is graded once;
    a later duplicate delivery of the finished job changes nothing."""
    worker = start_worker(1)
    trainee = Trainee(web)
    submission_id = trainee.submit(SLOW)
    wait_for(
        lambda: all_jobs(scale_sessions)[0].status == JobStatus.RUNNING, 60, "the job to start"
    )
    os.kill(worker_pid(all_jobs(scale_sessions)[0]), signal.SIGKILL)
    wait_for(
        lambda: all_jobs(scale_sessions)[0].status == JobStatus.DONE, 60, "the job to be re-run"
    )
    [job] = all_jobs(scale_sessions)
    assert_one_result_each([job], 1)
    assert job.submission_id == submission_id
    assert job.attempts == 2 or job.error, (job.attempts, job.error)  # see the test above
    before = _snapshot(job)

    celery = make_celery(CelerySettings.from_env())
    send_grade_job(celery, job.id)
    celery.close()
    wait_for(
        lambda: _delivery_seen(worker.output(), job.id, "finished"),
        30,
        "the duplicate delivery to be handled",
    )
    [after] = all_jobs(scale_sessions)
    assert _snapshot(after) == before


def test_broker_down_at_submission_keeps_job_then_requeue_sends_it(
    scale_env, start_worker, scale_sessions, caplog
):
    """Redis unreachable when a trainee submits: the submission is accepted and kept queued;
    `lms requeue` sends it once Redis answers, and it is graded."""
    # Its start-up sweep finds nothing to send, and its periodic one must not beat `lms requeue`
    # to the job however slow this machine is.
    worker = start_worker(1, LMS_REDISPATCH_SECONDS="3600")
    app = make_app(scale_env, broker_url=DEAD_BROKER)
    with caplog.at_level("WARNING", logger="lms.queue.celery_backend"):
        submission_id = Trainee(app).submit(RIGHT)
    assert "broker unreachable" in caplog.text
    [job] = all_jobs(scale_sessions)
    assert job.status == JobStatus.QUEUED and job.submission_id == submission_id

    assert "Sent 1 job(s) to the broker." in run_lms(scale_env, "requeue")
    wait_for(lambda: all_jobs(scale_sessions)[0].status == JobStatus.DONE, 60, "grading")
    assert_one_result_each(all_jobs(scale_sessions), 1)
    assert "Sent 0 job(s) to the broker." in run_lms(scale_env, "requeue")
    assert worker.process.poll() is None
    db.engine_for(app).dispose()


def test_jobs_left_queued_are_sent_at_worker_start_and_by_the_periodic_sweep(
    scale_env, start_worker, scale_sessions
):
    """Jobs queued while the broker was down are sent by a worker when it starts, and later
    ones by the workers' periodic sweep, with no operator action."""
    app = make_app(scale_env, broker_url=DEAD_BROKER)
    trainee = Trainee(app)
    trainee.submit(RIGHT)
    trainee.submit(RIGHT)
    assert job_counts(scale_sessions) == {JobStatus.QUEUED: 2}
    worker = start_worker(1)
    wait_for(
        lambda: job_counts(scale_sessions) == {JobStatus.DONE: 2},
        60,
        "the start-up sweep's jobs to be graded",
    )
    trainee.submit(RIGHT)  # broker still "down" for the web app: only the sweep can send it
    wait_for(
        lambda: job_counts(scale_sessions) == {JobStatus.DONE: 3},
        60,
        "the periodic sweep's job to be graded",
    )
    assert_one_result_each(all_jobs(scale_sessions), 3)
    assert "re-dispatched" in worker.output()
    db.engine_for(app).dispose()


def test_celery_command_line_worker_grades_and_doctor_sees_it(
    web, scale_env, start_worker, scale_sessions
):
    """`celery -A lms.queue.celery_app worker` is the same worker as `lms worker`; `lms doctor`
    then passes every check (exit status 0)."""
    start_worker(1, celery_cli=True)
    Trainee(web).submit(RIGHT)
    wait_for(lambda: job_counts(scale_sessions) == {JobStatus.DONE: 1}, 60, "grading")
    assert_one_result_each(all_jobs(scale_sessions), 1)
    output = run_lms(scale_env, "doctor")
    for check in ("database", "broker", "workers", "sandbox"):
        assert f"[ok  ] {check}:" in output, output
    assert "1 answered: lms-cli@" in output
    with db.sessionmaker_for(web)() as session:
        create_user(session, "admin@example.org", UserRole.ADMIN, PASSWORD)
    admin = web.test_client()
    csrf = _CSRF.search(admin.get("/login").get_data(as_text=True)).group(1)
    admin.post(
        "/login", data={"email": "admin@example.org", "password": PASSWORD, "csrf_token": csrf}
    )
    page = admin.get("/admin/ops/").get_data(as_text=True)
    assert "scale-out mode" in page and '<td data-count="done">1</td>' in page
    assert "<strong>broker</strong> (ok)" in page and "<strong>workers</strong> (ok)" in page


def _snapshot(job: GradingJob) -> tuple:
    submission = job.submission
    return (
        job.status,
        job.attempts,
        job.worker,
        job.finished_at,
        submission.status,
        submission.score,
        submission.graded_at,
        submission.flags,
        [(cell.id, cell.score) for cell in submission.cells],
    )


def _delivery_seen(log: str, job_id: int, state: str) -> bool:
    for line in log.splitlines():
        if not line.startswith("{"):
            continue
        entry = json.loads(line)
        if entry.get("job_id") == job_id and entry["message"] == (
            f"nothing to do for this delivery: {state}"
        ):
            return True
    return False
