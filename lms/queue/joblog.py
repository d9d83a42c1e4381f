"""Structured logs for grading: one JSON object per line, carrying the job id being worked on.

The job id travels in a context variable, so every log line written while a job is handled (ours,
the worker's, the grader's) carries it without each call passing it along.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime

current_job_id: ContextVar[int | None] = ContextVar("lms_current_job_id", default=None)
GRADE_TASK = "lms.grade_job"

# Attributes every LogRecord has; anything else was passed with `extra=` and is worth keeping.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "job_id",
    "taskName",
}


@contextlib.contextmanager
def job_context(job_id: int) -> Iterator[None]:
    """Tag every log record written inside the block with `job_id`."""
    token = current_job_id.set(job_id)
    try:
        yield
    finally:
        current_job_id.reset(token)


class JobIdFilter(logging.Filter):
    """Adds `job_id` (the job being handled, or None) to every record that lacks one."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Never drops a record; only annotates it."""
        if getattr(record, "job_id", None) is None:
            record.job_id = current_job_id.get() or _celery_job_id(record)
        return True


def _celery_job_id(record: logging.LogRecord) -> int | None:
    # Celery's own lines ("Task lms.grade_job[...] received/succeeded") carry the task's
    # arguments in `data`, written outside our job context: read the job id from there.
    data = getattr(record, "data", None)
    if not isinstance(data, dict) or data.get("name") != GRADE_TASK:
        return None
    try:
        args = json.loads(data.get("args") or "[]")
    except (TypeError, ValueError):
        return None
    return args[0] if args and isinstance(args[0], int) else None


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, job_id, host, pid, extras."""

    def __init__(self) -> None:
        super().__init__()
        self.host = socket.gethostname()

    def format(self, record: logging.LogRecord) -> str:
        """The record as a single line of JSON."""
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "job_id": (
                getattr(record, "job_id", None) or current_job_id.get() or _celery_job_id(record)
            ),
            "host": self.host,
            "pid": record.process,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """Human-readable lines that still name the job: `... [job 42] message`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(job)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """The record with its job id, when there is one."""
        job_id = getattr(record, "job_id", None) or current_job_id.get()
        record.job = f" [job {job_id}]" if job_id is not None else ""
        return super().format(record)


def make_formatter(style: str = "json") -> logging.Formatter:
    """The formatter named by `style` (LMS_LOG_FORMAT, read by lms.config): "json" or "text"."""
    style = style.lower()
    if style not in ("json", "text"):
        raise ValueError(f"LMS_LOG_FORMAT must be 'json' or 'text', not {style!r}.")
    return JsonFormatter() if style == "json" else TextFormatter()


def install(logger: logging.Logger, style: str = "json") -> None:
    """Give every handler of `logger` the structured formatter and the job-id filter."""
    formatter = make_formatter(style)
    for handler in logger.handlers:
        handler.setFormatter(formatter)
        if not any(isinstance(f, JobIdFilter) for f in handler.filters):
            handler.addFilter(JobIdFilter())
