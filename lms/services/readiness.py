"""Readiness from the database: graded cells -> Evidence -> lms.readiness, in set-based queries.

Every function here issues a fixed number of SQL queries whatever the number of trainees: the
whole cohort's graded cells are read in one query per source (our submissions, imported results)
and grouped in Python, never one query per trainee.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from lms import readiness
from lms.models import (
    CellGrade,
    Exercise,
    GradeCell,
    GradeCellSkill,
    Role,
    Submission,
    SubmissionPurpose,
    SubmissionStatus,
    User,
    UserRole,
    utcnow,
)
from lms.models.talent import ImportedResult
from lms.readiness import Evidence, RoleReadiness


@dataclass(frozen=True, slots=True)
class Trainee:
    """Who a readiness figure is about."""

    id: int
    email: str
    name: str


@dataclass(frozen=True, slots=True)
class CandidateReadiness:
    """One trainee's readiness for one role."""

    trainee: Trainee
    readiness: RoleReadiness

    def as_json(self) -> dict[str, Any]:
        """The shape `lms readiness --json` and the API print: the e-mail, then the figures."""
        return {"email": self.trainee.email, **self.readiness.as_json()}


@dataclass(frozen=True)
class CohortReadiness:
    """Every trainee's readiness for every role, as of one moment."""

    as_of: datetime
    roles: list[readiness.Role]
    trainees: dict[int, Trainee]
    by_trainee: dict[int, dict[str, RoleReadiness]]

    def ranked(self, role_id: str) -> list[CandidateReadiness]:
        """Trainees best first for `role_id`: score, then lower bound, then e-mail."""
        entries = [CandidateReadiness(self.trainees[tid], roles[role_id])
                   for tid, roles in self.by_trainee.items()]
        return sorted(entries, key=lambda e: (-e.readiness.score, -e.readiness.low,
                                              e.trainee.email))


def load_roles(session: Session, role_ids: Collection[str] | None = None) -> list[readiness.Role]:
    """The target roles as the readiness model takes them (roles with no skill are left out)."""
    query = select(Role).order_by(Role.id).options(selectinload(Role.skills))
    if role_ids is not None:
        query = query.where(Role.id.in_(list(role_ids)))
    return [
        readiness.Role(
            id=row.id, name=row.name,
            skills=tuple(readiness.RoleSkill(s.skill_id, s.level, s.weight, s.critical)
                         for s in row.skills),
        )
        for row in session.scalars(query) if row.skills
    ]


def list_trainees(session: Session, user_ids: Collection[int] | None = None) -> dict[int, Trainee]:
    """Active trainees (optionally only these ids), by id."""
    query = select(User.id, User.email, User.display_name).where(
        User.role == UserRole.TRAINEE, User.active.is_(True))
    if user_ids is not None:
        query = query.where(User.id.in_(list(user_ids)))
    return {uid: Trainee(uid, email, name or email)
            for uid, email, name in session.execute(query.order_by(User.email))}


def load_evidence(
    session: Session, user_ids: Collection[int] | None = None
) -> dict[int, list[Evidence]]:
    """Every graded cell of these trainees (default: all), as Evidence, by trainee id.

    Two queries: our graded submissions, and results imported from other systems. Attempts are
    numbered per trainee and exercise across both, in date order.
    """
    native = (
        select(Submission.id, Submission.user_id, Exercise.slug, Exercise.kind,
               Submission.created_at, CellGrade.grade_id, CellGrade.score, CellGrade.max_score,
               GradeCellSkill.skill_id)
        .join(Exercise, Exercise.id == Submission.exercise_id)
        .join(CellGrade, CellGrade.submission_id == Submission.id)
        .join(GradeCell, (GradeCell.exercise_id == Submission.exercise_id)
              & (GradeCell.grade_id == CellGrade.grade_id))
        .join(GradeCellSkill, GradeCellSkill.grade_cell_id == GradeCell.id)
        .where(Submission.purpose == SubmissionPurpose.GRADE,
               Submission.status == SubmissionStatus.GRADED,
               # A hand-graded cell not graded yet says nothing about the skill.
               CellGrade.needs_manual_grade.is_(False), CellGrade.max_score > 0)
    )
    imported = (
        select(ImportedResult.batch_id, ImportedResult.user_id, Exercise.slug,
               ImportedResult.kind, ImportedResult.submitted_at, ImportedResult.grade_id,
               ImportedResult.score, ImportedResult.max_score, GradeCellSkill.skill_id)
        .join(Exercise, Exercise.id == ImportedResult.exercise_id)
        .join(GradeCell, (GradeCell.exercise_id == ImportedResult.exercise_id)
              & (GradeCell.grade_id == ImportedResult.grade_id))
        .join(GradeCellSkill, GradeCellSkill.grade_cell_id == GradeCell.id)
        .where(ImportedResult.max_score > 0)
    )
    rows = [
        (("submission", sid), uid, slug, str(kind), at, grade_id, score, max_score, skill)
        for sid, uid, slug, kind, at, grade_id, score, max_score, skill
        in session.execute(_for_trainees(native, Submission.user_id, user_ids))
    ]
    rows += [
        (("import", at), uid, slug, kind, at, grade_id, score, max_score, skill)
        for _batch, uid, slug, kind, at, grade_id, score, max_score, skill
        in session.execute(_for_trainees(imported, ImportedResult.user_id, user_ids))
    ]
    return _to_evidence(rows)


