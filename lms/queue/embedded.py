"""The embedded queue: the jobs table plus a pool of worker threads in the server process."""

from __future__ import annotations

import logging
import os
import threading

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from lms.config import Settings
from lms.extensions import db
from lms.queue import QueueUnsupported, WorkerOptions
from lms.queue.health import CheckResult
from lms.queue.sessions import sessions_for
from lms.queue.worker import Worker
from lms.services import grading_jobs

log = logging.getLogger(__name__)


class EmbeddedQueue:
    """Worker threads started with the server; `enqueue` wakes them at once."""

    name = "embedded"

    def __init__(
        self, sessions: sessionmaker[Session], size: int, poll_seconds: float = 2.0
    ) -> None:
        self.sessions = sessions
        self.size = max(1, size)
        self.worker_threads = self.size
        self.poll_seconds = poll_seconds
        self.graders = None  # None: the grader's public API (see lms.queue.worker)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []

    @classmethod
    def from_app(cls, app: Flask) -> EmbeddedQueue:
        """Worker threads on the application's database (GRADING_WORKERS of them)."""
        return cls(
            db.sessionmaker_for(app),
            int(app.config.get("GRADING_WORKERS", 2)),
            float(app.config.get("GRADING_POLL_SECONDS", 2.0)),
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> EmbeddedQueue:
        """The queue as `lms doctor` sees it from outside a server (no thread of its own)."""
        return cls(sessions_for(settings.database_url), settings.grading_workers)

    def enqueue(self, job_id: int) -> None:
        """The job row is already committed; wake an idle worker to take it."""
        self._wake.set()

    def start(self) -> None:
        """Re-queue jobs a stopped server left running, then start the worker threads."""
        if self._threads:
            return
        with self.sessions() as session:
            requeued = grading_jobs.requeue_abandoned(session)
        if requeued:
            log.warning("re-queued %d grading job(s) left running by a previous server", requeued)
        self._stop.clear()
        for number in range(self.size):
            worker = Worker(
                self.sessions,
                name=f"{os.uname().nodename}:{os.getpid()}:{number}",
                graders=self.graders,
            )
            thread = threading.Thread(
                target=worker.run_forever,
                args=(self._stop, self._wake, self.poll_seconds),
                name=f"grading-worker-{number}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the workers to finish their current job and wait for them."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def health_checks(self, timeout: float) -> list[CheckResult]:
        """No broker; once started in this process, how many worker threads are alive."""
        results = [
            CheckResult(
                "broker",
                "ok",
                "none: embedded queue (grading runs in the server's worker threads; set "
                "LMS_BROKER_URL to scale out)",
            )
        ]
        if self._threads:
            alive = sum(thread.is_alive() for thread in self._threads)
            results.append(
                CheckResult(
                    "workers",
                    "ok" if alive else "fail",
                    f"{alive} of {self.size} thread(s) alive",
                    "restart the server (`lms serve`)",
                )
            )
        return results

    def requeue(self, queued_for: float) -> int:
        """Nothing to re-send: the worker threads read the jobs table directly."""
        raise QueueUnsupported(
            "LMS_BROKER_URL is not set: the embedded queue needs no re-dispatch (its workers "
            "read the jobs table directly)."
        )

    def run_worker(self, options: WorkerOptions) -> None:
        """There is no separate worker: the server grades in its own threads."""
        raise QueueUnsupported(
            "LMS_BROKER_URL is not set, so the web application grades with its embedded workers "
            "and never sends jobs to a broker. Set LMS_BROKER_URL=redis://HOST:6379/0 (and "
            "LMS_DATABASE_URL=postgresql+psycopg://...) here and on the web server."
        )
