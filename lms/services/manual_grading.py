"""Instructors grade what needs a human: the queue, one submission's hand-graded cells, a grade.

Manual answers and task cells come back from the grader with `needs_manual_grade`; an
instructor's grade replaces the cell's score (the grader's is kept), and the submission's total
and flag are recomputed from its cells, as nbgrader's gradebook does.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from grading.cells import HAND_GRADED_KINDS
from lms.errors import Conflict, DomainError, Invalid, NotFound
from lms.i18n import N_
from lms.models import (
    CellGrade,
    Exercise,
    Submission,
    SubmissionPurpose,
    SubmissionStatus,
    User,
    UserRole,
    utcnow,
)
from lms.services import audit
from lms.services.blobs import get_blob
from lms.services.submissions import submission_with_cells

MAX_COMMENT_LENGTH = 5000
QUEUE_LIMIT = 500


@dataclass(frozen=True)
class QueueEntry:
    """A submission waiting for a person: who, which exercise, how many cells."""

    submission: Submission
    trainee: User
    waiting_cells: int


@dataclass(frozen=True)
class GradingSheet:
    """What the grading page needs about one submission."""

    submission: Submission
    trainee: User
    notebook: dict[str, Any]  # the executed notebook (hidden tests included) or, failing it, the
    # notebook as handed in
    executed: bool
    hand_graded: list[CellGrade]
    graders: dict[int, User]
    newer_attempt_id: int | None  # the trainee's latest graded attempt, when this is not it

    @property
    def cells_by_grade_id(self) -> dict[str, CellGrade]:
        """Every cell grade of the submission (tests too), by grade id."""
        return {cell.grade_id: cell for cell in self.submission.cells}

    @property
    def waiting(self) -> int:
        """How many cells still wait for a grade."""
        return sum(1 for cell in self.hand_graded if cell.needs_manual_grade)


def _latest_graded_attempts() -> Any:
    """The id of each trainee's latest graded attempt at each exercise (a subquery)."""
    return (
        select(func.max(Submission.id))
        .where(
            Submission.purpose == SubmissionPurpose.GRADE,
            Submission.status == SubmissionStatus.GRADED,
        )
        .group_by(Submission.user_id, Submission.exercise_id)
    )


def _waiting_cells() -> Any:
    """Per submission, how many of its cells wait for a person (a subquery)."""
    return (
        select(CellGrade.submission_id, func.count().label("cells"))
        .where(CellGrade.needs_manual_grade.is_(True))
        .group_by(CellGrade.submission_id)
        .subquery()
    )


def _in_queue(query: Select) -> Select:
    """`query` over Submission narrowed to the queue: a trainee's latest graded attempt at an
    exercise, with cells waiting for a person (attempts it superseded are not worth grading)."""
    waiting = _waiting_cells()
    return (
        query.join(waiting, waiting.c.submission_id == Submission.id)
        .join(User, User.id == Submission.user_id)
        .where(Submission.id.in_(_latest_graded_attempts()), User.role == UserRole.TRAINEE)
        .add_columns(waiting.c.cells)
    )


def grading_queue(
    session: Session, exercise_id: int | None = None, limit: int = QUEUE_LIMIT
) -> list[QueueEntry]:
    """Trainees' latest graded attempts with cells needing a manual grade, oldest first."""
    query = (
        _in_queue(select(Submission, User))
        .options(selectinload(Submission.exercise))
        .order_by(Submission.created_at, Submission.id)
        .limit(limit)
    )
    if exercise_id is not None:
        query = query.where(Submission.exercise_id == exercise_id)
    return [QueueEntry(sub, user, cells) for sub, user, cells in session.execute(query)]


def next_to_grade(session: Session, after: int) -> int | None:
    """The oldest submission in the queue other than `after`, to grade next."""
    entries = grading_queue(session, limit=2)
    return next((e.submission.id for e in entries if e.submission.id != after), None)


def queue_sizes(session: Session) -> dict[int, int]:
    """Per exercise id, how many trainees' latest attempts wait for a manual grade."""
    queued = _in_queue(select(Submission.exercise_id)).subquery()
    rows = session.execute(
        select(queued.c.exercise_id, func.count()).group_by(queued.c.exercise_id)
    )
    return dict(rows.all())


def exercises(session: Session) -> list[Exercise]:
    """Every exercise, by slug (the queue's filter)."""
    return list(session.scalars(select(Exercise).order_by(Exercise.slug)))


