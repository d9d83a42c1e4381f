"""`lms` commands: web — database, accounts, content import, demo and production server."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from flask import Flask

from lms.cli import main
from lms.models.accounts import UserRole

# One demo account per role, in the roles' order: trainee@atlas.demo, instructor@atlas.demo...
DEMO_ACCOUNTS = tuple((f"{role}@atlas.demo", role, f"Demo {role.label}") for role in UserRole)


def _app(**config: object) -> Flask:
    from lms import create_app

    return create_app(config or None)


def _session(app: Flask):
    from lms.extensions import db

    return db.sessionmaker_for(app)()


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply the migrations to LMS_DATABASE_URL (default: a SQLite file in the instance folder)."""
    from lms.migrations import upgrade

    app = _app()
    upgrade(app.config["DATABASE_URL"], revision)
    click.echo(f"Database at {_safe_url(app.config['DATABASE_URL'])} is at revision {revision}.")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@db.command("revision")
@click.option("-m", "--message", required=True, help="What the revision changes.")
def db_revision(message: str) -> None:
    """Write a migration for what the models changed (the database must be at head)."""
    from lms.migrations import revision

    revision(_app().config["DATABASE_URL"], message)


@main.command("create-user")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice([role.value for role in UserRole]))
@click.option("--name", default="", help="Display name.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input (else one is generated and printed).",
)
def create_user(email: str, role: str, name: str, password_stdin: bool) -> None:
    """Create an account; prints the generated password unless one is given on stdin."""
    from lms.errors import DomainError
    from lms.services.accounts import create_user as create

    password = None
    if password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\n") or None
    with _session(_app()) as session:
        try:
            user, password_used = create(session, email, role, password, display_name=name)
        except DomainError as error:  # the English message: the command line has no locale
            raise click.ClickException(str(error)) from None
    click.echo(f"Created {user.role.value} {user.email}")
    if password is None:
        click.echo(f"Password: {password_used}")


@main.command("import")
@click.argument("root", required=False, type=click.Path(file_okay=False, path_type=Path))
def import_command(root: Path | None) -> None:
    """Validate courses/ and exercises/ under ROOT and upsert them by slug.

    ROOT defaults to LMS_CONTENT_ROOT, else the current folder if it holds courses/, else the
    source tree (an editable install)."""
    summary = _import(_app(), root or _content_root())
    click.echo(
        f"Imported {summary.courses} course(s), {summary.lessons} lesson(s), "
        f"{summary.exercises} exercise(s), {summary.skills} skill(s), {summary.roles} role(s)."
    )


def _content_root() -> Path:
    """LMS_CONTENT_ROOT, else the current directory if it holds courses/, else the source tree's
    (an editable install); a clear error when none of them holds the content."""
    import os

    from lms import REPO_ROOT

    setting = os.environ.get("LMS_CONTENT_ROOT")
    if setting:
        root = Path(setting)
        if not (root / "courses").is_dir():
            raise click.ClickException(
                f"LMS_CONTENT_ROOT={setting} has no courses/ folder: point it at the folder that "
                "holds courses/ and exercises/."
            )
        return root
    for root in (Path.cwd(), REPO_ROOT):
        if (root / "courses").is_dir():
            return root
    raise click.ClickException(
        f"No content found: {Path.cwd()} has no courses/ folder. Run this command from the folder "
        "that holds courses/ and exercises/ (e.g. a clone of the Atlas repository), pass that "
        "folder as an argument (`lms import ROOT`), or set LMS_CONTENT_ROOT to it."
    )


def _import(app: Flask, root: Path):
    from lms.content.loader import ContentError
    from lms.services.content_import import import_content

    with _session(app) as session:
        try:
            return import_content(session, root)
        except ContentError as error:
            raise click.ClickException(
                f"The content under {root} is invalid; nothing was imported:\n{error}"
            ) from None


