"""Helpers of the scale-out tests: services, `lms` commands, worker processes, polling."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from lms.models import GradingJob, JobStatus

SCALE_CONTENT = Path(__file__).parent / "fixtures" / "content"
POSTGRES_ADMIN_URL = os.environ.get(
    "LMS_TEST_POSTGRES_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# One database and one Redis key prefix per test session, so two runs at once (two developers,
# or the suite and a single test) never see each other's jobs.
SCALE_DATABASE = f"atlas_scale_{os.getpid()}"
REDIS_URL = os.environ.get("LMS_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")
REDIS_KEY_PREFIX = f"atlas-test-{os.getpid()}:"
VISIBILITY_TIMEOUT = 10  # seconds: short, so a killed worker's jobs come back quickly
LMS = str(Path(sys.executable).with_name("lms"))
CELERY = str(Path(sys.executable).with_name("celery"))


def unavailable(reason: str) -> None:
    """Skip locally; under CI=true a missing service is a failure, never a silent skip."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the scale-out tests must run)")
    pytest.skip(reason)


def clear_broker(url: str, prefix: str) -> None:
    """Delete this session's keys (messages, unacknowledged ones, locks) from Redis."""
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)


def run_lms(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    """Run an `lms` command (as an operator would) and return its output; fail on error."""
    done = subprocess.run([LMS, *args], env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"lms {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


class WorkerProcess:
    """One `lms worker` process (its own process group, so it can be killed with its pool)."""

    def __init__(
        self, env: dict[str, str], log_path: Path, concurrency: int, celery_cli: bool = False
    ) -> None:
        self.log_path = log_path
        self.log = log_path.open("w")
        command = (
            [
                CELERY,
                "-A",
                "lms.queue.celery_app",
                "worker",
                "--loglevel",
                "INFO",
                "--hostname",
                "lms-cli@%h",
            ]
            if celery_cli
            else [LMS, "worker"]
        )
        self.process = subprocess.Popen(
            [*command, "--concurrency", str(concurrency)],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

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


def wait_for(
    condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.25
) -> None:
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
        return dict(
            session.execute(
                select(GradingJob.status, func.count()).group_by(GradingJob.status)
            ).all()
        )
