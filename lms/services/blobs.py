"""Content-addressed storage of bytes in the database."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lms.models import Blob

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def put_blob(session: Session, data: bytes) -> str:
    """Store `data` once under its sha256 and return the hash; the caller commits."""
    sha = hashlib.sha256(data).hexdigest()
    if session.scalar(select(Blob.sha256).where(Blob.sha256 == sha)) is None:
        # Two workers may store the same bytes at once (identical notebooks): the second insert
        # must be a no-op, not a unique-key error that loses a result.
        insert = _INSERTS[session.get_bind().dialect.name]
        session.execute(
            insert(Blob)
            .values(sha256=sha, size=len(data), data=data)
            .on_conflict_do_nothing(index_elements=["sha256"])
        )
    return sha


def get_blob(session: Session, sha256: str) -> bytes:
    """The bytes stored under `sha256` (KeyError if absent)."""
    data = session.scalar(select(Blob.data).where(Blob.sha256 == sha256))
    if data is None:
        raise KeyError(f"no blob {sha256}")
    return data
