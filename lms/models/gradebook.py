"""Instructors' overrides of a cell's score, kept beside the grader's (append-only history)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lms.models.base import Base, utcnow


class GradeOverride(Base):
    """An instructor set one grade cell of one submission to `score`, and said why.

    The cell's grade (lms.models.submissions.CellGrade) then carries the override, as a hand
    grade does, and keeps the grader's own score in `auto_score`; these rows are the history."""

    __tablename__ = "grade_overrides"
    __table_args__ = (Index("ix_grade_overrides_submission_id", "submission_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    grade_id: Mapped[str] = mapped_column(String(120))
    grader_score: Mapped[float] = mapped_column(Float)  # what the grader gave, never changed
    before: Mapped[float] = mapped_column(Float)  # the cell's score just before this override
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
