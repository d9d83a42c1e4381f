"""Due dates and the late policy: which due date applies to a trainee, how late an attempt is,
what a late attempt counts for, and refusing attempts once an exercise is closed.

The due date that applies to a trainee is, first found: their extension, their cohort's due
date, the exercise's. An attempt is late when it was handed in (`Submission.created_at`) after
it. The late policy of the exercise then says:

- accept: it counts in full, marked late;
- penalty: each *started* day (24 hours) late costs `penalty_percent_per_day` percent of the
  points earned (so 1.5 days late at 10 % a day loses 20 %, not 15 %), down to 0;
- closed: a graded attempt after the due date is refused ("check my work" stays open).

The grader's score is never changed: the penalty is applied where scores are counted for the
gradebook (its matrix and CSV), so moving a due date or granting an extension re-counts every
attempt at once. Readiness counts skills, not punctuality: it reads the grader's scores.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Float, Integer, String, cast, literal_column, null, select, union_all
from sqlalchemy.orm import Session

from lms.errors import Conflict, Invalid, NotFound
from lms.i18n import N_
from lms.models import Exercise, User, UserRole, utcnow
from lms.models.base import UTCDateTime
from lms.models.deadlines import CohortDueDate, DeadlineExtension, ExerciseSchedule, LatePolicy
from lms.models.talent import Cohort, CohortMember
from lms.services import audit

DAY = timedelta(days=1)
MAX_REASON_LENGTH = 2000


def days_late(handed_in: datetime, due_at: datetime | None) -> int:
    """Started days (24 h) after the due date: 0 on time, 1 for a minute to 24 h late, ..."""
    if due_at is None or handed_in <= due_at:
        return 0
    return math.ceil((handed_in - due_at) / DAY)


def penalised(score: float, days: int, percent_per_day: float) -> float:
    """What `score` counts for, `days` started days late at `percent_per_day` (never below 0)."""
    return score * max(0.0, 1.0 - days * percent_per_day / 100.0)


@dataclass(frozen=True)
class Lateness:
    """How an attempt stands against its due date."""

    days: int
    factor: float  # what fraction of its score counts (1.0 on time or when accepted)

    @property
    def late(self) -> bool:
        """Whether it was handed in after its due date."""
        return self.days > 0


ON_TIME = Lateness(0, 1.0)


@dataclass(frozen=True)
class Policy:
    """An exercise's due date and late policy, as the gradebook counts them."""

    due_at: datetime | None
    late_policy: LatePolicy
    penalty_percent_per_day: float


@dataclass(frozen=True)
class Deadlines:
    """Every due date, policy and extension, read at once (one query, whatever the size)."""

    schedules: dict[int, Policy]  # by exercise id
    # (exercise id, user id) -> the trainee's own due date: an extension, else their cohort's.
    personal: dict[tuple[int, int], datetime]

    def due_for(self, exercise_id: int, user_id: int) -> datetime | None:
        """The due date that applies to this trainee (extension, cohort's, exercise's)."""
        if (exercise_id, user_id) in self.personal:
            return self.personal[(exercise_id, user_id)]
        schedule = self.schedules.get(exercise_id)
        return schedule.due_at if schedule else None

    def lateness(self, exercise_id: int, user_id: int, handed_in: datetime) -> Lateness:
        """How late an attempt handed in at `handed_in` is, and what fraction of it counts."""
        schedule = self.schedules.get(exercise_id)
        days = days_late(handed_in, self.due_for(exercise_id, user_id))
        if days == 0:
            return ON_TIME
        factor = 1.0
        if schedule is not None and schedule.late_policy is LatePolicy.PENALTY:
            factor = penalised(1.0, days, schedule.penalty_percent_per_day)
        return Lateness(days, factor)


def load(session: Session) -> Deadlines:
    """Every deadline of every exercise (the gradebook's view), in one query: extensions
    (rank 0), cohorts' due dates per member (rank 1), exercises' schedules (rank 2)."""
    # Typed NULLs: PostgreSQL matches a UNION's columns by type.
    no_user, no_policy, no_percent = (
        cast(null(), Integer),
        cast(null(), String(20)),
        cast(null(), Float),
    )
    extensions = select(
        DeadlineExtension.exercise_id,
        DeadlineExtension.user_id,
        DeadlineExtension.due_at,
        literal_column("0").label("rank"),
        no_policy.label("policy"),
        no_percent.label("percent"),
    )
    cohorts = select(
        CohortDueDate.exercise_id,
        CohortMember.user_id,
        CohortDueDate.due_at,
        literal_column("1"),
        no_policy,
        no_percent,
    ).join(CohortMember, CohortMember.cohort_id == CohortDueDate.cohort_id)
    schedules_ = select(
        ExerciseSchedule.exercise_id,
        no_user,
        ExerciseSchedule.due_at,
        literal_column("2"),
        cast(ExerciseSchedule.late_policy, String(20)),
        ExerciseSchedule.penalty_percent_per_day,
    )
    personal: dict[tuple[int, int], datetime] = {}
    schedules: dict[int, Policy] = {}
    as_utc = UTCDateTime().process_result_value
    rows = session.execute(union_all(extensions, cohorts, schedules_).order_by("rank"))
    for exercise_id, user_id, due_at, rank, policy, percent in rows:
        due_at = as_utc(due_at, None)
        if rank == 2:
            schedules[exercise_id] = Policy(due_at, LatePolicy(policy), float(percent or 0.0))
        else:  # an extension (first) wins over the cohort's date
            personal.setdefault((exercise_id, user_id), due_at)
    return Deadlines(schedules=schedules, personal=personal)


