"""Content-addressed storage of bytes in the database."""

from __future__ import annotations

import hashlib

from sqlalchemy.orm import Session

from lms.models import Blob


def put_blob(session: Session, data: bytes) -> str:
    """Add `data` to the session (once per content) and return its sha256; the caller commits."""
    sha = hashlib.sha256(data).hexdigest()
    if session.get(Blob, sha) is None:
        session.add(Blob(sha256=sha, size=len(data), data=data))
        session.flush()
    return sha


def get_blob(session: Session, sha256: str) -> bytes:
    """The bytes stored under `sha256` (KeyError if absent)."""
    blob = session.get(Blob, sha256)
    if blob is None:
        raise KeyError(f"no blob {sha256}")
    return blob.data
