"""Regrades: an instructor grades submissions again with the exercise as it is now (after a test
fix). A run is one request (one submission, or every graded attempt at an exercise); each of its
items keeps the submission's score and cells as they were, so no old score is ever lost."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.models.base import Base, utcnow
from lms.models.submissions import enum_type


class RegradeStatus(enum.StrEnum):
    """queued -> regraded (the new score stands) or failed (the old score stands, with why)."""

    QUEUED = "queued"
    REGRADED = "regraded"
    FAILED = "failed"


class RegradeRun(Base):
    """One request to regrade: what, by whom, when; its items say how far it got."""

    __tablename__ = "regrade_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    exercise_id: Mapped[int] = mapped_column(ForeignKey("exercises.id", ondelete="CASCADE"))
    # Set when one submission was asked for; None for every graded attempt at the exercise.
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="SET NULL")
    )
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    items: Mapped[list[RegradeItem]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="RegradeItem.id"
    )


class RegradeItem(Base):
    """One submission of a run: its score and cells before, after, and what became of it."""

    __tablename__ = "regrade_items"
    __table_args__ = (
        Index("ix_regrade_items_run_id", "run_id"),
        Index("ix_regrade_items_submission_id_status", "submission_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("regrade_runs.id", ondelete="CASCADE"))
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    status: Mapped[RegradeStatus] = mapped_column(
        enum_type(RegradeStatus), default=RegradeStatus.QUEUED
    )
    old_score: Mapped[float | None] = mapped_column(Float)
    old_max_score: Mapped[float | None] = mapped_column(Float)
    # Every cell as it was: grade_id, kind, score, max_score, auto_score, by hand or not.
    old_cells: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    new_score: Mapped[float | None] = mapped_column(Float)
    new_max_score: Mapped[float | None] = mapped_column(Float)
    # Cells a person had scored: kept (their score stands over the grader's new one) or dropped
    # (the cell is gone from the exercise, or its points changed).
    kept_by_hand: Mapped[list[str]] = mapped_column(JSON, default=list)
    dropped_by_hand: Mapped[list[str]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None]
    run: Mapped[RegradeRun] = relationship(back_populates="items")
