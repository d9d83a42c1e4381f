"""The gradebook: trainees × exercises (best graded score, totals, integrity flags), one
trainee's attempts, a CSV of the matrix, and instructors' overrides of a cell's score.

Every read costs a fixed number of queries whatever the number of trainees or attempts. An
override is kept as a row of its own (the grader's score stays beside it) and is written into the
cell's grade, as a hand grade is, so the trainee's result and readiness count it."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.errors import Conflict, DomainError, Invalid, NotFound
from lms.i18n import N_
from lms.models import (
    Exercise,
    Submission,
    SubmissionPurpose,
    SubmissionStatus,
    User,
    UserRole,
    utcnow,
)
from lms.models.evidence import FlagClearance
from lms.models.gradebook import GradeOverride
from lms.models.talent import Cohort, CohortMember
from lms.services import audit, deadlines, manual_grading, regrades
from lms.services.manual_grading import parse_score
from lms.services.submissions import submission_with_cells
from lms.services.talent_exports import safe_cell

MAX_REASON_LENGTH = 2000


@dataclass(frozen=True)
class Cell:
    """One trainee's best graded attempt at one exercise."""

    submission_id: int
    score: float
    max_score: float
    attempts: int
    flags: tuple[str, ...]  # integrity flags of graded attempts no instructor has cleared
    overridden: bool  # an instructor overrode a cell of the best attempt
    late_days: int = 0  # started days after the trainee's due date (lms.services.deadlines)
    grader_score: float | None = None  # the score before the late penalty, when one applies

    @property
    def late(self) -> bool:
        """Whether the attempt counted was handed in after its due date."""
        return self.late_days > 0


@dataclass(frozen=True)
class Row:
    """One trainee's line: a cell per exercise attempted, and the total."""

    trainee: User
    cells: dict[int, Cell]  # by exercise id

    @property
    def total(self) -> float:
        """The sum of the best scores."""
        return sum(cell.score for cell in self.cells.values())

    @property
    def flagged(self) -> bool:
        """Whether any of the trainee's cells carries an uncleared flag."""
        return any(cell.flags for cell in self.cells.values())


@dataclass(frozen=True)
class Matrix:
    """The gradebook of every trainee (or one cohort's) over every exercise."""

    exercises: list[Exercise]
    rows: list[Row]
    cohort: Cohort | None
    cohorts: list[Cohort]

    @property
    def max_total(self) -> float:
        """The points of every exercise together."""
        return sum(exercise.max_score for exercise in self.exercises)


def cohorts(session: Session) -> list[Cohort]:
    """Every cohort, by name (the gradebook's filter)."""
    return list(session.scalars(select(Cohort).order_by(Cohort.name, Cohort.id)))


def matrix(session: Session, cohort_slug: str | None = None) -> Matrix:
    """The gradebook, narrowed to one cohort's members if a slug is given (unknown: NotFound)."""
    all_cohorts = cohorts(session)
    cohort = None
    if cohort_slug:
        cohort = next((c for c in all_cohorts if c.slug == cohort_slug), None)
        if cohort is None:
            raise NotFound(N_("There is no cohort %(slug)s."), slug=cohort_slug)
    trainees = select(User).where(User.role == UserRole.TRAINEE).order_by(User.email)
    attempts = select(
        Submission.id,
        Submission.user_id,
        Submission.exercise_id,
        Submission.score,
        Submission.max_score,
        Submission.flags,
        Submission.created_at,
    ).where(
        Submission.purpose == SubmissionPurpose.GRADE,
        # An attempt being regraded keeps its old score here until the new one arrives.
        regrades.counts_in_gradebook(),
        Submission.user_id.in_(select(User.id).where(User.role == UserRole.TRAINEE)),
    )
    if cohort is not None:
        members = select(CohortMember.user_id).where(CohortMember.cohort_id == cohort.id)
        trainees = trainees.where(User.id.in_(members))
        attempts = attempts.where(Submission.user_id.in_(members))
    people = list(session.scalars(trainees))
    exercises = list(session.scalars(select(Exercise).order_by(Exercise.slug)))
    cleared = set(session.scalars(select(FlagClearance.submission_id)))
    overridden = set(session.scalars(select(GradeOverride.submission_id).distinct()))
    best: dict[tuple[int, int], tuple] = {}
    counts: dict[tuple[int, int], int] = {}
    flags: dict[tuple[int, int], set[str]] = {}
    due = deadlines.load(session)
    for sid, uid, eid, score, max_score, sub_flags, handed_in in session.execute(attempts):
        key = (uid, eid)
        counts[key] = counts.get(key, 0) + 1
        if sub_flags and sid not in cleared:
            flags.setdefault(key, set()).update(sub_flags)
        lateness = due.lateness(eid, uid, handed_in)
        counted = (score or 0.0) * lateness.factor
        # The highest counted score wins (after a late penalty); between equals, the latest.
        if key not in best or (counted, sid) > (best[key][1], best[key][0]):
            best[key] = (sid, counted, max_score, lateness, score or 0.0)
    cells: dict[int, dict[int, Cell]] = {}
    for (uid, eid), (sid, counted, max_score, lateness, score) in best.items():
        cells.setdefault(uid, {})[eid] = Cell(
            submission_id=sid,
            score=counted,
            max_score=max_score or 0.0,
            attempts=counts[(uid, eid)],
            flags=tuple(sorted(flags.get((uid, eid), ()))),
            overridden=sid in overridden,
            late_days=lateness.days,
            grader_score=score if lateness.factor != 1.0 else None,
        )
    return Matrix(
        exercises=exercises,
        rows=[Row(trainee=p, cells=cells.get(p.id, {})) for p in people],
        cohort=cohort,
        cohorts=all_cohorts,
    )


