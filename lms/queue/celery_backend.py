"""The "celery" queue backend: the web application publishes job ids to a broker (Redis), and
Celery workers started with `lms worker` on any machine grade them (see lms.queue.celery_app).

The job row is committed before anything is published, so a broker that is down at that moment
loses nothing: the job stays queued in the database and is sent again by the workers' periodic
re-dispatch (or `lms requeue`) once the broker is back.
"""

from __future__ import annotations

import logging

from flask import Flask
from kombu.exceptions import KombuError

from lms.queue import register_backend
from lms.queue.celery_app import CelerySettings, make_celery, send_grade_job

log = logging.getLogger(__name__)


class CeleryQueue:
    """Publishes job ids to the broker; the grading happens in `lms worker` processes."""

    name = "celery"

    def __init__(self, app: Flask) -> None:
        self.settings = CelerySettings.from_flask_config(app.config)
        self.celery = make_celery(self.settings)

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


register_backend(CeleryQueue.name, CeleryQueue)
