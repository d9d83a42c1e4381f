"""Talent: cohorts, report-sharing consent, recruiters' candidate marks, imported results and
pipeline snapshots. Consent and marks are append-only histories: the latest row is the state."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Enum, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.models.base import Base, utcnow


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class Cohort(Base):
    """A group of trainees who start together; its default says whether reports are shared."""

    __tablename__ = "cohorts"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    default_sharing: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CohortMember(Base):
    """A trainee's cohort (one at a time)."""

    __tablename__ = "cohort_members"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


class CohortSharingChange(Base):
    """An admin set a cohort's default sharing: kept so the consent history can be explained."""

    __tablename__ = "cohort_sharing_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    default_sharing: Mapped[bool]
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportShare(Base):
    """A trainee shared (or stopped sharing) their readiness report with recruiters."""

    __tablename__ = "report_shares"
    __table_args__ = (Index("ix_report_shares_trainee_id_id", "trainee_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    shared: Mapped[bool]
    at: Mapped[datetime] = mapped_column(default=utcnow)


class MarkStatus(enum.StrEnum):
    """Where a recruiter has a candidate for a role; CLEARED withdraws the mark."""

    SHORTLISTED = "shortlisted"
    INTERVIEWING = "interviewing"
    HIRED = "hired"
    CLEARED = "cleared"


class CandidateMark(Base):
    """A recruiter marked a candidate for a role (who, when); the latest mark is the state."""

    __tablename__ = "candidate_marks"
    __table_args__ = (Index("ix_candidate_marks_trainee_id_role_id", "trainee_id", "role_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role_id: Mapped[str] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"))
    status: Mapped[MarkStatus] = mapped_column(_enum(MarkStatus))
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ImportBatch(Base):
    """One `lms import-results` file, imported whole."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int]
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImportedResult(Base):
    """A graded cell from another system (no notebook behind it, so not a Submission)."""

    __tablename__ = "imported_results"
    __table_args__ = (
        UniqueConstraint("user_id", "exercise_id", "grade_id", "submitted_at"),
        Index("ix_imported_results_user_id", "user_id"),
        Index("ix_imported_results_batch_id", "batch_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    exercise_id: Mapped[int] = mapped_column(ForeignKey("exercises.id", ondelete="CASCADE"))
    grade_id: Mapped[str] = mapped_column(String(120))
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    submitted_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(20))  # practice | assessment
    row_number: Mapped[int]


class PipelineSnapshot(Base):
    """How many trainees were at each readiness status for a role on a day, and marked."""

    __tablename__ = "pipeline_snapshots"
    __table_args__ = (UniqueConstraint("role_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    role_id: Mapped[str] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"))
    day: Mapped[date]
    trainees: Mapped[int]
    ready: Mapped[int]
    almost: Mapped[int]
    not_ready: Mapped[int]
    not_enough_evidence: Mapped[int]
    shortlisted: Mapped[int] = mapped_column(default=0)
    interviewing: Mapped[int] = mapped_column(default=0)
    hired: Mapped[int] = mapped_column(default=0)
