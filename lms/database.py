"""Engines and transactions: on SQLite, only a writer takes the write lock.

SQLite allows one writer at a time. A transaction begun as DEFERRED (plain `BEGIN`) only reads a
snapshot and, in WAL mode, blocks nobody. But a deferred transaction that reads and *then* writes
fails at once with "database is locked" if another connection committed in between: SQLite cannot
upgrade a stale snapshot, and waiting would not help. A writer that reads first must therefore
take the write lock before its first read (`BEGIN IMMEDIATE`), so it waits its turn (busy_timeout)
and then reads what it will write over.

So every transaction on an engine from `make_engine` begins IMMEDIATE (the safe default for worker
threads, the CLI and any code that owns a session), except on the engine returned by
`reader(engine)`, used by read-only web requests; and `begin_write(session)` turns the next (or
current, read-only) transaction of any session into an IMMEDIATE one. This module imports no Flask:
services may call `begin_write`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session

#: The connection execution option that says how a SQLite transaction begins.
BEGIN_OPTION = "lms_sqlite_begin"
IMMEDIATE = "IMMEDIATE"
DEFERRED = "DEFERRED"
_WROTE = "lms_wrote"  # session.info: the current transaction has flushed changes


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
        def _sqlite_begin(connection: Any) -> None:
            # IMMEDIATE unless the connection was opened for reading (see the module docstring).
            mode = connection.get_execution_options().get(BEGIN_OPTION, IMMEDIATE)
            connection.exec_driver_sql("BEGIN" if mode == DEFERRED else "BEGIN IMMEDIATE")

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
    for side in (
        path,
        path.with_name(path.name + "-wal"),
        path.with_name(path.name + "-shm"),
        path.with_name(path.name + "-journal"),
    ):
        try:
            if side.stat().st_mode & 0o077:
                side.chmod(0o600)
        except (FileNotFoundError, PermissionError):
            pass


def reader(engine: Engine) -> Engine:
    """The same engine (same pool) whose SQLite transactions begin DEFERRED: they never take
    the write lock, so a long read blocks neither the other requests nor the grading workers."""
    return engine.execution_options(**{BEGIN_OPTION: DEFERRED})


def track_writes(session_factory: Any) -> None:
    """Record on each session whether its current transaction has flushed changes
    (`begin_write` and `end_reads` must not throw those away)."""

    @event.listens_for(session_factory, "after_flush")
    def _wrote(session: Session, _context: Any) -> None:
        session.info[_WROTE] = True

    @event.listens_for(session_factory, "after_transaction_end")
    def _ended(session: Session, transaction: Any) -> None:
        if transaction.parent is None:
            session.info.pop(_WROTE, None)


def _sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _has_changes(session: Session) -> bool:
    return bool(session.new or session.dirty or session.deleted or session.info.get(_WROTE))


def is_writing(session: Session) -> bool:
    """Whether the session's current transaction holds (or will take at once) the write lock."""
    if not session.in_transaction():
        return False
    if session.info.get(_WROTE):
        return True
    options = session.connection().get_execution_options()
    return options.get(BEGIN_OPTION, IMMEDIATE) == IMMEDIATE


def begin_write(session: Session) -> None:
    """Make the session's transaction a writer's before it reads what it will write: on SQLite,
    `BEGIN IMMEDIATE` now, waiting for the lock, so nothing it reads changes before it commits.

    Call it first in a service that reads then writes from a read-only context (e.g. a GET).
    A read-only transaction already open is ended first (what it loaded is re-read under the
    lock); pending changes raise, as taking the lock after them would not protect them.
    """
    if not _sqlite(session) or is_writing(session):
        return
    if session.in_transaction():
        if _has_changes(session):
            raise RuntimeError("begin_write() must come before the changes it protects")
        session.rollback()
    session.connection(execution_options={BEGIN_OPTION: IMMEDIATE})


def end_reads(session: Session) -> bool:
    """End a transaction that only read (objects stay loaded), so that rendering, a PDF or
    other slow work holds no transaction; False (and nothing done) if it has changes."""
    if not session.in_transaction():
        return True
    if _has_changes(session):
        return False
    session.commit()
    return True
