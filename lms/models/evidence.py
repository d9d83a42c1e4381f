"""What readiness needs to count evidence once: each graded notebook's normalised fingerprint,
and instructors' clearances of flagged submissions (append-only: who cleared what, when)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lms.models.base import Base, utcnow


class SubmissionFingerprint(Base):
    """The sha256 of a submission's normalised answers (outputs, metadata and spacing removed)."""

    __tablename__ = "submission_fingerprints"
    __table_args__ = (Index("ix_submission_fingerprints_answer_sha256", "answer_sha256"),)

    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    answer_sha256: Mapped[str] = mapped_column(String(64))


class FlagClearance(Base):
    """An instructor reviewed a flagged submission and let it count toward readiness."""

    __tablename__ = "flag_clearances"
    __table_args__ = (Index("ix_flag_clearances_submission_id", "submission_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)
