"""`lms seed`: a synthetic cohort with months of graded history on the real exercises and skills.

The history comes from lms.readiness.synthetic (an item-response model with learning, retries
after feedback and assessments), played over the exercises imported in the database, in course
order, with their real grade cells and skill mappings. Rows are written in bulk, the way the
grader would have left them, so every page and report works on them as on real work.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, selectinload

from grading.cells import CellKind
from lms.errors import Conflict, Invalid
from lms.i18n import N_
from lms.models import (
    CellGrade,
    Course,
    Exercise,
    GradeCell,
    GradingJob,
    JobStatus,
    Module,
    ModuleExercise,
    Submission,
    SubmissionPurpose,
    User,
    UserRole,
    utcnow,
)
from lms.models.evidence import SubmissionFingerprint
from lms.models.talent import CandidateMark, Cohort, CohortMember, MarkStatus, ReportShare
from lms.readiness.evidence import EvidenceKind
from lms.readiness.synthetic import (
    SyntheticCell,
    SyntheticCohort,
    SyntheticExercise,
    generate_cohort,
)
from lms.services import role_readiness, talent
from lms.services.accounts import unusable_password_hash

SHARE_SHARE = 0.7  # share of seeded trainees who shared their report
MARKS_PER_ROLE = {MarkStatus.HIRED: 1, MarkStatus.INTERVIEWING: 2, MarkStatus.SHORTLISTED: 3}


@dataclass(frozen=True)
class SeedSummary:
    """What `lms seed` created."""

    cohort: str
    trainees: int
    exercises: int
    submissions: int
    cells: int
    snapshots: int


def catalogue(session: Session, rng: np.random.Generator) -> tuple[SyntheticExercise, ...]:
    """The imported exercises as the simulator takes them (cells with skills): the courses run
    side by side, each spread over the whole period in its own order, as a centre runs its
    tracks in parallel (one course after another would leave the first track's evidence months
    old, decayed, by the end)."""
    courses = session.scalars(
        select(Course)
        .order_by(Course.position, Course.slug)
        .options(
            selectinload(Course.modules)
            .selectinload(Module.exercise_links)
            .selectinload(ModuleExercise.exercise)
        )
    )
    paced = sorted(
        ((position + 1) / len(exercises), number, exercise)
        for number, course in enumerate(courses)
        for exercises in [[e for m in course.modules for e in m.exercises]]
        for position, exercise in enumerate(exercises)
    )
    ordered: list[Exercise] = []
    for _, _, exercise in paced:
        if exercise not in ordered:
            ordered.append(exercise)
    rest = session.scalars(select(Exercise).order_by(Exercise.slug))
    ordered += [e for e in rest if e not in ordered]
    cells = session.scalars(
        select(GradeCell)
        .options(selectinload(GradeCell.skills))
        .order_by(GradeCell.exercise_id, GradeCell.position)
    )
    by_exercise: dict[int, list[SyntheticCell]] = {}
    for cell in cells:
        if cell.skills and cell.max_score > 0:
            by_exercise.setdefault(cell.exercise_id, []).append(
                SyntheticCell(
                    cell.grade_id,
                    cell.max_score,
                    tuple(s.skill_id for s in cell.skills),
                    manual=cell.kind != CellKind.TEST,
                )
            )
    return tuple(
        SyntheticExercise(
            e.slug,
            cast("EvidenceKind", e.kind.value),
            float(rng.normal(0.0, 0.6)),
            tuple(by_exercise[e.id]),
        )
        for e in ordered
        if e.id in by_exercise
    )


def seed_cohort(
    session: Session,
    trainees: int,
    months: int = 6,
    seed: int = 0,
    as_of: datetime | None = None,
    snapshot_every_days: int = 7,
) -> SeedSummary:
    """Create `trainees` trainees in a new cohort with `months` of graded history until `as_of`."""
    if trainees < 1:
        raise Invalid(N_("--trainees must be at least 1."))
    rng = np.random.default_rng(seed)
    exercises = catalogue(session, rng)
    if not exercises:
        raise Invalid(
            N_("No exercise with skill-mapped grade cells in the database: run `lms import` first.")
        )
    slug = f"seed-{seed}"
    if session.scalar(select(Cohort.id).where(Cohort.slug == slug)) is not None:
        raise Conflict(
            N_("Cohort %(slug)s already exists: use another --seed or a fresh database."), slug=slug
        )
    skills = tuple(sorted({s for e in exercises for c in e.cells for s in c.skills}))
    moment = as_of or utcnow()
    cohort = generate_cohort(trainees, exercises, skills, months, seed, moment)
    users = _create_trainees(session, cohort, seed)
    counts = _write_history(session, cohort, users)
    session.commit()
    _share_and_mark(session, users, rng, cohort.start, moment)
    days = []
    day = cohort.start.date()
    while day < moment.date():
        days.append(day)
        day += timedelta(days=snapshot_every_days)
    days.append(moment.date())
    snapshots = talent.record_snapshots(session, days)
    return SeedSummary(slug, trainees, len(exercises), counts[0], counts[1], snapshots)


def _create_trainees(session: Session, cohort: SyntheticCohort, seed: int) -> dict[str, int]:
    emails = {
        t.email: t.email.replace("@example.org", f"@seed{seed}.atlas.demo") for t in cohort.trainees
    }
    taken = session.scalar(select(User.email).where(User.email.in_(list(emails.values()))))
    if taken is not None:
        raise Conflict(
            N_("%(email)s already exists: use another --seed or a fresh database."), email=taken
        )
    group = Cohort(slug=f"seed-{seed}", name=f"Synthetic cohort {seed}", default_sharing=False)
    session.add(group)
    session.flush()
    # No password at all (none matches an unusable hash): a shared, printed one would let
    # anyone sign in as every seeded trainee. An admin hands out a reset link to try one.
    joined = cohort.start - timedelta(days=1)
    ids = session.scalars(
        insert(User).returning(User.id, sort_by_parameter_order=True),
        [
            {
                "email": email,
                "display_name": email.split("@")[0].replace("trainee", "Trainee "),
                "password_hash": unusable_password_hash(),
                "role": UserRole.TRAINEE,
                "active": True,
                "created_at": joined,
            }
            for email in emails.values()
        ],
    ).all()
    by_synthetic = dict(zip(emails, ids, strict=True))
    session.execute(
        insert(CohortMember),
        [{"user_id": uid, "cohort_id": group.id, "joined_at": joined} for uid in ids],
    )
    return by_synthetic


def _write_history(
    session: Session, cohort: SyntheticCohort, users: dict[str, int]
) -> tuple[int, int]:
    rows = session.execute(
        select(Exercise.slug, Exercise.id, Exercise.release_sha256, Exercise.notebook_name)
    ).all()
    exercise = {slug: (eid, sha, name) for slug, eid, sha, name in rows}
    kinds = dict(
        ((eid, gid), kind)
        for eid, gid, kind in session.execute(
            select(GradeCell.exercise_id, GradeCell.grade_id, GradeCell.kind)
        )
    )
    points = {e.slug: {c.grade_id: c.max_score for c in e.cells} for e in cohort.exercises}
    submissions = [s for t in cohort.trainees for s in t.submissions]
    params = []
    for number, sub in enumerate(submissions):
        eid, sha, name = exercise[sub.exercise]
        score = sum(score for _, score in sub.cell_scores)
        params.append(
            {
                "user_id": users[sub.trainee],
                "exercise_id": eid,
                "purpose": SubmissionPurpose.GRADE,
                "origin": "seed",
                "idempotency_token": f"seed-{number}",
                "notebook_sha256": sha,
                "notebook_name": name,
                "score": score,
                "max_score": sum(points[sub.exercise].values()),
                "needs_manual_grade": False,
                "flags": [],
                "created_at": sub.at,
                "graded_at": sub.at + timedelta(seconds=20),
            }
        )
    ids = session.scalars(
        insert(Submission).returning(Submission.id, sort_by_parameter_order=True), params
    ).all()
    # Each attempt's status comes from its job: a finished one.
    session.execute(
        insert(GradingJob),
        [
            {
                "submission_id": sid,
                "status": JobStatus.DONE,
                "attempts": 1,
                "queued_at": sub.at,
                "finished_at": sub.at + timedelta(seconds=20),
            }
            for sid, sub in zip(ids, submissions, strict=True)
        ],
    )
    cells = [
        {
            "submission_id": sid,
            "grade_id": grade_id,
            "kind": kinds.get((exercise[sub.exercise][0], grade_id), "test"),
            "score": score,
            "max_score": points[sub.exercise][grade_id],
            "needs_manual_grade": False,
        }
        for sid, sub in zip(ids, submissions, strict=True)
        for grade_id, score in sub.cell_scores
    ]
    session.execute(insert(CellGrade), cells)
    # Synthetic work has no notebook of its own (every row points at the release): each
    # submission gets a fingerprint of its own, as distinct work would.
    session.execute(
        insert(SubmissionFingerprint),
        [
            {
                "submission_id": sid,
                "answer_sha256": hashlib.sha256(f"seed:{sub.submission_id}".encode()).hexdigest(),
            }
            for sid, sub in zip(ids, submissions, strict=True)
        ],
    )
    return len(ids), len(cells)


def _share_and_mark(
    session: Session,
    users: dict[str, int],
    rng: np.random.Generator,
    start: datetime,
    end: datetime,
) -> None:
    """Most trainees share their report at some point; recruiters mark a few of the best."""
    span = (end - start).total_seconds()
    shared = [uid for uid in users.values() if rng.random() < SHARE_SHARE]
    session.add_all(
        ReportShare(
            trainee_id=uid,
            shared=True,
            at=start + timedelta(seconds=float(rng.uniform(0.3, 0.9)) * span),
        )
        for uid in shared
    )
    session.commit()
    recruiter = session.scalar(select(User.id).where(User.role == UserRole.RECRUITER).limit(1))
    cohort = role_readiness.cohort_readiness(session, end, user_ids=shared)
    taken: set[int] = set()
    for role in cohort.roles:
        ready = [
            c
            for c in cohort.ranked(role.id)
            if c.readiness.status == "ready" and c.trainee.id not in taken
        ]
        for status, count in MARKS_PER_ROLE.items():
            for candidate in ready[:count]:
                taken.add(candidate.trainee.id)
                session.add(
                    CandidateMark(
                        trainee_id=candidate.trainee.id,
                        role_id=role.id,
                        status=status,
                        by_user_id=recruiter,
                        at=end - timedelta(days=float(rng.uniform(0.5, 5))),
                    )
                )
            ready = ready[count:]
    session.commit()
