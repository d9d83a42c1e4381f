"""Talent: report-sharing consent, cohorts, recruiters' marks, and the hiring pipeline over time.

Consent comes from the trainee only: their latest choice is the state, and without one nothing
is shared. An admin may set a cohort to *ask* its trainees (a question on their My skills page),
never to share for them. Every change is a new row, never an update, so the history of who
could see what, and since when, is kept.

Aggregates (the pipeline) count only trainees who share their report, as they share it now:
a count over everyone, next to the shared candidates' list, would give away the status of each
trainee who did not share.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from lms.errors import Conflict, Invalid, NotFound
from lms.i18n import N_
from lms.models import (
    Blob,
    CellGrade,
    Exercise,
    ExternalIdentity,
    HiringTarget,
    Role,
    Submission,
    User,
    UserRole,
    utcnow,
)
from lms.models.talent import (
    CandidateMark,
    Cohort,
    CohortMember,
    CohortSharingChange,
    ImportedResult,
    MarkStatus,
    PipelineSnapshot,
    ReportShare,
)
from lms.readiness import score_cohort
from lms.services import audit, names, role_readiness
from lms.services.submissions import trainee_notices

PIPELINE_MARKS = (MarkStatus.SHORTLISTED, MarkStatus.INTERVIEWING, MarkStatus.HIRED)


# --- consent -------------------------------------------------------------------------------


def shared_trainee_ids(
    session: Session, trainee_ids: Collection[int] | None = None, as_of: datetime | None = None
) -> set[int]:
    """The trainees (among these, default all) whose own latest choice, now or as of a moment,
    is to share their report. One query; a cohort's setting never shares anyone."""
    latest = select(func.max(ReportShare.id)).group_by(ReportShare.trainee_id)
    if as_of is not None:
        latest = latest.where(ReportShare.at <= as_of)
    query = select(ReportShare.trainee_id).where(
        ReportShare.id.in_(latest), ReportShare.shared.is_(True)
    )
    if trainee_ids is not None:
        query = query.where(ReportShare.trainee_id.in_(list(trainee_ids)))
    return set(session.scalars(query))


def is_shared(session: Session, trainee_id: int) -> bool:
    """Whether recruiters may see this trainee's report now."""
    return trainee_id in shared_trainee_ids(session, [trainee_id])


def set_sharing(session: Session, trainee_id: int, shared: bool) -> ReportShare:
    """Record the trainee's choice to share (or stop sharing) their report, effective at once."""
    trainee = session.get(User, trainee_id)
    if trainee is None or trainee.role != UserRole.TRAINEE:
        raise Invalid(N_("Only trainees have a readiness report to share."))
    event = ReportShare(trainee_id=trainee_id, shared=shared, at=utcnow())
    session.add(event)
    audit.record(session, "consent.share" if shared else "consent.revoke", trainee_id, trainee_id)
    session.commit()
    return event


def sharing_question(session: Session, trainee_id: int) -> Cohort | None:
    """The trainee's cohort if it asks them to share and they have not answered yet."""
    answered = session.scalar(
        select(ReportShare.id).where(ReportShare.trainee_id == trainee_id).limit(1)
    )
    if answered is not None:
        return None
    return session.scalar(
        select(Cohort)
        .join(CohortMember, CohortMember.cohort_id == Cohort.id)
        .where(CohortMember.user_id == trainee_id, Cohort.default_sharing.is_(True))
    )


@dataclass(frozen=True)
class ConsentEvent:
    """One line of a trainee's consent history."""

    at: datetime
    shared: bool
    # "trainee" (their own choice, the only one that shares) | "cohort" (an admin set whether
    # the cohort asks its trainees; then `shared` says whether it asks)
    source: str
    detail: str = ""


