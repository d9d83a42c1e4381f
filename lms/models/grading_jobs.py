"""The grading queue's jobs: their state lives in the database, so a restart loses none."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, Text, case, select, type_coerce
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from lms.models.base import Base, utcnow
from lms.models.submissions import Submission, SubmissionStatus, enum_type


class JobStatus(enum.StrEnum):
    """queued -> running -> done (result applied) or failed (grader crashed)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class GradingJob(Base):
    """One grading of one submission."""

    __tablename__ = "grading_jobs"
    __table_args__ = (Index("ix_grading_jobs_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[JobStatus] = mapped_column(
        Enum(
            JobStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]
        ),
        default=JobStatus.QUEUED,
    )
    attempts: Mapped[int] = mapped_column(default=0)
    worker: Mapped[str | None] = mapped_column(String(120))
    error: Mapped[str | None] = mapped_column(Text)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    submission: Mapped[Submission] = relationship()


# A submission's status is its job's, told apart by outcome once done: one source of truth,
# read in the same SELECT as the submission (so listing submissions costs no extra query).
Submission.status = column_property(
    type_coerce(
        select(
            case(
                (
                    GradingJob.status == JobStatus.DONE,
                    case(
                        (Submission.rejected, SubmissionStatus.REJECTED.value),
                        else_=SubmissionStatus.GRADED.value,
                    ),
                ),
                else_=GradingJob.status,
            )
        )
        .where(GradingJob.submission_id == Submission.id)
        .correlate_except(GradingJob)
        .scalar_subquery(),
        enum_type(SubmissionStatus),
    )
)
