"""The grading queue: a registry of backends, each with `enqueue(job_id)`, `start()`, `stop()`.

"embedded" (the jobs table + worker threads in the server) is the default; a scale-out backend
registers itself under another name and is chosen when LMS_BROKER_URL is set.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from flask import Flask, current_app

from lms.queue.embedded import EmbeddedQueue


class QueueBackend(Protocol):
    """What the web application needs from a queue."""

    def enqueue(self, job_id: int) -> bool | None:
        """Hand a committed job to the workers; False: kept in the database, sent later."""

    def start(self) -> None:
        """Start consuming (embedded: start the worker threads)."""

    def stop(self) -> None:
        """Stop consuming."""


BACKENDS: dict[str, Callable[[Flask], QueueBackend]] = {"embedded": EmbeddedQueue}


def register_backend(name: str, factory: Callable[[Flask], QueueBackend]) -> None:
    """Make a backend available by name (e.g. "celery")."""
    BACKENDS[name] = factory


def backend_name(app: Flask) -> str:
    """The configured backend: QUEUE_BACKEND if set, else "celery" with a broker URL."""
    return app.config.get("QUEUE_BACKEND") or (
        "celery" if app.config.get("BROKER_URL") else "embedded"
    )


def init_app(app: Flask) -> None:
    """Create the configured backend (workers start only when `start_workers` is called)."""
    name = backend_name(app)
    if name == "celery":
        import lms.queue.celery_backend  # noqa: F401 - registers "celery"
    if name not in BACKENDS:
        raise RuntimeError(f"No grading queue backend {name!r}; known: {sorted(BACKENDS)}.")
    app.extensions["lms.queue"] = BACKENDS[name](app)


def get_queue(app: Flask | None = None) -> QueueBackend:
    """The application's queue backend."""
    return (app or current_app).extensions["lms.queue"]


def enqueue(job_id: int) -> bool | None:
    """Hand a committed grading job to the queue; False when it could not be sent yet."""
    return get_queue().enqueue(job_id)