def _for_trainees(query: Select, user_column: Any, user_ids: Collection[int] | None) -> Select:
    if user_ids is not None:
        return query.where(user_column.in_(list(user_ids)))
    return query.join(User, User.id == user_column).where(User.role == UserRole.TRAINEE)


def _to_evidence(rows: Iterable[tuple]) -> dict[int, list[Evidence]]:
    """Rows (result key, user, exercise, kind, at, grade id, score, max, skill) to Evidence."""
    rows = list(rows)
    dates: dict[tuple[int, str], dict[tuple, datetime]] = defaultdict(dict)
    for key, uid, slug, _kind, at, *_ in rows:
        dates[(uid, slug)].setdefault(key, at)
    attempts = {
        (uid, slug, key): number
        for (uid, slug), results in dates.items()
        for number, key in enumerate(sorted(results, key=lambda k: (results[k], str(k))), 1)
    }
    evidence: dict[int, list[Evidence]] = defaultdict(list)
    for key, uid, slug, kind, at, grade_id, score, max_score, skill in rows:
        attempt = attempts[(uid, slug, key)]
        evidence[uid].append(Evidence(
            skill=skill,
            # A hand-entered grade above the cell's points counts as full marks, not as an error.
            score=min(max(score, 0.0), max_score), max_score=max_score, at=at, kind=kind,
            exercise=slug, attempt=attempt,
            # Every graded attempt shows its feedback, so any later attempt has seen some.
            after_feedback=attempt > 1, grade_id=grade_id,
            submission_id=key[1] if key[0] == "submission" else f"import:{at.isoformat()}",
        ))
    return evidence


def cohort_readiness(
    session: Session, as_of: datetime | None = None, user_ids: Collection[int] | None = None,
    role_ids: Collection[str] | None = None,
) -> CohortReadiness:
    """Every trainee's (or these trainees') readiness for every role (or these roles)."""
    moment = as_of or utcnow()
    roles = load_roles(session, role_ids)
    trainees = list_trainees(session, user_ids)
    evidence = load_evidence(session, user_ids)
    scored = readiness.score_cohort({tid: evidence.get(tid, ()) for tid in trainees}, roles,
                                    moment)
    return CohortReadiness(moment, roles, trainees, scored)


def role_readiness(
    session: Session, role_id: str, as_of: datetime | None = None,
    user_ids: Collection[int] | None = None,
) -> list[CandidateReadiness] | None:
    """Trainees best first for one role (None if the role does not exist)."""
    cohort = cohort_readiness(session, as_of, user_ids, role_ids=[role_id])
    if not cohort.roles:
        return None
    return cohort.ranked(role_id)


def trainee_readiness(
    session: Session, user_id: int, as_of: datetime | None = None
) -> dict[str, RoleReadiness]:
    """One trainee's readiness for every role, by role id (empty if not a trainee)."""
    cohort = cohort_readiness(session, as_of, user_ids=[user_id])
    return cohort.by_trainee.get(user_id, {})
