"""Open Badges 3.0 credentials we issue: our Ed25519 issuer key, and each credential with its
signed form (VC-JOSE, a compact JWS) and its revocation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lms.models.base import Base, utcnow


class CredentialKey(Base):
    """The issuer's Ed25519 key; the private half signs and is never served."""

    __tablename__ = "credential_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Credential(Base):
    """An OpenBadgeCredential issued to a trainee for a course completed or a role reached."""

    __tablename__ = "credentials"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # a random UUID
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))  # course | role
    subject_slug: Mapped[str] = mapped_column(String(80))
    achievement_name: Mapped[str] = mapped_column(String(200))
    issued_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    jws: Mapped[str] = mapped_column(Text)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_reason: Mapped[str | None] = mapped_column(Text, default=None)