def consent_history(session: Session, trainee_id: int) -> list[ConsentEvent]:
    """The trainee's choices and their cohort's default changes, oldest first."""
    events = [
        ConsentEvent(row.at, row.shared, "trainee")
        for row in session.scalars(select(ReportShare).where(ReportShare.trainee_id == trainee_id))
    ]
    cohort = session.execute(
        select(Cohort)
        .join(CohortMember, CohortMember.cohort_id == Cohort.id)
        .where(CohortMember.user_id == trainee_id)
    ).scalar_one_or_none()
    if cohort is not None:
        events += [
            ConsentEvent(change.at, change.default_sharing, "cohort", cohort.name)
            for change in session.scalars(
                select(CohortSharingChange).where(CohortSharingChange.cohort_id == cohort.id)
            )
        ]
    return sorted(events, key=lambda e: e.at)


# --- cohorts -------------------------------------------------------------------------------


def list_cohorts(session: Session) -> list[tuple[Cohort, int]]:
    """Every cohort with its number of trainees."""
    counts = dict(
        session.execute(
            select(CohortMember.cohort_id, func.count()).group_by(CohortMember.cohort_id)
        ).all()
    )
    return [(c, counts.get(c.id, 0)) for c in session.scalars(select(Cohort).order_by(Cohort.slug))]


def create_cohort(
    session: Session,
    slug: str,
    name: str,
    default_sharing: bool = False,
    by_user_id: int | None = None,
) -> Cohort:
    """Create a cohort (whether it asks its trainees recorded as its first change)."""
    slug = slug.strip().lower()
    if not slug or not slug.replace("-", "").isalnum() or len(slug) > 80:
        raise Invalid(N_("A cohort id is letters, digits and dashes (%(slug)s is not)."), slug=slug)
    if session.scalar(select(Cohort.id).where(Cohort.slug == slug)) is not None:
        raise Conflict(N_("A cohort %(slug)s already exists."), slug=slug)
    cohort = Cohort(slug=slug, name=name.strip() or slug, default_sharing=default_sharing)
    session.add(cohort)
    session.flush()
    session.add(
        CohortSharingChange(
            cohort_id=cohort.id, default_sharing=default_sharing, by_user_id=by_user_id, at=utcnow()
        )
    )
    session.commit()
    return cohort


def set_cohort_default(
    session: Session, cohort_id: int, default_sharing: bool, by_user_id: int | None
) -> Cohort:
    """An admin sets whether the cohort asks its trainees to share (it never shares for them)."""
    cohort = session.get(Cohort, cohort_id)
    if cohort is None:
        raise NotFound(N_("There is no such cohort."))
    cohort.default_sharing = default_sharing
    audit.record(session, "cohort.ask", by_user_id, None, cohort=cohort.slug, asks=default_sharing)
    session.add(
        CohortSharingChange(
            cohort_id=cohort.id, default_sharing=default_sharing, by_user_id=by_user_id, at=utcnow()
        )
    )
    session.commit()
    return cohort


def add_members(session: Session, cohort_id: int, emails: Iterable[str]) -> int:
    """Put these trainees in the cohort (moving them from another); all or nothing."""
    wanted = sorted({e.strip().lower() for e in emails if e.strip()})
    if session.get(Cohort, cohort_id) is None:
        raise NotFound(N_("There is no such cohort."))
    found = dict(
        session.execute(
            select(User.email, User.id).where(User.email.in_(wanted), User.role == UserRole.TRAINEE)
        ).all()
    )
    missing = [e for e in wanted if e not in found]
    if missing:
        raise Invalid(
            N_("No trainee account for: %(emails)s. Nothing was changed."),
            emails=", ".join(missing),
        )
    ids = list(found.values())
    session.execute(delete(CohortMember).where(CohortMember.user_id.in_(ids)))
    session.add_all(
        CohortMember(user_id=uid, cohort_id=cohort_id, joined_at=utcnow()) for uid in ids
    )
    session.commit()
    return len(ids)


# --- marks ---------------------------------------------------------------------------------


