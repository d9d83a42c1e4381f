"""Readiness from the database: graded cells -> Evidence -> lms.readiness, in set-based queries.

Every function here issues a fixed number of SQL queries whatever the number of trainees: the
whole cohort's graded cells are read in one query per source (our submissions, imported results)
and grouped in Python, never one query per trainee.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from lms import readiness
from lms.models import (
    CellGrade,
    Exercise,
    GradeCell,
    GradeCellSkill,
    Role,
    Skill,
    Submission,
    SubmissionPurpose,
    SubmissionStatus,
    User,
    UserRole,
    utcnow,
)
from lms.models.evidence import FlagClearance, SubmissionFingerprint
from lms.models.talent import ImportedResult
from lms.readiness import Evidence, RoleReadiness
from lms.readiness.evidence import is_blocking_flag
from lms.services import evidence_integrity, readiness_cache


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
    flags: tuple[evidence_integrity.EvidenceFlag, ...] = ()

    def flags_json(self) -> dict[str, Any]:
        """Integrity and copy flags on the trainee's graded work, and whether the role's
        evidence is stale."""
        return {
            "integrity": [f.as_json() for f in self.flags if f.kind == "integrity"],
            "copy": [f.as_json() for f in self.flags if f.kind == "copy"],
            "stale": self.readiness.stale,
        }

    def as_json(self) -> dict[str, Any]:
        """The shape `lms readiness --json` and the API print: the e-mail, the figures, flags."""
        return {"email": self.trainee.email, **self.readiness.as_json(), "flags": self.flags_json()}


@dataclass(frozen=True)
class CohortReadiness:
    """Every trainee's readiness for every role, as of one moment."""

    as_of: datetime
    roles: list[readiness.Role]
    trainees: dict[int, Trainee]
    by_trainee: dict[int, dict[str, RoleReadiness]]
    flags: dict[int, list[evidence_integrity.EvidenceFlag]] = field(default_factory=dict)

    def ranked(self, role_id: str) -> list[CandidateReadiness]:
        """Trainees best first for `role_id`: score, then lower bound, then e-mail."""
        entries = [
            CandidateReadiness(self.trainees[tid], roles[role_id], tuple(self.flags.get(tid, ())))
            for tid, roles in self.by_trainee.items()
        ]
        return sorted(
            entries, key=lambda e: (-e.readiness.score, -e.readiness.low, e.trainee.email)
        )


def load_roles(session: Session, role_ids: Collection[str] | None = None) -> list[readiness.Role]:
    """The target roles as the readiness model takes them (roles with no skill are left out)."""
    query = select(Role).order_by(Role.id).options(selectinload(Role.skills))
    if role_ids is not None:
        query = query.where(Role.id.in_(list(role_ids)))
    names = dict(session.execute(select(Skill.id, Skill.name)).all())
    return [
        readiness.Role(
            id=row.id,
            name=row.name,
            skills=tuple(
                readiness.RoleSkill(
                    s.skill_id, s.level, s.weight, s.critical, names.get(s.skill_id, s.skill_id)
                )
                for s in row.skills
            ),
        )
        for row in session.scalars(query)
        if row.skills
    ]


def list_trainees(session: Session, user_ids: Collection[int] | None = None) -> dict[int, Trainee]:
    """Active trainees (optionally only these ids), by id."""
    query = select(User.id, User.email, User.display_name).where(
        User.role == UserRole.TRAINEE, User.active.is_(True)
    )
    wanted = None if user_ids is None else set(user_ids)
    if wanted is not None and len(wanted) <= _IDS_IN_SQL:
        query = query.where(User.id.in_(list(wanted)))
    return {
        uid: Trainee(uid, email, name or email)
        for uid, email, name in session.execute(query.order_by(User.email))
        if wanted is None or uid in wanted
    }


# Scoring at least this many trainees in one call sets the figures apart from the collector.
_COLLECT_AFTER = 200
# Longer lists of trainee ids are matched here rather than sent in the SQL: a thousand-id IN
# costs more to build, send and plan than the rows it leaves out.
_IDS_IN_SQL = 200


