"""Fixtures of the scale-out tests: PostgreSQL, Redis and real `lms worker` processes.

Each session uses a PostgreSQL database of its own (`atlas_scale_<pid>`, dropped at the end) and
its own key prefix in Redis database 7, so they never touch what other suites or runs use.
Without PostgreSQL or Redis they are skipped locally, and they fail under CI=true.
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
    REDIS_KEY_PREFIX,
    REDIS_URL,
    SCALE_CONTENT,
    SCALE_DATABASE,
    VISIBILITY_TIMEOUT,
    WorkerProcess,
    clear_broker,
    run_lms,
    unavailable,
)


@pytest.fixture(scope="session")
def scale_database_url() -> Iterator[str]:
    """A PostgreSQL database of this session's own, dropped at its end."""
    try:
        admin = create_engine(
            POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
        )
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{SCALE_DATABASE}"'))
            connection.execute(text(f'CREATE DATABASE "{SCALE_DATABASE}"'))
    except Exception as error:
        unavailable(f"PostgreSQL unreachable at {POSTGRES_ADMIN_URL}: {error}")
    url = make_url(POSTGRES_ADMIN_URL).set(database=SCALE_DATABASE)
    yield url.render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{SCALE_DATABASE}" WITH (FORCE)'))
    admin.dispose()


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
def scale_schema(
    scale_database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """The schema built with `lms db upgrade` and the test content loaded with `lms import`,
    once per session; the environment every process of the tests shares."""
    settings = {
        "LMS_DATABASE_URL": scale_database_url,
        "LMS_BROKER_URL": redis_url,
        "LMS_CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "LMS_JOB_LEASE_SECONDS": str(VISIBILITY_TIMEOUT),
        "LMS_REDISPATCH_SECONDS": "5",
        "LMS_INSTANCE_PATH": str(tmp_path_factory.mktemp("scale-instance")),
        "LMS_LOG_FORMAT": "json",
        "LMS_BROKER_KEY_PREFIX": REDIS_KEY_PREFIX,
    }
    env = {**os.environ, **settings}
    run_lms(env, "db", "upgrade")
    run_lms(env, "import", str(SCALE_CONTENT))
    yield settings
    clear_broker(redis_url, REDIS_KEY_PREFIX)


@pytest.fixture
def scale_env(scale_schema: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """No account, submission or job left from another test, an empty broker; the shared
    environment (also set in this process)."""
    engine = create_engine(scale_schema["LMS_DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE users, submissions RESTART IDENTITY CASCADE"))
    engine.dispose()
    clear_broker(scale_schema["LMS_BROKER_URL"], REDIS_KEY_PREFIX)
    for name, value in scale_schema.items():
        monkeypatch.setenv(name, value)
    return {**os.environ, **scale_schema}


@pytest.fixture
def start_worker(
    scale_env: dict[str, str],
    tmp_path: Path,
) -> Iterator[Callable[..., WorkerProcess]]:
    """Start `lms worker` processes; all of them are stopped at the end of the test."""
    started: list[WorkerProcess] = []

    def start(
        concurrency: int = 2, wait: bool = True, celery_cli: bool = False, **env: str
    ) -> WorkerProcess:
        worker = WorkerProcess(
            {**scale_env, **env}, tmp_path / f"worker-{len(started)}.log", concurrency, celery_cli
        )
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