def mark_candidate(
    session: Session, trainee_id: int, role_id: str, status: MarkStatus | str, by_user_id: int
) -> CandidateMark:
    """A recruiter marks a candidate who shared their report (shortlisted/interviewing/hired)."""
    try:
        status = MarkStatus(status)
    except ValueError:
        raise Invalid(
            N_("Unknown mark %(mark)s: use one of %(marks)s."),
            mark=status,
            marks=", ".join(m.value for m in MarkStatus),
        ) from None
    if session.get(Role, role_id) is None:
        raise NotFound(N_("There is no role %(role)s."), role=role_id)
    if not is_shared(session, trainee_id):
        raise NotFound(N_("This trainee has not shared their report."))
    mark = CandidateMark(
        trainee_id=trainee_id, role_id=role_id, status=status, by_user_id=by_user_id, at=utcnow()
    )
    session.add(mark)
    session.commit()
    return mark


def current_marks(
    session: Session, role_id: str | None = None, as_of: datetime | None = None
) -> dict[tuple[int, str], CandidateMark]:
    """The latest mark per (trainee, role), as of a moment (cleared marks left out). One query."""
    query = select(CandidateMark).order_by(CandidateMark.at, CandidateMark.id)
    if role_id is not None:
        query = query.where(CandidateMark.role_id == role_id)
    if as_of is not None:
        query = query.where(CandidateMark.at <= as_of)
    latest = {(m.trainee_id, m.role_id): m for m in session.scalars(query)}
    return {key: m for key, m in latest.items() if m.status != MarkStatus.CLEARED}


def mark_history(session: Session, trainee_id: int) -> list[tuple[CandidateMark, str]]:
    """Every mark on a trainee, oldest first, with who made it."""
    rows = session.execute(
        select(CandidateMark, User.email)
        .outerjoin(User, User.id == CandidateMark.by_user_id)
        .where(CandidateMark.trainee_id == trainee_id)
        .order_by(CandidateMark.at, CandidateMark.id)
    )
    return [(mark, email or "?") for mark, email in rows]


# --- pipeline ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PipelineCounts:
    """One role's pipeline: trainees by readiness status and by mark, against the plan.

    `trainees` and the statuses count distinct people who share their report and are not hired
    yet (a hired trainee is in `hired`); close to ready (`almost`) is "one skill short" or "more
    evidence needed"; `not_enough_evidence` includes stale evidence."""

    role_id: str
    role_name: str
    trainees: int
    ready: int
    almost: int
    not_ready: int
    not_enough_evidence: int
    shortlisted: int
    interviewing: int
    hired: int
    wanted: int
    wanted_by: date | None

    @property
    def not_yet(self) -> int:
        """Not ready, or not enough evidence to tell."""
        return self.not_ready + self.not_enough_evidence


def target_roles(session: Session) -> list[Role]:
    """Every target role with its required skills loaded (one query for all), by id."""
    return list(session.scalars(select(Role).order_by(Role.id).options(selectinload(Role.skills))))


def hiring_plan(session: Session) -> dict[str, tuple[int, date | None]]:
    """Role id -> (hires wanted, latest deadline)."""
    plan: dict[str, tuple[int, date | None]] = {}
    for target in session.scalars(select(HiringTarget)):
        count, by = plan.get(target.role_id, (0, None))
        plan[target.role_id] = (count + target.count, max(filter(None, (by, target.by))))
    return plan


def pipeline(
    session: Session,
    cohort: role_readiness.CohortReadiness | None = None,
    language: str = "en",
) -> list[PipelineCounts]:
    """Every role's pipeline now, in a constant number of queries (marks as they stand now),
    with the roles named in `language`."""
    cohort = cohort or role_readiness.cohort_readiness(session)
    shared = shared_trainee_ids(session)
    marks = {key: m for key, m in current_marks(session).items() if key[0] in shared}
    return _counts(
        session, cohort.roles, _in_pipeline(cohort.by_trainee, shared, marks), marks, language
    )


def _in_pipeline(
    by_trainee: dict[int, dict[str, Any]],
    shared: set[int],
    marks: dict[tuple[int, str], CandidateMark],
) -> dict[int, dict[str, Any]]:
    """Who the pipeline counts: distinct trainees who share their report, not yet hired."""
    hired = {tid for (tid, _), mark in marks.items() if mark.status == MarkStatus.HIRED}
    return {tid: scores for tid, scores in by_trainee.items() if tid in shared and tid not in hired}


