"""Health checks of what grading depends on, for `lms doctor` and the admins' operations page.

The database, the queue's counts and the sandbox are checked here; what a queue backend depends
on (a broker, its workers) is checked by the backend itself (`QueueBackend.health_checks`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text

from lms.models import GradingJob, JobStatus, utcnow
from lms.queue.sessions import sessions_for

if TYPE_CHECKING:
    from lms.queue import QueueBackend

MARKS = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL", "skip": "--  "}


@dataclass(frozen=True)
class CheckResult:
    """One check: its status (ok, warn, fail, skip), what was found, and what to do about it."""

    name: str
    status: str
    detail: str
    fix: str = ""
    required: bool = True

    @property
    def broken(self) -> bool:
        """Whether this failure stops grading (a failed required check)."""
        return self.status == "fail" and self.required

    def line(self) -> str:
        """One line for a terminal: `[FAIL] broker: ... -> what to do`."""
        fix = f" -> {self.fix}" if self.fix and self.status != "ok" else ""
        return f"[{MARKS[self.status]}] {self.name}: {self.detail}{fix}"


def safe_url(url: str) -> str:
    """A URL with its password hidden."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # a broker URL SQLAlchemy cannot parse: drop the credentials part
        scheme, _, rest = url.partition("://")
        return f"{scheme}://{rest.rsplit('@', 1)[-1]}"


def check_database(database_url: str) -> CheckResult:
    """The database answers and its schema is at the newest migration."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from lms.migrations import alembic_config

    where = safe_url(database_url)
    try:
        with sessions_for(database_url)() as session:
            session.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(session.connection()).get_current_heads())
    except Exception as error:
        return CheckResult(
            "database",
            "fail",
            f"cannot connect to {where}: {first_line(error)}",
            "run `lms db upgrade` to create an embedded SQLite database"
            if database_url.startswith("sqlite")
            else "start the database or fix LMS_DATABASE_URL",
        )
    heads = set(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())
    if current != heads:
        return CheckResult(
            "database",
            "fail",
            f"{where} is at migration {sorted(current) or 'none'}, the code needs {sorted(heads)}",
            "run `lms db upgrade` with the same LMS_DATABASE_URL",
        )
    return CheckResult("database", "ok", f"{where} answers, schema at migration {sorted(heads)}")


def check_queue(database_url: str) -> CheckResult:
    """How many jobs wait, run, or failed for good (information, never a failure)."""
    try:
        with sessions_for(database_url)() as session:
            counts = dict(
                session.execute(
                    select(GradingJob.status, func.count()).group_by(GradingJob.status)
                ).all()
            )
            oldest = session.scalar(
                select(func.min(GradingJob.queued_at)).where(GradingJob.status == JobStatus.QUEUED)
            )
    except Exception as error:
        return CheckResult("queue", "skip", f"unknown ({first_line(error)})", required=False)
    queued, failed = counts.get(JobStatus.QUEUED, 0), counts.get(JobStatus.FAILED, 0)
    detail = (
        f"{queued} queued, {counts.get(JobStatus.RUNNING, 0)} running, "
        f"{counts.get(JobStatus.DONE, 0)} done, {failed} failed"
    )
    if oldest is not None:
        detail += f"; oldest queued job waits for {_age(utcnow() - oldest)}"
    stale = oldest is not None and utcnow() - oldest > timedelta(minutes=10)
    if failed or stale:
        return CheckResult(
            "queue",
            "warn",
            detail,
            "see the admins' Operations page (/admin/ops) to read failures and "
            "retry; a stale queue means no worker is grading",
            required=False,
        )
    return CheckResult("queue", "ok", detail, required=False)


def check_sandbox() -> CheckResult:
    """The isolation trainee code runs under on this machine."""
    try:
        from grading.runtime import isolation_report
    except ImportError as error:
        return CheckResult(
            "sandbox",
            "fail",
            f"the grading runtime cannot be imported: {error}",
            "reinstall Atlas (`pip install -e .`)",
        )
    try:
        report: dict[str, Any] = isolation_report()
    except Exception as error:
        return CheckResult(
            "sandbox",
            "fail",
            f"the sandbox did not start: {first_line(error)}",
            "run the grader as root, or see the message above",
        )
    if report.get("sandboxed"):
        parts = [
            "namespaces " + ",".join(report.get("namespaces", [])),
            "cgroups " + (",".join(report.get("cgroups", [])) or "none"),
            "uid drop" if report.get("uid_drop") else "no uid drop",
        ]
        return CheckResult("sandbox", "ok", "; ".join(parts))
    if report.get("unsafe_opt_out"):
        return CheckResult(
            "sandbox",
            "warn",
            "LMS_UNSAFE_NO_SANDBOX=1: trainee code runs WITHOUT isolation",
            "only for development; run as root (or in the container) for real submissions",
            required=False,
        )
    return CheckResult(
        "sandbox",
        "fail",
        report.get("reason") or "no isolation available",
        "run the grader as root (e.g. in its container)",
    )


def run_checks(
    database_url: str, backend: QueueBackend, timeout: float = 3.0, sandbox: bool = True
) -> list[CheckResult]:
    """Every check, in the order they depend on each other; the backend checks its own parts."""
    results = [check_database(database_url), check_queue(database_url)]
    results.extend(backend.health_checks(timeout))
    if sandbox:
        results.append(check_sandbox())
    return results


def first_line(error: BaseException) -> str:
    """The first line of an error's message, for a one-line check detail."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:300]


def _age(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"
