"""Submissions (graded attempts and "check my work" runs) and their per-cell grades."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Enum, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.models.base import Base, utcnow
from lms.models.content import Exercise


def enum_type(cls: type[enum.Enum]) -> Enum:
    """A string column of an enum's values (no native enum type, no check constraint)."""
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class SubmissionPurpose(enum.StrEnum):
    """A graded attempt counts (history, readiness); a check runs visible tests only."""

    GRADE = "grade"
    CHECK = "check"


class SubmissionStatus(enum.StrEnum):
    """Where a submission is: waiting, being graded, or finished (graded / rejected / failed).

    Not stored: `Submission.status` is derived from the submission's grading job (its state,
    and once done whether the grader rejected the notebook); see lms.models.grading_jobs.
    """

    QUEUED = "queued"
    RUNNING = "running"
    GRADED = "graded"
    REJECTED = "rejected"  # the grader refused the notebook (bad input), with a reason
    FAILED = "failed"  # the grader itself failed; the notebook is kept and can be re-graded

    @property
    def finished(self) -> bool:
        """Whether grading is over."""
        return self in (SubmissionStatus.GRADED, SubmissionStatus.REJECTED, SubmissionStatus.FAILED)


class Submission(Base):
    """A notebook a trainee handed in for an exercise; the bytes are a blob, kept unchanged."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_token"),
        Index("ix_submissions_user_exercise", "user_id", "exercise_id"),
        # The readiness cache finds recently graded work by time (lms/services/readiness_cache).
        Index("ix_submissions_graded_at", "graded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    exercise_id: Mapped[int] = mapped_column(ForeignKey("exercises.id", ondelete="CASCADE"))
    purpose: Mapped[SubmissionPurpose] = mapped_column(enum_type(SubmissionPurpose))
    origin: Mapped[str] = mapped_column(String(20))  # browser | upload
    idempotency_token: Mapped[str] = mapped_column(String(64))
    notebook_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    notebook_name: Mapped[str] = mapped_column(String(200))
    # The grader refused the notebook (bad input); the status says so once the job is done.
    rejected: Mapped[bool] = mapped_column(default=False)
    score: Mapped[float | None] = mapped_column(Float)
    max_score: Mapped[float | None] = mapped_column(Float)
    needs_manual_grade: Mapped[bool] = mapped_column(default=False)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    feedback_html: Mapped[str | None] = mapped_column(Text)
    # Per test cell, from the run with visible tests only (grading.job.TestCheck): the trainee's.
    checks: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=list)
    # Points of the test cells that also hold hidden tests (a check cannot earn them for sure).
    hidden_points: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    # The flags of the run with visible tests only: what the trainee's result panel explains.
    shown_flags: Mapped[list[str] | None] = mapped_column(JSON, default=list)
    # The executed notebook includes hidden tests: staff only.
    graded_notebook_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    graded_at: Mapped[datetime | None]
    exercise: Mapped[Exercise] = relationship()
    cells: Mapped[list[CellGrade]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", order_by="CellGrade.id"
    )

    if TYPE_CHECKING:
        status: Mapped[SubmissionStatus]  # derived from the job (lms.models.grading_jobs)

    def status_json(self) -> dict[str, Any]:
        """What the trainee's page polls: never hidden tests, never the executed notebook, never
        the grader's flags (lms.services.submissions.status_for adds what the viewer may see)."""
        return {
            "id": self.id,
            "purpose": self.purpose.value,
            "origin": self.origin,
            "status": self.status.value,
            "finished": self.status.finished,
            "score": self.score,
            "max_score": self.max_score,
            "needs_manual_grade": self.needs_manual_grade,
            "error": self.error,
            "cells": [cell.to_json() for cell in self.cells],
            "checks": list(self.checks or []),
            "hidden_points": self.hidden_points,
            "created_at": self.created_at.isoformat(),
            "graded_at": self.graded_at.isoformat() if self.graded_at else None,
        }


class CellGrade(Base):
    """The score of one grade cell in one submission (evidence for the cell's skills)."""

    __tablename__ = "cell_grades"
    __table_args__ = (
        UniqueConstraint("submission_id", "grade_id"),
        Index("ix_cell_grades_manually_graded_at", "manually_graded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    grade_id: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    needs_manual_grade: Mapped[bool]
    # An instructor's grade replaces `score`; the grader's own score is kept in `auto_score`
    # (None until a person grades the cell), with who graded it, when, and their comment.
    auto_score: Mapped[float | None] = mapped_column(Float)
    comment: Mapped[str | None] = mapped_column(Text)
    graded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    manually_graded_at: Mapped[datetime | None]
    submission: Mapped[Submission] = relationship(back_populates="cells")

    @property
    def manually_graded(self) -> bool:
        """Whether an instructor set this cell's score."""
        return self.manually_graded_at is not None

    def to_json(self) -> dict[str, Any]:
        """The cell's grade as the status endpoint shows it (the trainee may see all of it)."""
        return {
            "grade_id": self.grade_id,
            "kind": self.kind,
            "score": self.score,
            "max_score": self.max_score,
            "needs_manual_grade": self.needs_manual_grade,
            "manually_graded": self.manually_graded,
            "comment": self.comment,
        }
