"""Assessment variant pools: the notebooks of an assessment's pool, and who was given which."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.models.base import Base, utcnow


class ExerciseVariant(Base):
    """One variant of an assessment's pool (exercise.yml `variants`): its own source and
    release notebooks, in English and (when translated) French. The first variant is the
    exercise's own notebook; every variant has the exercise's grade cells."""

    __tablename__ = "exercise_variants"
    __table_args__ = (UniqueConstraint("exercise_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    exercise_id: Mapped[int] = mapped_column(ForeignKey("exercises.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))  # the notebook's file name
    position: Mapped[int]
    source_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    release_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    source_fr_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    release_fr_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))


class VariantAssignment(Base):
    """The variant a trainee was given of an assessment: chosen once, from a keyed hash of the
    trainee and the exercise (lms.services.variants), and kept, so it never changes."""

    __tablename__ = "variant_assignments"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    exercise_id: Mapped[int] = mapped_column(
        ForeignKey("exercises.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(200))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
