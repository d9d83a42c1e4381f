"""The embedded queue: the jobs table plus a pool of worker threads in the server process."""

from __future__ import annotations

import logging
import os
import threading

from flask import Flask

from lms.extensions import db
from lms.queue.worker import Worker
from lms.services import grading_jobs

log = logging.getLogger(__name__)


class EmbeddedQueue:
    """Worker threads started with the server; `enqueue` wakes them at once."""

    def __init__(self, app: Flask) -> None:
        self.sessions = db.sessionmaker_for(app)
        self.size = max(1, int(app.config.get("GRADING_WORKERS", 2)))
        self.poll_seconds = float(app.config.get("GRADING_POLL_SECONDS", 2.0))
        self.graders = None  # None: the grader's public API (see lms.queue.worker)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []

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
