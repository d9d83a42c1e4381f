"""Extensions, created once here and bound to an application with `init_app`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask, g
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


class Database:
    """The SQLAlchemy engine and a session per application context (closed at teardown)."""

    def __init__(self) -> None:
        self._sessionmakers: dict[int, sessionmaker[Session]] = {}

    def init_app(self, app: Flask) -> None:
        """Create the engine from DATABASE_URL and close the request's session at teardown."""
        engine = make_engine(app.config["DATABASE_URL"])
        app.extensions["lms.db"] = engine
        self._sessionmakers[id(app)] = sessionmaker(engine, expire_on_commit=False)
        app.teardown_appcontext(self._close_session)

    def engine_for(self, app: Flask) -> Engine:
        """The engine bound to `app`."""
        return app.extensions["lms.db"]

    def sessionmaker_for(self, app: Flask) -> sessionmaker[Session]:
        """A session factory bound to `app`'s engine (worker threads open their own sessions)."""
        return self._sessionmakers[id(app)]

    @property
    def session(self) -> Session:
        """The current application context's session, opened on first use."""
        from flask import current_app

        if "lms_session" not in g:
            g.lms_session = self.sessionmaker_for(current_app._get_current_object())()
        return g.lms_session

    @staticmethod
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("lms_session", None)
        if session is not None:
            session.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine; for SQLite, tuned for a web server and worker threads sharing one file."""
    if url.startswith("sqlite"):
        _make_private(url)
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # We emit BEGIN ourselves (below) instead of letting pysqlite do it lazily.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            # WAL lets the web threads read while a worker writes; foreign keys are off by default.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin_immediate(connection: Any) -> None:
            # A deferred transaction that reads and then writes fails at once with "database is
            # locked" if another thread committed meanwhile; taking the write lock up front makes
            # it wait (busy_timeout) instead. Transactions here are short, so this costs little.
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _make_private(url: str) -> None:
    """Create the SQLite file (and fix its side files) readable by our user only: it holds
    password hashes and trainees' work. SQLite gives -wal and -shm the database file's mode."""
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    for side in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"),
                 path.with_name(path.name + "-journal")):
        try:
            if side.stat().st_mode & 0o077:
                side.chmod(0o600)
        except (FileNotFoundError, PermissionError):
            pass


db = Database()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
