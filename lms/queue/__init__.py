"""The grading queue: a registry of backends, each implementing `QueueBackend`.

"embedded" (the jobs table + worker threads in the server) is the default; "celery" (Redis and
`lms worker` processes) is chosen when LMS_BROKER_URL is set. A backend's module is imported
only when it is chosen, so an embedded web process never imports Celery. Callers ask the
backend (health checks, re-dispatch, workers) instead of testing which one it is.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from flask import Flask, current_app

if TYPE_CHECKING:
    from lms.config import Settings
    from lms.queue.health import CheckResult


class QueueUnsupported(Exception):
    """The backend does not do this (e.g. separate workers in embedded mode); says what to do."""


@dataclass(frozen=True)
class WorkerOptions:
    """How to run a separate worker process (`lms worker`)."""

    concurrency: int | None = None
    pool: str = "prefork"
    loglevel: str = "INFO"
    name: str | None = None


class QueueBackend(Protocol):
    """What the application needs from a queue."""

    name: str
    # Grading threads inside the web server (None: the workers are separate processes).
    worker_threads: int | None

    @classmethod
    def from_app(cls, app: Flask) -> QueueBackend:
        """The backend of a web application (its config)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> QueueBackend:
        """The backend of a process without a web application (`lms worker`, `lms doctor`)."""

    def enqueue(self, job_id: int) -> bool | None:
        """Hand a committed job to the workers; False: kept in the database, sent later."""

    def start(self) -> None:
        """Start consuming (embedded: start the worker threads)."""

    def stop(self) -> None:
        """Stop consuming."""

    def health_checks(self, timeout: float) -> list[CheckResult]:
        """What this backend depends on, checked (for `lms doctor` and the operations page)."""

    def requeue(self, queued_for: float) -> int:
        """Send again the jobs queued in the database; how many (QueueUnsupported if moot)."""

    def run_worker(self, options: WorkerOptions) -> None:
        """Run a grading worker in this process until stopped (QueueUnsupported if none)."""


# name -> "module:attribute" of the backend's class, imported when chosen.
BACKENDS: dict[str, str | type[QueueBackend]] = {
    "embedded": "lms.queue.embedded:EmbeddedQueue",
    "celery": "lms.queue.celery_backend:CeleryQueue",
}


def register_backend(name: str, backend: str | type[QueueBackend]) -> None:
    """Make a backend available by name: its class, or "module:attribute" to import lazily."""
    BACKENDS[name] = backend


def backend_name(app: Flask) -> str:
    """The configured backend: QUEUE_BACKEND if set, else "celery" with a broker URL."""
    return app.config.get("QUEUE_BACKEND") or (
        "celery" if app.config.get("BROKER_URL") else "embedded"
    )


def backend_class(name: str) -> type[QueueBackend]:
    """The backend registered as `name`, its module imported now."""
    if name not in BACKENDS:
        raise RuntimeError(f"No grading queue backend {name!r}; known: {sorted(BACKENDS)}.")
    backend = BACKENDS[name]
    if isinstance(backend, str):
        module, _, attribute = backend.partition(":")
        backend = getattr(importlib.import_module(module), attribute)
    return backend


def backend_for(settings: Settings) -> QueueBackend:
    """The configured backend of a process without a web application."""
    return backend_class(settings.backend).from_settings(settings)


def init_app(app: Flask) -> None:
    """Create the configured backend (workers start only when `start_workers` is called)."""
    app.extensions["lms.queue"] = backend_class(backend_name(app)).from_app(app)


def get_queue(app: Flask | None = None) -> QueueBackend:
    """The application's queue backend."""
    return (app or current_app).extensions["lms.queue"]


def enqueue(job_id: int) -> bool | None:
    """Hand a committed grading job to the queue; False when it could not be sent yet."""
    return get_queue().enqueue(job_id)
