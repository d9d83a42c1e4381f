"""Fixtures of the scale-out tests: PostgreSQL, Redis and real `lms worker` processes.

They use a database of their own (`atlas_scale`, created if missing) and Redis database 7, so
they never touch what the other suites use. Without PostgreSQL or Redis they are skipped
locally, and they fail under CI=true.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from tests.scale.cluster import (
    POSTGRES_ADMIN_URL,
    REDIS_URL,
    SCALE_CONTENT,
    SCALE_DATABASE,
    VISIBILITY_TIMEOUT,
    WorkerProcess,
    run_lms,
    unavailable,
)


@pytest.fixture(scope="session")
def scale_database_url() -> str:
    """The URL of the `atlas_scale` PostgreSQL database (created on first use)."""
    try:
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT",
                              connect_args={"connect_timeout": 3})
        with admin.connect() as connection:
            exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                       {"name": SCALE_DATABASE})
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{SCALE_DATABASE}"'))
        admin.dispose()
    except Exception as error:
        unavailable(f"PostgreSQL unreachable at {POSTGRES_ADMIN_URL}: {error}")
    url = make_url(POSTGRES_ADMIN_URL).set(database=SCALE_DATABASE)
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis database the tests use as Celery's broker."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as error:
        unavailable(f"Redis unreachable at {REDIS_URL}: {error}")
    return REDIS_URL


@pytest.fixture(scope="session")
def scale_schema(scale_database_url: str, redis_url: str,
                 tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The schema built with `lms db upgrade` and the test content loaded with `lms import`,
    once per session; the environment every process of the tests shares."""
    engine = create_engine(scale_database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    settings = {
        "LMS_DATABASE_URL": scale_database_url,
        "LMS_BROKER_URL": redis_url,
        "LMS_CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "LMS_JOB_LEASE_SECONDS": str(VISIBILITY_TIMEOUT),
        "LMS_REDISPATCH_SECONDS": "5",
        "LMS_INSTANCE_PATH": str(tmp_path_factory.mktemp("scale-instance")),
        "LMS_LOG_FORMAT": "json",
    }
    env = {**os.environ, **settings}
    run_lms(env, "db", "upgrade")
    run_lms(env, "import", str(SCALE_CONTENT))
    return settings


@pytest.fixture
def scale_env(scale_schema: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """No account, submission or job left from another test, an empty broker; the shared
    environment (also set in this process)."""
    import redis

    engine = create_engine(scale_schema["LMS_DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE users, submissions RESTART IDENTITY CASCADE"))
    engine.dispose()
    redis.Redis.from_url(scale_schema["LMS_BROKER_URL"]).flushdb()
    for name, value in scale_schema.items():
        monkeypatch.setenv(name, value)
    return {**os.environ, **scale_schema}


@pytest.fixture
def start_worker(
    scale_env: dict[str, str], tmp_path: Path,
) -> Iterator[Callable[..., WorkerProcess]]:
    """Start `lms worker` processes; all of them are stopped at the end of the test."""
    started: list[WorkerProcess] = []

    def start(concurrency: int = 2, wait: bool = True) -> WorkerProcess:
        worker = WorkerProcess(scale_env, tmp_path / f"worker-{len(started)}.log", concurrency)
        started.append(worker)
        if wait:
            worker.wait_ready()
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def scale_sessions(scale_env: dict[str, str]) -> Iterator[sessionmaker[Session]]:
    """Sessions on the scale-out database, for the test's own checks."""
    engine = create_engine(scale_env["LMS_DATABASE_URL"])
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