def due_for_trainee(session: Session, exercise_id: int, user_id: int) -> datetime | None:
    """The due date that applies to one trainee (extension, cohort's, exercise's), read alone."""
    extension = session.scalar(
        select(DeadlineExtension.due_at).where(
            DeadlineExtension.exercise_id == exercise_id, DeadlineExtension.user_id == user_id
        )
    )
    if extension is not None:
        return extension
    cohort_due = session.scalar(
        select(CohortDueDate.due_at)
        .join(CohortMember, CohortMember.cohort_id == CohortDueDate.cohort_id)
        .where(CohortDueDate.exercise_id == exercise_id, CohortMember.user_id == user_id)
    )
    if cohort_due is not None:
        return cohort_due
    schedule = session.get(ExerciseSchedule, exercise_id)
    return schedule.due_at if schedule else None


@dataclass(frozen=True)
class DueNotice:
    """What a trainee is told on the exercise page: their due date and the late policy."""

    due_at: datetime
    policy: LatePolicy
    penalty_percent_per_day: float
    passed: bool


def notice(session: Session, exercise_id: int, user_id: int, now: datetime) -> DueNotice | None:
    """The trainee's due date for this exercise and its policy (None when there is none)."""
    due = due_for_trainee(session, exercise_id, user_id)
    if due is None:
        return None
    schedule = session.get(ExerciseSchedule, exercise_id)
    policy = schedule.late_policy if schedule else LatePolicy.ACCEPT
    percent = schedule.penalty_percent_per_day if schedule else 0.0
    return DueNotice(due, policy, percent, now > due)


def check_open(session: Session, exercise: Exercise, user_id: int, now: datetime) -> None:
    """Refuse a graded attempt at a closed exercise past the trainee's due date (Conflict)."""
    schedule = session.get(ExerciseSchedule, exercise.id)
    if schedule is None or schedule.late_policy is not LatePolicy.CLOSED:
        return
    due = due_for_trainee(session, exercise.id, user_id)
    if due is not None and now > due:
        # No title in the sentence: the refusal is translated, the exercise's title is not.
        raise Conflict(
            N_(
                "This exercise was due on %(due)s UTC and takes no late attempt: your work was "
                "not submitted. Ask your instructor for an extension."
            ),
            due=due.strftime("%Y-%m-%d %H:%M"),
        )


# --- instructors set them ------------------------------------------------------------------


def parse_due(text: str | None) -> datetime | None:
    """A due date typed in a form ("2026-12-10T17:00", UTC); empty means none."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(
            N_("%(text)s is not a date and time: use the form 2026-12-10T17:00 (UTC)."),
            text=text[:40],
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _exercise(session: Session, slug: str) -> Exercise:
    exercise = session.scalar(select(Exercise).where(Exercise.slug == slug))
    if exercise is None:
        session.rollback()
        raise NotFound(N_("There is no exercise %(slug)s."), slug=slug or "–")
    return exercise


def schedule_of(session: Session, slug: str) -> tuple[Exercise, ExerciseSchedule | None]:
    """An exercise and its schedule (None when it has none)."""
    exercise = _exercise(session, slug)
    return exercise, session.get(ExerciseSchedule, exercise.id)


def set_schedule(
    session: Session,
    slug: str,
    *,
    due: str | None,
    policy: str,
    penalty_percent: str | float,
    by_user_id: int,
) -> ExerciseSchedule:
    """Set an exercise's due date and late policy; refused as a whole when an input is wrong."""
    exercise = _exercise(session, slug)
    try:
        due_at = parse_due(due)
        try:
            late_policy = LatePolicy(policy)
        except ValueError:
            raise Invalid(N_("Choose a late policy: accept, penalty or closed.")) from None
        try:
            percent = float(str(penalty_percent or "0").replace(",", "."))
        except ValueError:
            percent = math.nan
        if not math.isfinite(percent) or not 0 <= percent <= 100:
            raise Invalid(N_("The penalty is a percentage per day, between 0 and 100."))
    except Invalid:
        session.rollback()
        raise
    row = session.get(ExerciseSchedule, exercise.id) or ExerciseSchedule(exercise_id=exercise.id)
    row.due_at, row.late_policy = due_at, late_policy
    row.penalty_percent_per_day = percent if late_policy is LatePolicy.PENALTY else 0.0
    row.by_user_id, row.updated_at = by_user_id, utcnow()
    session.add(row)
    audit.record(
        session,
        "deadline.set",
        by_user_id,
        exercise=exercise.slug,
        due=due_at.isoformat() if due_at else None,
        policy=late_policy.value,
        percent=row.penalty_percent_per_day,
    )
    session.commit()
    return row