def grading_sheet(session: Session, submission_id: int) -> GradingSheet | None:
    """One submission with its hand-graded cells and its notebook (None if there is none)."""
    submission = submission_with_cells(session, submission_id)
    if submission is None:
        return None
    executed = submission.graded_notebook_sha256 is not None
    data = get_blob(
        session, submission.graded_notebook_sha256 if executed else submission.notebook_sha256
    )
    try:
        notebook = json.loads(data)
    except ValueError:
        notebook = {}  # refused by the grader as not a notebook: nothing to show but the cells
    hand_graded = [c for c in submission.cells if c.kind in HAND_GRADED_KINDS]
    grader_ids = {c.graded_by_id for c in hand_graded if c.graded_by_id is not None}
    people = session.scalars(select(User).where(User.id.in_(grader_ids | {submission.user_id})))
    by_id = {user.id: user for user in people}
    latest = session.scalar(
        select(func.max(Submission.id)).where(
            Submission.user_id == submission.user_id,
            Submission.exercise_id == submission.exercise_id,
            Submission.purpose == SubmissionPurpose.GRADE,
            Submission.status == SubmissionStatus.GRADED,
        )
    )
    return GradingSheet(
        submission=submission,
        trainee=by_id[submission.user_id],
        notebook=notebook if isinstance(notebook, dict) else {},
        executed=executed,
        hand_graded=hand_graded,
        graders={uid: by_id[uid] for uid in grader_ids if uid in by_id},
        newer_attempt_id=latest if latest is not None and latest > submission.id else None,
    )


def parse_score(text: str | float, max_score: float) -> float:
    """A score typed by a person ("1.5" or "1,5"), between 0 and `max_score`; else refused."""
    if isinstance(text, str):
        cleaned = text.strip().replace(",", ".")
        if not cleaned:
            raise Invalid(N_("Enter a score between 0 and %(max)s."), max=f"{max_score:g}")
        try:
            value = float(cleaned)
        except ValueError:
            value = math.nan
    else:
        value = float(text)
    if not math.isfinite(value):
        raise Invalid(
            N_("The score must be a number between 0 and %(max)s, such as 1.5."),
            max=f"{max_score:g}",
        )
    if value < 0:
        raise Invalid(N_("The score cannot be negative: enter 0 or more."))
    if value > max_score:
        raise Invalid(
            N_("The score cannot be above the cell's %(max)s points."), max=f"{max_score:g}"
        )
    return value


def record_grade(
    session: Session,
    *,
    submission_id: int,
    grade_id: str,
    score: str | float,
    comment: str,
    grader_id: int,
) -> CellGrade:
    """Set a hand-graded cell's score and comment, then the submission's total; all or nothing."""
    # Locked: two instructors grading one submission at once must not lose a total.
    submission = session.get(Submission, submission_id, with_for_update=True)
    try:
        cell = _gradable_cell(submission, grade_id)
        value = parse_score(score, cell.max_score)
        comment = (comment or "").strip().replace("\r\n", "\n")
        if len(comment) > MAX_COMMENT_LENGTH:
            raise Invalid(
                N_("The comment is %(n)s characters long; keep it under %(max)s."),
                n=len(comment),
                max=MAX_COMMENT_LENGTH,
            )
    except DomainError:
        session.rollback()
        raise
    keep_grader_score(cell)
    audit.record(
        session,
        "grade.override",
        grader_id,
        submission.user_id,
        submission=submission.id,
        grade_id=cell.grade_id,
        before=cell.score,
        after=value,
    )
    set_by_hand(submission, cell, value, grader_id, utcnow())
    cell.comment = comment or None
    session.commit()
    return cell


def keep_grader_score(cell: CellGrade) -> float:
    """The grader's own score of `cell`, kept aside the first time a person changes it."""
    if cell.manually_graded_at is None:
        cell.auto_score = cell.score
    return cell.auto_score if cell.auto_score is not None else cell.score


def set_by_hand(
    submission: Submission, cell: CellGrade, value: float, by_user_id: int, at: datetime
) -> None:
    """A person's score for one cell (hand grade or override), and the submission's total."""
    cell.score, cell.needs_manual_grade = value, False
    cell.graded_by_id, cell.manually_graded_at = by_user_id, at
    submission.score = sum(c.score for c in submission.cells)
    submission.needs_manual_grade = any(c.needs_manual_grade for c in submission.cells)


def _gradable_cell(submission: Submission | None, grade_id: str) -> CellGrade:
    if submission is None:
        raise NotFound(N_("There is no such submission."))
    if submission.status is not SubmissionStatus.GRADED:
        raise Conflict(
            N_("This submission is not graded (it is %(status)s): there is nothing to grade yet."),
            status=submission.status.value,
        )
    cell = next((c for c in submission.cells if c.grade_id == grade_id), None)
    if cell is None or cell.kind not in HAND_GRADED_KINDS:
        raise Invalid(
            N_(
                "This submission has no hand-graded cell %(grade_id)s; reload the page and pick "
                "a cell from it."
            ),
            grade_id=grade_id or "–",
        )
    return cell