def _counts(
    session: Session,
    roles: list,
    by_trainee: dict[int, dict[str, Any]],
    marks: dict[tuple[int, str], CandidateMark],
    language: str = "en",
) -> list[PipelineCounts]:
    plan = hiring_plan(session)
    role_names = names.role_names(session, language)
    result = []
    for role in roles:
        statuses = Counter(scores[role.id].status for scores in by_trainee.values())
        marked = Counter(m.status for (_, rid), m in marks.items() if rid == role.id)
        wanted, by = plan.get(role.id, (0, None))
        result.append(
            PipelineCounts(
                role.id,
                role_names.get(role.id, role.id),
                len(by_trainee),
                statuses["ready"],
                # Close to ready: one skill short, or every estimate on target but not yet sure.
                statuses["one skill short"] + statuses["more evidence needed"],
                statuses["not ready"],
                statuses["not enough evidence"] + statuses["stale"],
                marked[MarkStatus.SHORTLISTED],
                marked[MarkStatus.INTERVIEWING],
                marked[MarkStatus.HIRED],
                wanted,
                by,
            )
        )
    return result


def record_snapshots(session: Session, days: Iterable[date]) -> int:
    """Store each role's pipeline as of the end of each day, from the evidence of that time.

    The evidence is read once; readiness is recomputed per day (the model ignores later work),
    so a back-filled history is what the pipeline page would have shown on that day.
    """
    roles = role_readiness.load_roles(session)
    trainees = role_readiness.list_trainees(session)
    evidence = role_readiness.load_evidence(session)
    shared_now = shared_trainee_ids(session, trainees)
    per_trainee = {tid: evidence.get(tid, ()) for tid in trainees if tid in shared_now}
    # Every consent change once (not a query per day): replayed up to each day below.
    choices = session.execute(
        select(ReportShare.trainee_id, ReportShare.shared, ReportShare.at).order_by(ReportShare.id)
    ).all()
    joined = dict(
        session.execute(select(User.id, User.created_at).where(User.id.in_(list(trainees)))).all()
    )
    all_marks = list(
        session.scalars(select(CandidateMark).order_by(CandidateMark.at, CandidateMark.id))
    )
    stored = 0
    for day in sorted(set(days)):
        moment = datetime.combine(day, time.max, tzinfo=UTC)
        # Only people who had joined and shared by then count (and still share today).
        state = {tid: shared for tid, shared, at in choices if at <= moment}
        sharing = {tid for tid, shared in state.items() if shared}
        present = {
            tid: ev for tid, ev in per_trainee.items() if joined[tid] <= moment and tid in sharing
        }
        scored = score_cohort(present, roles, moment)
        latest = {
            (m.trainee_id, m.role_id): m
            for m in all_marks
            if m.at <= moment and m.trainee_id in present
        }
        marks = {k: m for k, m in latest.items() if m.status != MarkStatus.CLEARED}
        session.execute(delete(PipelineSnapshot).where(PipelineSnapshot.day == day))
        counted = _in_pipeline(scored, sharing, marks)
        for counts in _counts(session, roles, counted, marks):
            session.add(
                PipelineSnapshot(
                    role_id=counts.role_id,
                    day=day,
                    trainees=counts.trainees,
                    ready=counts.ready,
                    almost=counts.almost,
                    not_ready=counts.not_ready,
                    not_enough_evidence=counts.not_enough_evidence,
                    shortlisted=counts.shortlisted,
                    interviewing=counts.interviewing,
                    hired=counts.hired,
                )
            )
            stored += 1
    session.commit()
    return stored


def pipeline_history(session: Session, role_id: str, days: int = 365) -> list[PipelineSnapshot]:
    """A role's stored daily snapshots over the last `days` days, oldest first."""
    since = utcnow().date() - timedelta(days=days)
    return list(
        session.scalars(
            select(PipelineSnapshot)
            .where(PipelineSnapshot.role_id == role_id, PipelineSnapshot.day >= since)
            .order_by(PipelineSnapshot.day)
        )
    )