def matrix_csv(book: Matrix, headers: Mapping[str, str]) -> str:
    """The matrix as CSV: a row per trainee, a score column per exercise (by slug), the total and
    the flags, the late attempts counted (slug:days). `headers` gives the fixed columns' titles in
    the reader's language (keys: email, name, total, max_total, flags, late); every text cell is
    neutralised against spreadsheet formulas."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            safe_cell(headers["email"]),
            safe_cell(headers["name"]),
            *(safe_cell(e.slug) for e in book.exercises),
            safe_cell(headers["total"]),
            safe_cell(headers["max_total"]),
            safe_cell(headers["flags"]),
            safe_cell(headers["late"]),
        ]
    )
    for row in book.rows:
        flagged = [
            f"{e.slug}:{flag}"
            for e in book.exercises
            if e.id in row.cells
            for flag in row.cells[e.id].flags
        ]
        writer.writerow(
            [
                safe_cell(row.trainee.email),
                safe_cell(row.trainee.name),
                *(
                    f"{row.cells[e.id].score:g}" if e.id in row.cells else ""
                    for e in book.exercises
                ),
                f"{row.total:g}",
                f"{book.max_total:g}",
                safe_cell(" ".join(flagged)),
                " ".join(
                    f"{e.slug}:{row.cells[e.id].late_days}d"
                    for e in book.exercises
                    if e.id in row.cells and row.cells[e.id].late
                ),
            ]
        )
    return out.getvalue()


@dataclass(frozen=True)
class TraineeRecord:
    """One trainee's graded attempts, grouped by exercise (newest first)."""

    trainee: User
    exercises: list[Exercise]
    attempts: dict[int, list[Submission]]  # by exercise id
    overridden: set[int] = field(default_factory=set)  # submission ids


def trainee_record(session: Session, user_id: int) -> TraineeRecord | None:
    """A trainee's attempts per exercise (None if there is no such trainee)."""
    trainee = session.get(User, user_id)
    if trainee is None or trainee.role != UserRole.TRAINEE:
        return None
    rows = list(
        session.scalars(
            select(Submission)
            .where(Submission.user_id == user_id, Submission.purpose == SubmissionPurpose.GRADE)
            .order_by(Submission.id.desc())
        )
    )
    by_exercise: dict[int, list[Submission]] = {}
    for row in rows:
        by_exercise.setdefault(row.exercise_id, []).append(row)
    exercises = list(
        session.scalars(
            select(Exercise).where(Exercise.id.in_(by_exercise)).order_by(Exercise.slug)
        )
    )
    overridden = set(
        session.scalars(
            select(GradeOverride.submission_id).where(
                GradeOverride.submission_id.in_([r.id for r in rows])
            )
        )
    )
    return TraineeRecord(trainee, exercises, by_exercise, overridden)


@dataclass(frozen=True)
class OverrideSheet:
    """What the override page shows: the submission, its cells, and every override so far."""

    submission: Submission
    trainee: User
    history: list[tuple[GradeOverride, str]]  # with the e-mail of who overrode


def override_sheet(session: Session, submission_id: int) -> OverrideSheet | None:
    """One submission's cells and override history (None if there is no such submission)."""
    submission = submission_with_cells(session, submission_id)
    if submission is None:
        return None
    history = session.execute(
        select(GradeOverride, User.email)
        .outerjoin(User, User.id == GradeOverride.by_user_id)
        .where(GradeOverride.submission_id == submission_id)
        .order_by(GradeOverride.id.desc())
    )
    return OverrideSheet(
        submission=submission,
        trainee=session.get(User, submission.user_id),
        history=[(o, email or "") for o, email in history],
    )


def override(
    session: Session,
    *,
    submission_id: int,
    grade_id: str,
    score: str | float,
    reason: str,
    by_user_id: int,
) -> GradeOverride:
    """Set one cell of a graded submission to `score` for `reason`; all or nothing, audited."""
    # Locked: an override and a hand grade of the same submission must not lose a total.
    submission = session.get(Submission, submission_id, with_for_update=True)
    try:
        if submission is None:
            raise NotFound(N_("There is no submission %(id)s."), id=submission_id)
        if (
            submission.purpose != SubmissionPurpose.GRADE
            or submission.status != SubmissionStatus.GRADED
        ):
            raise Conflict(N_("Only a graded attempt can have its score overridden."))
        cell = next((c for c in submission.cells if c.grade_id == grade_id), None)
        if cell is None:
            raise Invalid(
                N_("Submission %(id)s has no grade cell %(grade_id)s: choose one of its cells."),
                id=submission_id,
                grade_id=grade_id or "–",
            )
        value = parse_score(score, cell.max_score)
        reason = (reason or "").strip().replace("\r\n", "\n")
        if not reason:
            raise Invalid(N_("Say why the score is overridden: the reason is required."))
        if len(reason) > MAX_REASON_LENGTH:
            raise Invalid(
                N_("The reason is %(n)s characters long; keep it under %(max)s."),
                n=len(reason),
                max=MAX_REASON_LENGTH,
            )
    except DomainError:
        session.rollback()
        raise
    grader_score = manual_grading.keep_grader_score(cell)
    row = GradeOverride(
        submission_id=submission.id,
        grade_id=cell.grade_id,
        grader_score=grader_score,
        before=cell.score,
        score=value,
        max_score=cell.max_score,
        reason=reason,
        by_user_id=by_user_id,
        at=utcnow(),
    )
    session.add(row)
    audit.record(
        session,
        "grade.override",
        by_user_id,
        submission.user_id,
        submission=submission.id,
        grade_id=cell.grade_id,
        before=cell.score,
        after=value,
        reason=reason,
    )
    manual_grading.set_by_hand(submission, cell, value, by_user_id, row.at)
    session.commit()
    return row
