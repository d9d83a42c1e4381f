"""Shared fixtures: an app on a fresh database per test, a client, users, content."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from lms import create_app
from lms.extensions import db, make_engine
from lms.models import Base, GradingJob, JobStatus, UserRole

FIXTURE_CONTENT = Path(__file__).parent / "fixtures" / "content"
PASSWORD = "correct horse battery"
TEST_DATABASE_URL = os.environ.get("LMS_TEST_DATABASE_URL")


def fresh_database_url(tmp_path: Path) -> str:
    """A database with the current schema and nothing else: a new SQLite file, or the PostgreSQL
    test database with its schema dropped and re-created."""
    if TEST_DATABASE_URL:
        engine = make_engine(TEST_DATABASE_URL)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        Base.metadata.create_all(engine)
        engine.dispose()
        return TEST_DATABASE_URL
    url = f"sqlite:///{tmp_path / 'test.sqlite'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    return url


def make_test_app(tmp_path: Path, **overrides: object) -> Flask:
    """An application for tests on a fresh database (CSRF on, as in production)."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": fresh_database_url(tmp_path),
        "GRADING_POLL_SECONDS": 0.2,
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture(autouse=True)
def _instance_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # create_app makes the instance folder; keep it out of the source tree.
    monkeypatch.setenv("LMS_INSTANCE_PATH", str(tmp_path / "instance"))


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """The application on an empty, migrated-equivalent database."""
    application = make_test_app(tmp_path)
    yield application
    db.engine_for(application).dispose()


class AppFactory:
    """Makes more applications: on a fresh database, or on an existing app's database."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.made: list[Flask] = []

    def __call__(self, **overrides: object) -> Flask:
        """An app on a fresh database (config overrides as keywords)."""
        app = make_test_app(self.tmp_path, **overrides)
        self.made.append(app)
        return app

    def restart(self, app: Flask) -> Flask:
        """A new app on `app`'s database, as a restarted server process would be."""
        config = {
            k: app.config[k]
            for k in ("TESTING", "SECRET_KEY", "DATABASE_URL", "GRADING_POLL_SECONDS")
        }
        new_app = create_app(config)
        self.made.append(new_app)
        return new_app


@pytest.fixture
def app_factory(tmp_path: Path) -> Iterator[AppFactory]:
    """Makes more applications; their engines are disposed at the end."""
    factory = AppFactory(tmp_path)
    yield factory
    for made in factory.made:
        db.engine_for(made).dispose()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A database session outside any request (on SQLite, end each read with commit or rollback:
    an open transaction holds the write lock)."""
    with db.sessionmaker_for(app)() as s:
        yield s


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client."""
    return app.test_client()


@pytest.fixture
def content(app: Flask, session: Session):
    """The fixture content tree (course "intro", exercise "squares") imported."""
    from lms.services.content_import import import_content

    return import_content(session, FIXTURE_CONTENT)


@dataclass
class Users:
    """One account per role, plus a second trainee (for ownership checks)."""

    trainee: str = "trainee@example.org"
    other_trainee: str = "other@example.org"
    instructor: str = "instructor@example.org"
    recruiter: str = "recruiter@example.org"
    admin: str = "admin@example.org"


@pytest.fixture(scope="session")
def password_hash() -> str:
    """PASSWORD hashed once per run (scrypt is slow on purpose)."""
    from lms.services.accounts import hash_password

    return hash_password(PASSWORD)


@pytest.fixture
def users(session: Session, password_hash: str) -> Users:
    """Create the accounts of `Users`, all with password PASSWORD."""
    from lms.models import User

    accounts = Users()
    for email, role in (
        (accounts.trainee, UserRole.TRAINEE),
        (accounts.other_trainee, UserRole.TRAINEE),
        (accounts.instructor, UserRole.INSTRUCTOR),
        (accounts.recruiter, UserRole.RECRUITER),
        (accounts.admin, UserRole.ADMIN),
    ):
        session.add(User(email=email, role=role, password_hash=password_hash))
    session.commit()
    return accounts


_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    """The CSRF token in a page's form."""
    found = _CSRF.search(html)
    assert found, "no csrf_token in the page"
    return found.group(1)


class AuthActions:
    """Sign in and out through the real forms (with their CSRF tokens)."""

    csrf_token_from = staticmethod(csrf_token_from)

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def token(self, path: str = "/login") -> str:
        """A valid CSRF token for this client's session."""
        page = self.client.get(path, follow_redirects=True)
        return csrf_token_from(page.get_data(as_text=True))

    def login(self, email: str, password: str = PASSWORD):
        """Sign in; returns the response."""
        return self.client.post(
            "/login",
            data={"email": email, "password": password, "csrf_token": self.token("/login")},
        )

    def logout(self):
        """Sign out."""
        return self.client.post("/logout", data={"csrf_token": self.token("/account/password")})

    def post(self, path: str, data: dict | None = None, **kwargs: object):
        """POST with a valid CSRF token (the token of the signed-in session)."""
        payload = dict(data or {})
        payload.setdefault("csrf_token", self.token("/account/password"))
        return self.client.post(path, data=payload, **kwargs)


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    """Sign-in helper for `client`."""
    return AuthActions(client)


@pytest.fixture
def run_jobs(app: Flask):
    """A function grading every queued job with a real worker and the real grader."""
    from lms.queue.worker import Worker

    def run() -> int:
        worker = Worker(db.sessionmaker_for(app), name="test-worker")
        count = 0
        while worker.run_once():
            count += 1
        return count

    return run


def unfinished_jobs(session: Session) -> int:
    """How many grading jobs wait or run (what a test waits on until the queue drains)."""
    unfinished = GradingJob.status.in_((JobStatus.QUEUED, JobStatus.RUNNING))
    return session.scalar(select(func.count()).where(unfinished))


@pytest.fixture
def fixture_content() -> Path:
    """The root of the small content tree used by the tests."""
    return FIXTURE_CONTENT