def _check_sandbox() -> None:
    """Refuse to serve when trainee code could not be run in a sandbox (say why)."""
    from grading.runtime import isolation_report

    report = isolation_report()
    if not report.get("sandboxed") and not report.get("unsafe_opt_out"):
        raise click.ClickException(
            f"The grading sandbox is not available here: {report.get('reason', 'unknown')}. "
            "Run as root on Linux (namespaces, cgroups), or set LMS_UNSAFE_NO_SANDBOX=1 on a "
            "machine where trainees' code may run unconfined."
        )
    click.echo(
        "Grading sandbox: "
        + ", ".join(
            f"{key}={report[key]}"
            for key in ("sandboxed", "uid_drop", "namespaces", "cgroups")
            if key in report
        )
    )


def waitress_options(config: Mapping[str, object], threads: int | None = None) -> dict:
    """waitress's settings from LMS_SERVE_* (`threads` overrides LMS_SERVE_THREADS)."""
    return {
        "threads": threads or config["SERVE_THREADS"],
        "connection_limit": config["SERVE_CONNECTION_LIMIT"],
        "channel_timeout": config["SERVE_CHANNEL_TIMEOUT"],
        # select() cannot watch more than 1024 sockets; poll() has no such limit.
        "asyncore_use_poll": True,
    }


def _serve(app: Flask, host: str, port: int, threads: int | None = None) -> None:
    import waitress

    from lms.queue import get_queue

    _check_sandbox()
    queue = get_queue(app)
    queue.start()
    try:
        waitress.serve(app, host=host, port=port, **waitress_options(app.config, threads))
    finally:
        queue.stop()


def _seed_demo_cohort(app: Flask, trainees: int) -> None:
    from lms.errors import DomainError
    from lms.services.seed import seed_cohort

    with _session(app) as session:
        try:
            summary = seed_cohort(session, trainees)
        except DomainError as already:  # a second `lms demo` on the same database keeps its cohort
            click.echo(f"Synthetic cohort kept: {already}")
            return
    click.echo(
        f"Synthetic cohort {summary.cohort}: {summary.trainees} trainees with"
        f" {summary.submissions} graded submissions (no password: an admin gives one a reset"
        " link from the Accounts page to sign in as them)."
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Prepare everything, print the accounts, exit.")
@click.option(
    "--trainees",
    default=60,
    show_default=True,
    type=click.IntRange(min=0),
    help="Synthetic trainees with months of graded history, so the recruiter pages have a "
    "cohort to show (0: none; made once per database).",
)
def demo(host: str, port: int, no_serve: bool, trainees: int) -> None:
    """Migrate, import courses/ and exercises/, create one account per role, and serve."""
    from lms.migrations import upgrade
    from lms.models import User
    from lms.services.accounts import create_user as create
    from lms.services.accounts import generate_password, set_password

    root = _content_root()  # before anything is written: no content, no demo
    # Plain HTTP on this machine: cookies cannot be Secure-only here.
    app = _app(SESSION_COOKIE_SECURE=False, REMEMBER_COOKIE_SECURE=False)
    upgrade(app.config["DATABASE_URL"])
    summary = _import(app, root)
    click.echo(f"Imported {summary.courses} course(s) and {summary.exercises} exercise(s).")
    click.echo("Demo accounts (new passwords at each start):")
    from sqlalchemy import select

    with _session(app) as session:
        for email, role, name in DEMO_ACCOUNTS:
            password = generate_password()
            user = session.scalar(select(User).where(User.email == email))
            if user is None:
                create(session, email, role, password, display_name=name)
            else:
                set_password(session, user, password)
            click.echo(f"  {role.value:<10}  {email:<24}  {password}")
    if trainees:
        _seed_demo_cohort(app, trainees)
    if no_serve:
        return
    click.echo(f"Serving on http://{host}:{port}  (Ctrl+C to stop)")
    _serve(app, host, port)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--threads",
    default=None,
    type=click.IntRange(min=1),
    help="Requests served at once [default: LMS_SERVE_THREADS, 16].",
)
def serve(host: str, port: int, threads: int | None) -> None:
    """Serve with waitress and the embedded grading workers (run `lms db upgrade` first)."""
    app = _app()
    click.echo(f"Serving on http://{host}:{port}")
    _serve(app, host, port, threads)