def load_evidence(
    session: Session, user_ids: Collection[int] | None = None
) -> dict[int, list[Evidence]]:
    """Every graded cell of these trainees (default: all), as Evidence, by trainee id.

    A fixed number of queries: exercises, cells' skill counts, our graded submissions (with
    their fingerprints and clearances), their cells (with the cells' skills), and results
    imported from other systems. The exercise's kind is the catalogue's, whatever the source.
    Attempts are numbered per trainee and exercise across both sources, in date order.
    """
    # An assessment's retake counts after the catalogue's cool-down (none: never).
    exercises = {
        eid: (slug, str(kind), retake)
        for eid, slug, kind, retake in session.execute(
            select(Exercise.id, Exercise.slug, Exercise.kind, Exercise.retake_after_days)
        )
    }
    skill_counts = dict(
        session.execute(
            select(GradeCellSkill.grade_cell_id, func.count()).group_by(
                GradeCellSkill.grade_cell_id
            )
        ).all()
    )
    graded = (
        Submission.purpose == SubmissionPurpose.GRADE,
        Submission.status == SubmissionStatus.GRADED,
    )
    cleared = set(session.scalars(select(FlagClearance.submission_id)))
    # Submissions apart from their cells: a timestamp is converted once per submission, not
    # once per (cell, skill) row, which is most of the cost of reading a large cohort.
    submissions = {
        sid: (uid, eid, at, fingerprint, _blocked(flags) and sid not in cleared)
        for sid, uid, eid, at, fingerprint, flags in session.execute(
            _for_trainees(
                select(
                    Submission.id,
                    Submission.user_id,
                    Submission.exercise_id,
                    Submission.created_at,
                    SubmissionFingerprint.answer_sha256,
                    Submission.flags,
                )
                .outerjoin(
                    SubmissionFingerprint, SubmissionFingerprint.submission_id == Submission.id
                )
                .where(*graded),
                Submission.user_id,
                user_ids,
            )
        )
    }
    cells = session.execute(
        _for_trainees(
            select(
                CellGrade.submission_id,
                CellGrade.grade_id,
                CellGrade.score,
                CellGrade.max_score,
                GradeCellSkill.skill_id,
                GradeCell.id,
            )
            .join(Submission, Submission.id == CellGrade.submission_id)
            .join(
                GradeCell,
                (GradeCell.exercise_id == Submission.exercise_id)
                & (GradeCell.grade_id == CellGrade.grade_id),
            )
            .join(GradeCellSkill, GradeCellSkill.grade_cell_id == GradeCell.id)
            # A hand-graded cell not graded yet says nothing about the skill.
            .where(*graded, CellGrade.needs_manual_grade.is_(False), CellGrade.max_score > 0),
            Submission.user_id,
            user_ids,
        )
    )
    rows = []
    for sid, grade_id, score, max_score, skill, cell_id in cells:
        uid, eid, at, fingerprint, flagged = submissions[sid]
        slug, kind, retake = exercises[eid]
        rows.append(
            (
                ("submission", sid),
                uid,
                slug,
                kind,
                at,
                grade_id,
                score,
                max_score,
                skill,
                skill_counts.get(cell_id, 1),
                fingerprint,
                flagged,
                retake,
            )
        )
    imported = (
        select(
            ImportedResult.user_id,
            ImportedResult.exercise_id,
            ImportedResult.submitted_at,
            ImportedResult.grade_id,
            ImportedResult.score,
            ImportedResult.max_score,
            GradeCellSkill.skill_id,
            GradeCell.id,
        )
        .join(
            GradeCell,
            (GradeCell.exercise_id == ImportedResult.exercise_id)
            & (GradeCell.grade_id == ImportedResult.grade_id),
        )
        .join(GradeCellSkill, GradeCellSkill.grade_cell_id == GradeCell.id)
        .where(ImportedResult.max_score > 0)
    )
    rows += [
        (
            ("import", at),
            uid,
            exercises[eid][0],
            exercises[eid][1],
            at,
            grade_id,
            score,
            max_score,
            skill,
            skill_counts.get(cell_id, 1),
            None,
            False,
            exercises[eid][2],
        )
        for uid, eid, at, grade_id, score, max_score, skill, cell_id in session.execute(
            _for_trainees(imported, ImportedResult.user_id, user_ids)
        )
    ]
    return _to_evidence(rows)