def pipeline_series(
    session: Session, now: PipelineCounts, days: int = 365
) -> list[PipelineSnapshot]:
    """The stored history of a role's pipeline, ending with today's live figures."""
    today = utcnow().date()
    history = [s for s in pipeline_history(session, now.role_id, days) if s.day != today]
    # Not added to the session: today's point is shown, not stored (`lms snapshot-pipeline`).
    return history + [
        PipelineSnapshot(
            role_id=now.role_id,
            day=today,
            trainees=now.trainees,
            ready=now.ready,
            almost=now.almost,
            not_ready=now.not_ready,
            not_enough_evidence=now.not_enough_evidence,
            shortlisted=now.shortlisted,
            interviewing=now.interviewing,
            hired=now.hired,
        )
    ]


# --- a trainee's own data ------------------------------------------------------------------


def export_trainee_data(session: Session, trainee_id: int) -> dict[str, Any]:
    """Everything we hold about a trainee, as JSON-ready data (their right to a copy)."""
    user = session.get(User, trainee_id)
    if user is None:
        raise NotFound(N_("There is no such account."))
    submissions = list(
        session.scalars(
            select(Submission).where(Submission.user_id == trainee_id).order_by(Submission.id)
        )
    )
    # The notebooks they handed in, as they sent them (never the graded copy: hidden tests).
    notebooks = dict(
        session.execute(
            select(Blob.sha256, Blob.data).where(
                Blob.sha256.in_({s.notebook_sha256 for s in submissions})
            )
        ).all()
    )
    cells = {}
    for cell in session.scalars(
        select(CellGrade).join(Submission).where(Submission.user_id == trainee_id)
    ):
        cells.setdefault(cell.submission_id, []).append(cell.to_json())
    slugs = dict(session.execute(select(Exercise.id, Exercise.slug)).all())
    imported = session.scalars(
        select(ImportedResult)
        .where(ImportedResult.user_id == trainee_id)
        .order_by(ImportedResult.id)
    )
    readiness = role_readiness.trainee_readiness(session, trainee_id)
    return {
        "account": {
            "email": user.email,
            "name": user.display_name,
            "role": user.role.value,
            "locale": user.locale,
            "created_at": user.created_at.isoformat(),
            # Who they are at their organisation's OpenID Connect provider, if linked.
            "identities": [
                {"issuer": i.issuer, "subject": i.subject, "linked_at": i.created_at.isoformat()}
                for i in session.scalars(
                    select(ExternalIdentity)
                    .where(ExternalIdentity.user_id == trainee_id)
                    .order_by(ExternalIdentity.id)
                )
            ],
        },
        "submissions": [
            {
                "id": s.id,
                "exercise": slugs.get(s.exercise_id),
                "purpose": s.purpose.value,
                "status": s.status.value,
                "score": s.score,
                "max_score": s.max_score,
                "created_at": s.created_at.isoformat(),
                # never the grader's flags: they can tell where hidden tests are
                "notices": trainee_notices(s.flags),
                "cells": cells.get(s.id, []),
                "notebook_name": s.notebook_name,
                "notebook": notebooks.get(s.notebook_sha256, b"").decode("utf-8", "replace"),
            }
            for s in submissions
        ],
        "imported_results": [
            {
                "exercise": slugs.get(r.exercise_id),
                "grade_id": r.grade_id,
                "score": r.score,
                "max_score": r.max_score,
                "kind": r.kind,
                "submitted_at": r.submitted_at.isoformat(),
            }
            for r in imported
        ],
        "consent": [
            {"at": e.at.isoformat(), "shared": e.shared, "source": e.source, "detail": e.detail}
            for e in consent_history(session, trainee_id)
        ],
        "shared_now": is_shared(session, trainee_id),
        "marks": [
            {"role": m.role_id, "status": m.status.value, "at": m.at.isoformat()}
            for m, _ in mark_history(session, trainee_id)
        ],
        "readiness": [r.as_json() for r in readiness.values()],
    }
