"""The "celery" queue backend: the web application publishes job ids to a broker (Redis), and
Celery workers started with `lms worker` on any machine grade them (see lms.queue.celery_app).

The job row is committed before anything is published, so a broker that is down at that moment
loses nothing: the job stays queued in the database and is sent again by the workers' periodic
re-dispatch (or `lms requeue`) once the broker is back.
"""

from __future__ import annotations

import logging
import os

from celery import Celery
from flask import Flask
from kombu.exceptions import KombuError

from lms.config import Settings
from lms.queue import QueueUnsupported, WorkerOptions
from lms.queue.celery_app import (
    GRADING_QUEUE,
    CelerySettings,
    make_celery,
    redispatch,
    send_grade_job,
)
from lms.queue.health import CheckResult, first_line, safe_url

log = logging.getLogger(__name__)


class CeleryQueue:
    """Publishes job ids to the broker; the grading happens in `lms worker` processes."""

    name = "celery"
    worker_threads = None

    def __init__(self, settings: CelerySettings) -> None:
        self.settings = settings
        self.celery = make_celery(settings)

    @classmethod
    def from_app(cls, app: Flask) -> CeleryQueue:
        """Publishing to the application's broker."""
        return cls(CelerySettings.from_flask_app(app))

    @classmethod
    def from_settings(cls, settings: Settings) -> CeleryQueue:
        """The broker and database of the environment (`lms worker`, `lms doctor`)."""
        return cls(CelerySettings.from_settings(settings))

    def enqueue(self, job_id: int) -> bool:
        """Publish the committed job; False (job kept queued, sent later) if the broker is down."""
        try:
            send_grade_job(self.celery, job_id)
        except (KombuError, OSError) as error:
            log.warning(
                "broker unreachable; job %s stays queued and will be sent when it is back: %s",
                job_id,
                error,
                extra={"job_id": job_id},
            )
            return False
        return True

    def start(self) -> None:
        """Nothing runs here: the workers are separate `lms worker` processes."""
        log.info("grading on Celery workers via %s", self.settings.broker_url.split("@")[-1])

    def stop(self) -> None:
        """Close the connections to the broker."""
        self.celery.close()

    def health_checks(self, timeout: float) -> list[CheckResult]:
        """A database workers elsewhere can reach, the broker, then the workers behind it."""
        results = []
        if self.settings.database_url.startswith("sqlite"):
            results.append(
                CheckResult(
                    "database",
                    "warn",
                    f"{safe_url(self.settings.database_url)} is a SQLite file",
                    "workers on other machines cannot reach it: use PostgreSQL "
                    "(LMS_DATABASE_URL=postgresql+psycopg://...)",
                    required=False,
                )
            )
        broker = check_broker(self.celery, self.settings, timeout)
        results.append(broker)
        if broker.status == "ok":
            results.append(check_workers(self.celery, timeout))
        else:
            results.append(
                CheckResult("workers", "skip", "not asked (broker unreachable)", required=False)
            )
        return results

    def requeue(self, queued_for: float) -> int:
        """Send again the queued jobs the broker does not hold."""
        try:
            return redispatch(self.celery, queued_for)
        except KombuError as error:
            raise QueueUnsupported(
                f"The broker is unreachable ({error}); the jobs stay queued in the database. "
                "Start Redis, then run `lms requeue` again."
            ) from None

    def run_worker(self, options: WorkerOptions) -> None:
        """A Celery worker on the grading queue (as `celery -A lms.queue.celery_app worker`)."""
        argv = [
            "worker",
            f"--loglevel={options.loglevel}",
            f"--pool={options.pool}",
            f"--queues={GRADING_QUEUE}",
            f"--hostname={options.name or f'lms-{os.getpid()}@%h'}",
            "--without-gossip",
            "--without-mingle",
        ]
        if options.concurrency:
            argv.append(f"--concurrency={options.concurrency}")
        self.celery.worker_main(argv)


def check_broker(celery: Celery, settings: CelerySettings, timeout: float) -> CheckResult:
    """The broker answers."""
    where = safe_url(settings.broker_url)
    try:
        with celery.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=timeout)
            client = getattr(connection.default_channel, "client", None)
            if client is not None:
                client.ping()
    except Exception as error:
        return CheckResult(
            "broker",
            "fail",
            f"cannot reach {where}: {first_line(error)}",
            "start Redis or fix LMS_BROKER_URL; submissions stay queued in the "
            "database meanwhile and are sent once it is back (`lms requeue`)",
        )
    return CheckResult("broker", "ok", f"{where} answers")


def check_workers(celery: Celery, timeout: float) -> CheckResult:
    """At least one Celery worker answers a ping."""
    try:
        replies = celery.control.inspect(timeout=timeout).ping() or {}
    except Exception as error:
        return CheckResult(
            "workers",
            "fail",
            f"cannot ask the workers: {first_line(error)}",
            "fix the broker first",
        )
    if not replies:
        return CheckResult(
            "workers",
            "fail",
            f"no Celery worker answered within {timeout:g} s",
            "start one or more with `lms worker` (same LMS_BROKER_URL and "
            "LMS_DATABASE_URL) on the grading machines",
        )
    return CheckResult("workers", "ok", f"{len(replies)} answered: {', '.join(sorted(replies))}")