def set_cohort_due(
    session: Session, slug: str, cohort_slug: str, due: str | None, by_user_id: int
) -> None:
    """Give a cohort its own due date for an exercise (empty: the exercise's applies again)."""
    exercise = _exercise(session, slug)
    cohort = session.scalar(select(Cohort).where(Cohort.slug == (cohort_slug or "").strip()))
    try:
        if cohort is None:
            raise NotFound(N_("There is no cohort %(slug)s."), slug=cohort_slug or "–")
        due_at = parse_due(due)
    except (Invalid, NotFound):
        session.rollback()
        raise
    row = session.scalar(
        select(CohortDueDate).where(
            CohortDueDate.exercise_id == exercise.id, CohortDueDate.cohort_id == cohort.id
        )
    )
    if due_at is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(CohortDueDate(exercise_id=exercise.id, cohort_id=cohort.id, due_at=due_at))
    else:
        row.due_at = due_at
    audit.record(
        session,
        "deadline.cohort",
        by_user_id,
        exercise=exercise.slug,
        cohort=cohort.slug,
        due=due_at.isoformat() if due_at else None,
    )
    session.commit()


def grant_extension(
    session: Session, slug: str, email: str, due: str | None, reason: str, by_user_id: int
) -> DeadlineExtension:
    """Give one trainee a later due date for an exercise, with a reason."""
    exercise = _exercise(session, slug)
    email = (email or "").strip().lower()
    trainee = session.scalar(select(User).where(User.email == email, User.role == UserRole.TRAINEE))
    reason = (reason or "").strip()
    try:
        if trainee is None:
            raise Invalid(
                N_("No trainee account for: %(emails)s. Nothing was changed."), emails=email or "–"
            )
        due_at = parse_due(due)
        if due_at is None:
            raise Invalid(N_("Give the extension's new due date."))
        if len(reason) > MAX_REASON_LENGTH:
            raise Invalid(
                N_("The reason is %(n)s characters long; keep it under %(max)s."),
                n=len(reason),
                max=MAX_REASON_LENGTH,
            )
    except Invalid:
        session.rollback()
        raise
    row = session.scalar(
        select(DeadlineExtension).where(
            DeadlineExtension.exercise_id == exercise.id, DeadlineExtension.user_id == trainee.id
        )
    ) or DeadlineExtension(exercise_id=exercise.id, user_id=trainee.id)
    row.due_at, row.reason, row.by_user_id, row.at = due_at, reason, by_user_id, utcnow()
    session.add(row)
    audit.record(
        session,
        "deadline.extension",
        by_user_id,
        trainee.id,
        exercise=exercise.slug,
        due=due_at.isoformat(),
        reason=reason,
    )
    session.commit()
    return row


@dataclass(frozen=True)
class ScheduleSheet:
    """What the schedule page shows for one exercise."""

    exercise: Exercise
    schedule: ExerciseSchedule | None
    cohorts: list[tuple[Cohort, datetime | None]]
    extensions: list[tuple[DeadlineExtension, str]]  # with the trainee's e-mail


def schedule_sheet(session: Session, slug: str) -> ScheduleSheet:
    """An exercise's due date, policy, cohorts' due dates and extensions (unknown: NotFound)."""
    exercise, schedule = schedule_of(session, slug)
    dues = dict(
        session.execute(
            select(CohortDueDate.cohort_id, CohortDueDate.due_at).where(
                CohortDueDate.exercise_id == exercise.id
            )
        ).all()
    )
    cohorts = [
        (c, dues.get(c.id))
        for c in session.scalars(select(Cohort).order_by(Cohort.name, Cohort.id))
    ]
    extensions = [
        (row, email)
        for row, email in session.execute(
            select(DeadlineExtension, User.email)
            .join(User, User.id == DeadlineExtension.user_id)
            .where(DeadlineExtension.exercise_id == exercise.id)
            .order_by(User.email)
        )
    ]
    return ScheduleSheet(exercise, schedule, cohorts, extensions)
