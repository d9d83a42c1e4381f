"""API tokens for /api/v1: only a hash is stored; the token is shown once when created."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lms.models.base import Base, utcnow


class ApiToken(Base):
    """A bearer token acting as its user (a recruiter or admin), until revoked or expired."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120), default="")
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # shown in lists so a token can be recognised
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # NULL only for tokens made before expiry existed; they are refused (see user_for_token).
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