def _blocked(flags: list[str] | None) -> bool:
    return any(is_blocking_flag(str(flag)) for flag in flags or ())


def _for_trainees(query: Select, user_column: Any, user_ids: Collection[int] | None) -> Select:
    if user_ids is not None:
        return query.where(user_column.in_(list(user_ids)))
    return query.join(User, User.id == user_column).where(User.role == UserRole.TRAINEE)


def _to_evidence(rows: list[tuple]) -> dict[int, list[Evidence]]:
    """Rows (result key, user, exercise, kind, at, grade id, score, max, skill, skills of the
    cell, fingerprint, flagged, retake days) to Evidence."""
    dates: dict[tuple[int, str], dict[tuple, datetime]] = defaultdict(dict)
    for key, uid, slug, _kind, at, *_ in rows:
        dates[(uid, slug)].setdefault(key, at)
    attempts = {
        (uid, slug, key): number
        for (uid, slug), results in dates.items()
        for number, key in enumerate(sorted(results, key=lambda k: (results[k], str(k))), 1)
    }
    evidence: dict[int, list[Evidence]] = defaultdict(list)
    for (
        key,
        uid,
        slug,
        kind,
        at,
        grade_id,
        score,
        max_score,
        skill,
        cell_skills,
        fingerprint,
        flagged,
        retake,
    ) in rows:
        attempt = attempts[(uid, slug, key)]
        evidence[uid].append(
            Evidence(
                skill=skill,
                # A hand-entered grade above the points counts as full marks, not as an error.
                score=min(max(score, 0.0), max_score),
                max_score=max_score,
                at=at,
                kind=kind,
                exercise=slug,
                attempt=attempt,
                # Every graded attempt shows its feedback, so any later attempt has seen some.
                after_feedback=attempt > 1,
                grade_id=grade_id,
                submission_id=key[1] if key[0] == "submission" else f"import:{at.isoformat()}",
                cell_skills=cell_skills,
                fingerprint=fingerprint,
                flagged=flagged,
                retake_after_days=retake,
            )
        )
    return evidence


def load_difficulties(session: Session) -> dict[tuple[str, str], float]:
    """Each cell's difficulty, fitted jointly with the cohort's abilities from every trainee's
    first counted attempts (lms/readiness/difficulty.py), anchored per skill."""
    return readiness.cohort_difficulties(load_evidence(session))


cache = readiness_cache.TraineeCache()


