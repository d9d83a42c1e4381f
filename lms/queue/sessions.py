"""Database sessions for processes without a Flask app (Celery workers, `lms doctor`)."""

from __future__ import annotations

import os
import threading

from sqlalchemy.orm import Session, sessionmaker

_sessionmakers: dict[tuple[int, str], sessionmaker[Session]] = {}
_sessionmakers_lock = threading.Lock()


def sessions_for(database_url: str) -> sessionmaker[Session]:
    """A session factory for `database_url`, created once per process (prefork children must
    not share their parent's engine)."""
    from lms.extensions import make_engine

    key = (os.getpid(), database_url)
    with _sessionmakers_lock:
        if key not in _sessionmakers:
            _sessionmakers[key] = sessionmaker(make_engine(database_url), expire_on_commit=False)
        return _sessionmakers[key]
