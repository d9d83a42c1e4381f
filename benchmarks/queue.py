"""Drain N queued submissions on the embedded pool, then on Celery workers; print throughputs
and their ratio (the embedded pool is the baseline, measured in the same run).

    .venv/bin/python benchmarks/queue.py [--jobs 500] [--threads 2] [--workers 2]
        [--concurrency 1] [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/atlas_bench]
        [--broker-url redis://127.0.0.1:6379/8]

Both modes grade the same small exercise (tests/scale/fixtures/content, `tiny-sum`) on the same
database with the real grader; each first drains a few warm-up jobs (not counted) so neither pays
the sandbox's start-up in its figure. Needs PostgreSQL and Redis (the database is re-created).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and its name would shadow the
# standard library's `queue` (which redis and kombu import).
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import os
import secrets
import signal
import subprocess
import time

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "tests" / "scale" / "fixtures" / "content"
LMS = str(Path(sys.executable).with_name("lms"))
ANSWER = {"add": "def add(a, b):\n    return a + b"}
WARM_UP_JOBS = 8
KEY_PREFIX = "atlas-bench:"


def main() -> None:
    """Parse the options, prepare the database, measure both backends, print the figures."""
    options = _options()
    env = _prepare(options)
    os.environ.update(env)

    from lms.models import User
    from lms.queue.celery_app import CelerySettings

    settings = CelerySettings.from_env()
    sessions = _sessions(settings.database_url)
    with sessions() as session:
        user_id = session.scalar(select(User.id))

    embedded = _embedded(options, sessions, user_id)
    celery = _celery(options, env, sessions, user_id)
    print(f"\njobs drained: {options.jobs} (tiny-sum notebook, real sandboxed grader)")
    print(
        f"embedded pool ({options.threads} thread(s)):      {embedded:8.1f} s  "
        f"{options.jobs / embedded:7.2f} jobs/s"
    )
    print(
        f"celery ({options.workers} worker(s) x {options.concurrency}):          "
        f"{celery:8.1f} s  {options.jobs / celery:7.2f} jobs/s"
    )
    print(
        f"ratio celery / embedded throughput: {embedded / celery:.2f}x (on {os.cpu_count()} CPU(s))"
    )


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--threads", type=int, default=2, help="embedded worker threads")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--concurrency", type=int, default=1, help="per Celery worker")
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/atlas_bench"
    )
    parser.add_argument("--broker-url", default="redis://127.0.0.1:6379/8")
    return parser.parse_args()


def _prepare(options: argparse.Namespace) -> dict[str, str]:
    """A fresh database (migrated, content imported, one trainee); no message of a past run."""
    import redis

    url = make_url(options.database_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    client = redis.Redis.from_url(options.broker_url)
    stale = list(client.scan_iter(match=f"{KEY_PREFIX}*", count=1000))
    if stale:
        client.delete(*stale)
    env = {
        "LMS_DATABASE_URL": options.database_url,
        "LMS_BROKER_URL": options.broker_url,
        "LMS_REDISPATCH_SECONDS": "3600",  # the benchmark sends every job itself
        "LMS_INSTANCE_PATH": "/tmp/atlas-bench-instance",
        "LMS_LOG_FORMAT": "json",
        "LMS_BROKER_KEY_PREFIX": KEY_PREFIX,  # never touch other keys of that Redis database
    }
    full_env = {**os.environ, **env}
    for command in (
        ["db", "upgrade"],
        ["import", str(CONTENT)],
        ["create-user", "--email", "bench@example.org", "--role", "trainee", "--password-stdin"],
    ):
        subprocess.run(
            [LMS, *command],
            env=full_env,
            check=True,
            capture_output=True,
            input="benchmark-password\n",
            text=True,
        )
    return env


def _sessions(url: str):
    from lms.queue.celery_app import sessions_for

    return sessions_for(url)


def _submit(sessions, user_id: int, count: int) -> list[int]:
    """Store `count` submissions with their jobs queued (none handed to a queue yet)."""
    from lms.models import SubmissionPurpose
    from lms.services import submissions

    with sessions() as session:
        exercise = submissions.get_exercise(session, "tiny-sum")
        notebook = submissions.notebook_from_answers(session, exercise, ANSWER)
        return [
            submissions.submit(
                session,
                user_id=user_id,
                exercise_slug="tiny-sum",
                notebook=notebook,
                name="tiny-sum.ipynb",
                origin="upload",
                purpose=SubmissionPurpose.GRADE,
                token=secrets.token_hex(16),
                submissions_per_minute=10**9,
            ).job_id
            for _ in range(count)
        ]


def _wait_drained(sessions, job_ids: list[int], timeout: float = 1800) -> None:
    from lms.models import GradingJob, JobStatus

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sessions() as session:
            left = session.scalar(
                select(func.count()).where(
                    GradingJob.id.in_(job_ids), GradingJob.status != JobStatus.DONE
                )
            )
        if left == 0:
            return
        time.sleep(0.2)
    raise SystemExit(f"not drained after {timeout} s")


def _embedded(options: argparse.Namespace, sessions, user_id: int) -> float:
    """Seconds for the embedded pool to drain `options.jobs` queued jobs."""
    from lms import create_app
    from lms.queue import get_queue

    app = create_app(
        {
            "DATABASE_URL": options.database_url,
            "BROKER_URL": None,
            "QUEUE_BACKEND": "embedded",
            "GRADING_WORKERS": options.threads,
            "GRADING_POLL_SECONDS": 0.2,
            "SECRET_KEY": "benchmark",
        }
    )
    queue = get_queue(app)
    warm = _submit(sessions, user_id, WARM_UP_JOBS)
    queue.start()
    _wait_drained(sessions, warm)
    queue.stop()
    jobs = _submit(sessions, user_id, options.jobs)
    started = time.monotonic()
    queue.start()
    _wait_drained(sessions, jobs)
    elapsed = time.monotonic() - started
    queue.stop()
    return elapsed


def _celery(options: argparse.Namespace, env: dict[str, str], sessions, user_id: int) -> float:
    """Seconds for `options.workers` Celery workers to drain `options.jobs` sent jobs."""
    from lms.queue.celery_app import celery, send_grade_job

    workers = [
        subprocess.Popen(
            [LMS, "worker", "--concurrency", str(options.concurrency)],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(options.workers)
    ]
    try:
        warm = _submit(sessions, user_id, WARM_UP_JOBS * options.workers)
        for job_id in warm:
            send_grade_job(celery, job_id)
        _wait_drained(sessions, warm)
        jobs = _submit(sessions, user_id, options.jobs)
        started = time.monotonic()
        for job_id in jobs:
            send_grade_job(celery, job_id)
        _wait_drained(sessions, jobs)
        return time.monotonic() - started
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            worker.wait(60)


if __name__ == "__main__":
    main()