def cohort_readiness(
    session: Session,
    as_of: datetime | None = None,
    user_ids: Collection[int] | None = None,
    role_ids: Collection[str] | None = None,
) -> CohortReadiness:
    """Every trainee's (or these trainees') readiness for every role (or these roles).

    Without `as_of` (now), the figures come from the per-trainee cache
    (lms/services/readiness_cache.py): only trainees whose evidence changed are scored again.
    """
    if as_of is not None:
        return _compute(session, as_of, user_ids, role_ids)
    now = utcnow()
    store = cache.store(
        (str(session.get_bind().url), id(session.get_bind())),
        readiness_cache.shared_version(session),
        now,
        lambda: load_difficulties(session),
    )
    trainees = list_trainees(session, user_ids)
    top_id = session.scalar(select(func.max(Submission.id))) or 0
    missing, refresh, since = cache.to_check(store, trainees, now, top_id)
    # New graded notebooks get their fingerprint (and copy check) before anything is counted:
    # those graded or stored since the last look (all of them on the first).
    evidence_integrity.fingerprint_new_submissions(session, since)
    check = missing | refresh
    # A first look reads everyone; what the next look's margin will find again is counted now.
    recent = readiness_cache.recent_changes(session, *(since or (now - cache.lookback, top_id)))
    recent = {tid: keys for tid, keys in recent.items() if tid in trainees}
    if since is not None:
        check |= cache.unseen(store, recent)
    else:
        check = set(trainees)
    whole = user_ids is None and len(check) == len(trainees)
    known = readiness_cache.trainee_versions(session, None if whole else check) if check else {}
    versions = {tid: known.get(tid) for tid in check}
    with store.computing:
        wanted = cache.changed(store, versions, refresh)
        everyone = load_roles(session)
        if wanted:
            # Everyone at once (a cold start) reads the cohort without a list of ids.
            scored, flags = _score(
                session,
                now,
                {tid: trainees[tid] for tid in wanted},
                everyone,
                None if whole and len(wanted) == len(trainees) else wanted,
                store.epoch.difficulties,
            )
            cache.put(
                store,
                {
                    tid: readiness_cache.Entry(
                        versions[tid] if tid in versions else store.entries[tid].version,
                        store.epoch.number,
                        now,
                        scored[tid],
                        tuple(flags.get(tid, ())),
                    )
                    for tid in wanted
                },
            )
        # Everyone in `recent` is now current with evidence read after it.
        cache.saw(store, recent)
    if len(wanted) >= _COLLECT_AFTER:
        # The figures just built (~250 objects per trainee) live as long as the process, and
        # each of the collector's full passes, every few requests, would walk them all: half a
        # second at 2,000 trainees, in whichever page it falls. Collected once here, then kept
        # out of those passes (gc.freeze); they hold no reference cycle, so figures replaced
        # later are still freed at once.
        gc.collect()
        gc.freeze()
    entries = cache.entries(store, trainees)
    roles = [r for r in everyone if role_ids is None or r.id in role_ids]
    return CohortReadiness(
        min((entry.as_of for entry in entries.values()), default=now),
        roles,
        trainees,
        {tid: {r.id: entry.readiness[r.id] for r in roles} for tid, entry in entries.items()},
        {tid: list(entry.flags) for tid, entry in entries.items() if entry.flags},
    )


def _compute(
    session: Session,
    moment: datetime,
    user_ids: Collection[int] | None,
    role_ids: Collection[str] | None,
) -> CohortReadiness:
    """The figures computed from scratch, as of `moment`."""
    # New graded notebooks get their fingerprint (and copy check) before anything is counted.
    evidence_integrity.fingerprint_new_submissions(session)
    roles = load_roles(session, role_ids)
    trainees = list_trainees(session, user_ids)
    scored, flags = _score(session, moment, trainees, roles, user_ids, load_difficulties(session))
    return CohortReadiness(moment, roles, trainees, scored, flags)


def _score(
    session: Session,
    moment: datetime,
    trainees: Mapping[int, Trainee],
    roles: list[readiness.Role],
    user_ids: Collection[int] | None,
    difficulties: Mapping[tuple[str, str], float],
) -> tuple[dict[int, dict[str, RoleReadiness]], dict[int, list]]:
    """These trainees' figures and flags (`user_ids`: whose evidence to read, None for all)."""
    evidence = load_evidence(session, user_ids)
    scored = readiness.score_cohort(
        {tid: evidence.get(tid, ()) for tid in trainees}, roles, moment, difficulties=difficulties
    )
    return scored, evidence_integrity.flags_by_trainee(session, user_ids)


def role_readiness(
    session: Session,
    role_id: str,
    as_of: datetime | None = None,
    user_ids: Collection[int] | None = None,
) -> list[CandidateReadiness] | None:
    """Trainees (all, or these) best first for one role (None if the role does not exist)."""
    cohort = cohort_readiness(session, as_of, user_ids, role_ids=[role_id])
    if role_id not in {role.id for role in cohort.roles}:
        return None
    return cohort.ranked(role_id)


def trainee_readiness(
    session: Session, user_id: int, as_of: datetime | None = None
) -> dict[str, RoleReadiness]:
    """One trainee's readiness for every role, by role id (empty if not a trainee)."""
    cohort = cohort_readiness(session, as_of, user_ids=[user_id])
    return cohort.by_trainee.get(user_id, {})
