"""Extensions, created once here and bound to an application with `init_app`."""

from __future__ import annotations

from flask import Flask, before_render_template, g, has_request_context, request
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf import CSRFProtect
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from lms.database import end_reads, make_engine, reader, track_writes

__all__ = ["babel", "csrf", "db", "login_manager", "make_engine"]

# Requests that must not change anything (RFC 9110 "safe" methods): their sessions read only.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Database:
    """The SQLAlchemy engine and a session per application context (closed at teardown).

    On SQLite (see lms/database.py) a GET/HEAD/OPTIONS request's session begins DEFERRED
    transactions and never takes the write lock; any other request's session, and every session
    from `sessionmaker_for` (workers, CLI), begins IMMEDIATE ones, as a read-then-write needs.
    Whatever the method, the transaction ends when a template starts rendering and what the
    template loads lazily is read DEFERRED. A GET that must write calls `begin_write(session)`.
    """

    def __init__(self) -> None:
        self._sessionmakers: dict[int, sessionmaker[Session]] = {}
        self._readers: dict[int, Engine] = {}

    def init_app(self, app: Flask) -> None:
        """Create the engine from DATABASE_URL and close the request's session at teardown."""
        engine = make_engine(app.config["DATABASE_URL"])
        app.extensions["lms.db"] = engine
        factory = sessionmaker(engine, expire_on_commit=False)
        track_writes(factory)
        self._sessionmakers[id(app)] = factory
        self._readers[id(app)] = reader(engine)
        app.teardown_appcontext(self._close_session)
        before_render_template.connect(self._end_reads_before_rendering, app, weak=False)

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
            app = current_app._get_current_object()
            session = self.sessionmaker_for(app)()
            if has_request_context() and request.method in SAFE_METHODS:
                session.bind = self._readers[id(app)]
            g.lms_session = session
        return g.lms_session

    def end_reads(self) -> None:
        """End the request's read-only transaction before slow work that needs no more of it
        (a PDF, a render): later reads begin DEFERRED, holding no lock."""
        from flask import current_app

        session = g.get("lms_session")
        if session is not None and end_reads(session):
            session.bind = self._readers[id(current_app._get_current_object())]

    def _end_reads_before_rendering(self, _app: Flask, **_extra: object) -> None:
        self.end_reads()

    @staticmethod
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("lms_session", None)
        if session is not None:
            session.close()


db = Database()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
