"""`lms` commands: queue — grading workers, re-dispatch of queued jobs, and `lms doctor`.

Each asks the configured queue backend (`lms.queue.backend_for`), whichever it is.
"""

from __future__ import annotations

import sys

import click

from lms.cli import main
from lms.config import Settings
from lms.queue import QueueUnsupported, WorkerOptions, backend_for


@main.command()
@click.option(
    "--concurrency",
    "-c",
    type=click.IntRange(min=1),
    default=None,
    help="Jobs graded at once (default: the number of CPUs).",
)
@click.option(
    "--pool",
    type=click.Choice(["prefork", "threads", "solo"]),
    default="prefork",
    show_default=True,
    help="The worker's execution pool.",
)
@click.option("--loglevel", "-l", default="INFO", show_default=True)
@click.option(
    "--name",
    "-n",
    default=None,
    help="Worker node name (default: lms-<pid>@<host>, unique per process).",
)
def worker(concurrency: int | None, pool: str, loglevel: str, name: str | None) -> None:
    """Grade jobs from LMS_BROKER_URL, reading everything from LMS_DATABASE_URL."""
    try:
        backend_for(Settings.from_env()).run_worker(
            WorkerOptions(concurrency=concurrency, pool=pool, loglevel=loglevel, name=name)
        )
    except QueueUnsupported as error:
        raise click.ClickException(str(error)) from None


@main.command()
@click.option(
    "--queued-for",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Only jobs queued at least this many seconds ago.",
)
def requeue(queued_for: float) -> None:
    """Send again to the broker the jobs queued in the database (e.g. after a broker outage)."""
    try:
        count = backend_for(Settings.from_env()).requeue(queued_for)
    except QueueUnsupported as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Sent {count} job(s) to the broker.")


@main.command()
@click.option(
    "--timeout",
    type=float,
    default=3.0,
    show_default=True,
    help="Seconds to wait for the broker and the workers to answer.",
)
def doctor(timeout: float) -> None:
    """Check the database, the queue backend, its workers and the sandbox; say what to fix."""
    from lms.queue.health import run_checks

    settings = Settings.from_env()
    results = run_checks(settings.database_url, backend_for(settings), timeout=timeout)
    for result in results:
        click.echo(result.line())
    broken = [r for r in results if r.broken]
    if broken:
        click.echo(f"\n{len(broken)} required check(s) failed.", err=True)
        sys.exit(1)
    click.echo("\nAll required checks passed.")
