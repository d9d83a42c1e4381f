"""The Celery application of the scale-out mode: `celery -A lms.queue.celery_app worker` (or `lms
worker`) grades jobs on any machine that reaches the database and the broker.

Configured from the environment only (LMS_BROKER_URL, LMS_DATABASE_URL, ...); it never builds the
Flask application. A message carries only a job id: the job's state, the notebook and the
exercise bundle are read from the database, so nothing depends on the web server's disk.
"""

from __future__ import annotations

import ast
import json
import logging
import threading
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from celery import Celery, Task, signals
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lms.config import DEFAULT_BROKER_URL, Settings
from lms.models import GradingJob, JobStatus, utcnow
from lms.queue import joblog
from lms.queue.sessions import sessions_for
from lms.services import grading_jobs

log = logging.getLogger(__name__)

GRADE_TASK = joblog.GRADE_TASK
GRADING_QUEUE = "lms.grading"
REDISPATCH_LOCK = "lms:redispatch-lock"
# How long a task waits before grading again a job whose grader raised (times the attempt).
FAILURE_BACKOFF_SECONDS = 5.0


@dataclass(frozen=True)
class CelerySettings:
    """What a worker and a sender need, derived from `lms.config.Settings`."""

    broker_url: str
    database_url: str
    visibility_timeout: float = 3600.0
    lease_seconds: float = 3600.0
    redispatch_seconds: float = 60.0
    key_prefix: str = ""  # for Redis keys: several Atlas instances can share one Redis
    log_format: str = "json"

    @classmethod
    def from_settings(cls, settings: Settings) -> CelerySettings:
        """The Celery part of the platform's settings (a local Redis when no broker is set)."""
        return cls(
            broker_url=settings.broker_url or DEFAULT_BROKER_URL,
            database_url=settings.database_url,
            visibility_timeout=settings.celery_visibility_timeout,
            lease_seconds=settings.job_lease_seconds,
            redispatch_seconds=settings.redispatch_seconds,
            key_prefix=settings.broker_key_prefix,
            log_format=settings.log_format,
        )

    @classmethod
    def from_env(cls) -> CelerySettings:
        """The settings of a worker: `Settings.from_env()` (LMS_BROKER_URL, LMS_DATABASE_URL,
        LMS_CELERY_VISIBILITY_TIMEOUT, LMS_JOB_LEASE_SECONDS, LMS_REDISPATCH_SECONDS, ...)."""
        return cls.from_settings(Settings.from_env())

    @classmethod
    def from_flask_app(cls, app: Any) -> CelerySettings:
        """The settings of a web application (its BROKER_URL and DATABASE_URL win)."""
        return replace(
            cls.from_settings(app.extensions["lms.settings"]),
            broker_url=app.config["BROKER_URL"] or DEFAULT_BROKER_URL,
            database_url=app.config["DATABASE_URL"],
        )


