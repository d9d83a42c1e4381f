"""`lms` commands: queue — Celery workers, re-dispatch of queued jobs, and `lms doctor`."""

from __future__ import annotations

import os
import sys

import click

from lms.cli import main
from lms.queue import celery_backend  # noqa: F401 - registers the "celery" queue backend


@main.command()
@click.option("--concurrency", "-c", type=click.IntRange(min=1), default=None,
              help="Jobs graded at once (default: the number of CPUs).")
@click.option("--pool", type=click.Choice(["prefork", "threads", "solo"]), default="prefork",
              show_default=True, help="Celery's execution pool.")
@click.option("--loglevel", "-l", default="INFO", show_default=True)
@click.option("--name", "-n", default=None,
              help="Celery node name (default: lms-<pid>@<host>, unique per process).")
def worker(concurrency: int | None, pool: str, loglevel: str, name: str | None) -> None:
    """Grade jobs from LMS_BROKER_URL, reading everything from LMS_DATABASE_URL (Celery worker)."""
    if not os.environ.get("LMS_BROKER_URL"):
        raise click.ClickException(
            "LMS_BROKER_URL is not set, so the web application grades with its embedded workers "
            "and never sends jobs to a broker. Set LMS_BROKER_URL=redis://HOST:6379/0 (and "
            "LMS_DATABASE_URL=postgresql+psycopg://...) here and on the web server.")
    from lms.queue.celery_app import GRADING_QUEUE, celery

    argv = ["worker", f"--loglevel={loglevel}", f"--pool={pool}", f"--queues={GRADING_QUEUE}",
            f"--hostname={name or f'lms-{os.getpid()}@%h'}", "--without-gossip",
            "--without-mingle"]
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    celery.worker_main(argv)


@main.command()
@click.option("--queued-for", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Only jobs queued at least this many seconds ago.")
def requeue(queued_for: float) -> None:
    """Send again to the broker the jobs queued in the database (e.g. after a broker outage)."""
    from kombu.exceptions import KombuError

    from lms.queue.celery_app import celery, redispatch

    if not os.environ.get("LMS_BROKER_URL"):
        raise click.ClickException(
            "LMS_BROKER_URL is not set: the embedded queue needs no re-dispatch (its workers "
            "read the jobs table directly).")
    try:
        count = redispatch(celery, queued_for)
    except KombuError as error:
        raise click.ClickException(
            f"The broker is unreachable ({error}); the jobs stay queued in the database. "
            "Start Redis, then run `lms requeue` again.") from None
    click.echo(f"Sent {count} job(s) to the broker.")


@main.command()
@click.option("--timeout", type=float, default=3.0, show_default=True,
              help="Seconds to wait for the broker and the workers to answer.")
def doctor(timeout: float) -> None:
    """Check the database, the broker, the workers and the sandbox; say what to fix."""
    from lms.queue.health import run_checks

    results = run_checks(timeout=timeout)
    for result in results:
        click.echo(result.line())
    broken = [r for r in results if r.broken]
    if broken:
        click.echo(f"\n{len(broken)} required check(s) failed.", err=True)
        sys.exit(1)
    click.echo("\nAll required checks passed.")
