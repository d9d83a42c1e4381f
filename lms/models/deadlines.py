"""Due dates and the late policy of exercises: per exercise, per cohort, and per trainee (an
extension). Kept beside the content (not on `exercises`), so `lms import` never resets them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.models.base import Base, utcnow
from lms.models.submissions import enum_type


class LatePolicy(enum.StrEnum):
    """What happens to an attempt handed in after its due date."""

    ACCEPT = "accept"  # counted in full, marked late
    PENALTY = "penalty"  # a percentage of the score per started day late
    CLOSED = "closed"  # refused


class ExerciseSchedule(Base):
    """An exercise's due date (for everyone, unless a cohort's or an extension says otherwise)
    and its late policy."""

    __tablename__ = "exercise_schedules"

    exercise_id: Mapped[int] = mapped_column(
        ForeignKey("exercises.id", ondelete="CASCADE"), primary_key=True
    )
    due_at: Mapped[datetime | None]
    late_policy: Mapped[LatePolicy] = mapped_column(
        enum_type(LatePolicy), default=LatePolicy.ACCEPT
    )
    penalty_percent_per_day: Mapped[float] = mapped_column(Float, default=0.0)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CohortDueDate(Base):
    """A cohort's own due date for an exercise (it replaces the exercise's for its members)."""

    __tablename__ = "cohort_due_dates"
    __table_args__ = (UniqueConstraint("exercise_id", "cohort_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exercise_id: Mapped[int] = mapped_column(ForeignKey("exercises.id", ondelete="CASCADE"))
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    due_at: Mapped[datetime]


class DeadlineExtension(Base):
    """One trainee's later due date for an exercise, with who granted it and why."""

    __tablename__ = "deadline_extensions"
    __table_args__ = (UniqueConstraint("exercise_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exercise_id: Mapped[int] = mapped_column(ForeignKey("exercises.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    due_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text, default="")
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