def make_celery(settings: CelerySettings) -> Celery:
    """A Celery application that sends and grades jobs with at-least-once delivery."""
    app = Celery("lms", broker=settings.broker_url, set_as_current=False)
    transport_options: dict[str, Any] = {
        "visibility_timeout": settings.visibility_timeout,
        # kombu looks for such messages every interval x throttle seconds (100 s by
        # default): look every few seconds, so a lost job is back soon after the timeout.
        "unacked_restore_interval": int(max(1, min(10, settings.visibility_timeout // 4))),
        "unacked_restore_throttle": 1,
        "socket_connect_timeout": 3,
        "socket_timeout": 10,
    }
    if settings.key_prefix:
        transport_options["global_keyprefix"] = settings.key_prefix
    app.conf.update(
        # A job is acknowledged only once graded; a worker lost mid-job gets its job redelivered.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # Redis re-delivers an unacknowledged message after this long: longer than any job.
        broker_transport_options=transport_options,
        # A web request must not hang on a dead broker: fail fast, the job stays queued in the DB.
        task_publish_retry_policy={
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.3,
            "interval_max": 0.5,
        },
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a worker waits for the broker to come back
        task_default_queue=GRADING_QUEUE,
        task_ignore_result=True,
        task_time_limit=settings.lease_seconds,
        worker_hijack_root_logger=True,
        worker_send_task_events=False,
    )
    app.conf.lms_settings = settings
    app.task(
        name=GRADE_TASK, bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True
    )(grade_job)
    return app


# --- the task ---------------------------------------------------------------------------------


def grade_job(task: Task, job_id: int) -> str:
    """Grade job `job_id` once: claim its row, grade it with the Worker, apply the result."""
    from lms.queue.worker import Worker

    settings: CelerySettings = task.app.conf.lms_settings
    sessions = sessions_for(settings.database_url)
    name = grading_jobs.worker_name("celery")
    with joblog.job_context(job_id):
        with sessions() as session:
            claim = grading_jobs.claim_job(session, job_id, name, settings.lease_seconds)
        if claim.state is grading_jobs.ClaimState.BUSY:
            log.info(
                "job held by %s; looking again in %.1f s", claim.previous_worker, claim.retry_in
            )
            raise task.retry(countdown=claim.retry_in + 1.0, max_retries=None)
        if claim.state is not grading_jobs.ClaimState.CLAIMED:
            log.info("nothing to do for this delivery: %s", claim.state.value)
            return claim.state.value
        if claim.previous_worker:
            log.warning("re-grading a job abandoned by %s", claim.previous_worker)
        try:
            Worker(sessions, name=name).process(job_id)
        except Exception as error:  # the database, not the grader, failed: try again later
            log.exception("could not finish the job; it goes back to the queue")
            _release(sessions, job_id, name)
            raise task.retry(countdown=FAILURE_BACKOFF_SECONDS, max_retries=None) from error
        with sessions() as session:
            status, attempts = session.execute(
                select(GradingJob.status, GradingJob.attempts).where(GradingJob.id == job_id)
            ).one()
        if status == JobStatus.QUEUED:  # the grader raised; record_failure asked for a new try
            raise task.retry(countdown=FAILURE_BACKOFF_SECONDS * attempts, max_retries=None)
        return status.value


def _release(sessions: sessionmaker[Session], job_id: int, name: str) -> None:
    try:
        with sessions() as session:
            grading_jobs.release(session, job_id, name)
    except Exception:  # still unreachable: the lease will expire and the job be taken over
        log.exception("could not release the job; it will be re-run when its lease ends")


# --- sending, and re-sending what a broker may not hold ----------------------------------------


def send_grade_job(app: Celery, job_id: int) -> None:
    """Publish the job's message (raises kombu's OperationalError when the broker is down)."""
    app.send_task(GRADE_TASK, args=[job_id], queue=GRADING_QUEUE)


def redispatch(app: Celery, queued_for: float = 0.0) -> int:
    """Send again the jobs the broker does not hold: queued (for at least `queued_for` seconds)
    or running past their lease, and whose message is neither waiting nor being worked on."""
    settings: CelerySettings = app.conf.lms_settings
    with sessions_for(settings.database_url)() as session:
        candidates = grading_jobs.jobs_to_dispatch(
            session, utcnow() - timedelta(seconds=queued_for), settings.lease_seconds
        )
    if not candidates:
        return 0
    held = jobs_held_by_broker(app)
    ids = [job_id for job_id in candidates if job_id not in held]
    for job_id in ids:
        send_grade_job(app, job_id)
    if ids:
        log.warning(
            "re-dispatched %d job(s) the broker did not hold", len(ids), extra={"job_ids": ids[:50]}
        )
    return len(ids)


def jobs_held_by_broker(app: Celery) -> set[int]:
    """Job ids with a message in the grading queue or delivered but unacknowledged (Redis);
    an empty set for other brokers, where only `queued_for` guards against duplicates."""
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        client = getattr(channel, "client", None)
        if client is None:
            return set()
        # kombu prefixes the keys of the commands it uses itself, not of these two.
        prefix = getattr(channel, "global_keyprefix", "") or ""
        waiting = [json.loads(raw) for raw in client.lrange(prefix + GRADING_QUEUE, 0, -1)]
        delivered = [json.loads(raw)[0] for raw in client.hvals(prefix + channel.unacked_key)]
    return {
        job_id for message in waiting + delivered if (job_id := _job_id_of(message)) is not None
    }


def _job_id_of(message: dict[str, Any]) -> int | None:
    headers = message.get("headers") or {}
    if headers.get("task") != GRADE_TASK:
        return None
    try:
        args = ast.literal_eval(headers.get("argsrepr") or "()")
    except (ValueError, SyntaxError):
        return None
    return args[0] if args and isinstance(args[0], int) else None


def _holds_sweep_lock(app: Celery, seconds: float) -> bool:
    """One sweep per interval for the whole cluster (Redis SET NX); True without Redis."""
    with app.connection_for_write() as connection:
        client = getattr(connection.default_channel, "client", None)
        if client is None:
            return True
        return bool(
            client.set(
                REDISPATCH_LOCK, grading_jobs.worker_name("sweep"), nx=True, ex=max(1, int(seconds))
            )
        )


class Redispatcher(threading.Thread):
    """In a worker's main process: re-send jobs at start, then every `redispatch_seconds`."""

    def __init__(self, app: Celery) -> None:
        super().__init__(name="lms-redispatch", daemon=True)
        self.app = app
        self.stopped = threading.Event()

    def run(self) -> None:
        """Sweep everything once (a restart picks up what was lost), then periodically."""
        interval = self.app.conf.lms_settings.redispatch_seconds
        if self._holds_lock(interval):  # else another worker has just swept
            self._sweep(queued_for=0.0)
        while not self.stopped.wait(interval):
            if self._holds_lock(interval):
                self._sweep(queued_for=interval)

    def _holds_lock(self, interval: float) -> bool:
        try:
            return _holds_sweep_lock(self.app, interval * 0.9)
        except Exception:
            log.exception("broker unreachable; the next sweep will try again")
            return False

    def _sweep(self, queued_for: float) -> None:
        try:
            redispatch(self.app, queued_for)
        except Exception:  # database or broker down: keep the worker, retry at the next tick
            log.exception("re-dispatch failed; the next sweep will try again")


_redispatchers: list[Redispatcher] = []


@signals.worker_ready.connect
def _start_redispatcher(sender: Any = None, **_: Any) -> None:
    app = getattr(sender, "app", None)
    if app is None or app.conf.get("lms_settings") is None:
        return
    redispatcher = Redispatcher(app)
    redispatcher.start()
    _redispatchers.append(redispatcher)


@signals.worker_shutdown.connect
def _stop_redispatchers(**_: Any) -> None:
    for redispatcher in _redispatchers:
        redispatcher.stopped.set()


@signals.worker_process_init.connect
def _warm_runtime(**_: Any) -> None:
    # Start the sandbox's fork server in the background so the first job does not wait for it
    # (this signal must return within a few seconds or the pool gives the process up).
    def warm() -> None:
        try:
            from grading.runtime import get_runtime

            get_runtime()
        except Exception:
            log.exception("the grading sandbox could not start in this worker process")

    threading.Thread(target=warm, name="lms-warm-runtime", daemon=True).start()


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def _structured_logs(logger: logging.Logger, **_: Any) -> None:
    joblog.install(logger, Settings.from_env().log_format)


# --- the worker's application, built on first use (never at import) ---------------------------

_default_app: Celery | None = None
_default_app_lock = threading.Lock()


def default_app() -> Celery:
    """The Celery application of this process, configured from the environment on first use."""
    global _default_app
    with _default_app_lock:
        if _default_app is None:
            _default_app = make_celery(CelerySettings.from_env())
        return _default_app


def __getattr__(name: str) -> Celery:
    # `celery -A lms.queue.celery_app` looks up the module's `app`, then `celery` (find_app in
    # celery/app/utils.py): a module attribute built lazily keeps imports free of side effects.
    if name in ("app", "celery"):
        return default_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
