"""Fixtures of the scale-out tests: PostgreSQL, Redis and real `lms worker` processes.

They use a database of their own (`atlas_scale`, created if missing) and Redis database 7, so
they never touch what the other suites use. Without PostgreSQL or Redis they are skipped
locally, and they fail under CI=true.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from lms.models import GradingJob, JobStatus

SCALE_CONTENT = Path(__file__).parent / "fixtures" / "content"
POSTGRES_ADMIN_URL = os.environ.get(
    "LMS_TEST_POSTGRES_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SCALE_DATABASE = "atlas_scale"
REDIS_URL = os.environ.get("LMS_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")
VISIBILITY_TIMEOUT = 10  # seconds: short, so a killed worker's jobs come back quickly
LMS = str(Path(sys.executable).with_name("lms"))


def unavailable(reason: str) -> None:
    """Skip locally; under CI=true a missing service is a failure, never a silent skip."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the scale-out tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def scale_database_url() -> str:
    """The URL of the `atlas_scale` PostgreSQL database (created on first use)."""
    try:
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT",
                              connect_args={"connect_timeout": 3})
        with admin.connect() as connection:
            exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                       {"name": SCALE_DATABASE})
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{SCALE_DATABASE}"'))
        admin.dispose()
    except Exception as error:
        unavailable(f"PostgreSQL unreachable at {POSTGRES_ADMIN_URL}: {error}")
    url = make_url(POSTGRES_ADMIN_URL).set(database=SCALE_DATABASE)
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis database the tests use as Celery's broker."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as error:
        unavailable(f"Redis unreachable at {REDIS_URL}: {error}")
    return REDIS_URL


def run_lms(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    """Run an `lms` command (as an operator would) and return its output; fail on error."""
    done = subprocess.run([LMS, *args], env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"lms {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture
def scale_env(scale_database_url: str, redis_url: str, tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A fresh schema (`lms db upgrade`), the test content (`lms import`), an empty broker; the
    environment every process of the test shares (also set in this one)."""
    import redis

    engine = create_engine(scale_database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    redis.Redis.from_url(redis_url).flushdb()
    settings = {
        "LMS_DATABASE_URL": scale_database_url,
        "LMS_BROKER_URL": redis_url,
        "LMS_CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "LMS_JOB_LEASE_SECONDS": str(VISIBILITY_TIMEOUT),
        "LMS_REDISPATCH_SECONDS": "5",
        "LMS_INSTANCE_PATH": str(tmp_path / "instance"),
        "LMS_LOG_FORMAT": "json",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    env = {**os.environ, **settings}
    run_lms(env, "db", "upgrade")
    run_lms(env, "import", str(SCALE_CONTENT))
    return env


class WorkerProcess:
    """One `lms worker` process (its own process group, so it can be killed with its pool)."""

    def __init__(self, env: dict[str, str], log_path: Path, concurrency: int) -> None:
        self.log_path = log_path
        self.log = log_path.open("w")
        self.process = subprocess.Popen(
            [LMS, "worker", "--concurrency", str(concurrency)], env=env, stdout=self.log,
            stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self) -> int:
        """The worker's main process id."""
        return self.process.pid

    def output(self) -> str:
        """Everything the worker logged so far."""
        self.log.flush()
        return self.log_path.read_text()

    def wait_ready(self, timeout: float = 90) -> None:
        """Wait until Celery says the worker is ready."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.output():
                return
            assert self.process.poll() is None, f"worker exited:\n{self.output()}"
            time.sleep(0.2)
        raise AssertionError(f"worker not ready after {timeout} s:\n{self.output()[-3000:]}")

    def pool_pids(self) -> set[int]:
        """The worker's pool processes (which grade the jobs)."""
        import psutil

        try:
            return {child.pid for child in psutil.Process(self.pid).children()}
        except psutil.NoSuchProcess:
            return set()

    def kill_hard(self) -> None:
        """kill -9 the worker and everything in its process group, as a crash would."""
        if self.process.poll() is None:
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        """Warm shutdown (finish the current jobs), then kill whatever is left."""
        if self.process.poll() is None:
            os.killpg(self.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self.process.wait(10)
        self.log.close()


@pytest.fixture
def start_worker(scale_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start `lms worker` processes; all of them are stopped at the end of the test."""
    started: list[WorkerProcess] = []

    def start(concurrency: int = 2, wait: bool = True) -> WorkerProcess:
        worker = WorkerProcess(scale_env, tmp_path / f"worker-{len(started)}.log", concurrency)
        started.append(worker)
        if wait:
            worker.wait_ready()
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def scale_sessions(scale_env: dict[str, str]) -> Iterator[sessionmaker[Session]]:
    """Sessions on the scale-out database, for the test's own checks."""
    engine = create_engine(scale_env["LMS_DATABASE_URL"])
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


def wait_for(condition: Callable[[], bool], timeout: float, what: str,
             interval: float = 0.25) -> None:
    """Poll `condition` until true; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def job_counts(sessions: sessionmaker[Session]) -> dict[JobStatus, int]:
    """How many jobs are in each state."""
    with sessions() as session:
        return dict(session.execute(
            select(GradingJob.status, func.count()).group_by(GradingJob.status)).all())
