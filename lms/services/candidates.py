"""What recruiters see of candidates: the filtered list per role and one candidate's report.

Only trainees who shared their report appear; everything is loaded in a constant number of
queries, whatever the number of candidates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.models import (
    Blob,
    CellGrade,
    Exercise,
    Role,
    Submission,
    SubmissionPurpose,
    SubmissionStatus,
)
from lms.models.talent import CandidateMark
from lms.readiness import STATUSES, RoleReadiness
from lms.services import evidence_integrity, names, role_readiness, talent
from lms.services.notebooks import NotebookRejected, parse_notebook

SORTS = ("readiness", "low", "skill", "email")


@dataclass(frozen=True)
class CandidateFilter:
    """How the list is narrowed and ordered (all optional)."""

    status: str | None = None
    min_readiness: float | None = None
    skill: str | None = None  # sort by, and show, this skill's mastery
    min_skill: float | None = None
    sort: str = "readiness"


@dataclass(frozen=True)
class CandidateRow:
    """One line of the candidate list."""

    candidate: role_readiness.CandidateReadiness
    mark: CandidateMark | None
    skill_mastery: float | None = None

    @property
    def readiness(self) -> RoleReadiness:
        """The candidate's readiness for the list's role."""
        return self.candidate.readiness


@dataclass(frozen=True)
class CandidateList:
    """A role's shared candidates after filtering, with what the filters may choose from."""

    role: Role
    rows: list[CandidateRow]
    skills: list[str]
    hidden: int  # trainees who did not share their report (counted, never shown)


def candidate_list(
    session: Session, role_id: str, filters: CandidateFilter = CandidateFilter()
) -> CandidateList | None:
    """The shared candidates for a role, filtered and sorted (None if no such role)."""
    role = session.get(Role, role_id)
    if role is None:
        return None
    everyone = role_readiness.list_trainees(session)
    # Everyone's consent, then kept to the active trainees (no list of thousands of ids sent).
    shared = talent.shared_trainee_ids(session) & set(everyone)
    ranked = role_readiness.role_readiness(session, role_id, user_ids=shared) or []
    marks = talent.current_marks(session, role_id)
    skills = sorted(s.skill_id for s in role.skills)
    rows = []
    for entry in ranked:
        r = entry.readiness
        line = next((s for s in r.skills if s.skill == filters.skill), None)
        if filters.status and r.status != filters.status:
            continue
        if filters.min_readiness is not None and r.score < filters.min_readiness:
            continue
        if filters.min_skill is not None and (line is None or line.mastery < filters.min_skill):
            continue
        rows.append(
            CandidateRow(
                entry, marks.get((entry.trainee.id, role_id)), line.mastery if line else None
            )
        )
    keys = {
        "readiness": lambda row: (-row.readiness.score, -row.readiness.low),
        "low": lambda row: (-row.readiness.low, -row.readiness.score),
        "skill": lambda row: (-(row.skill_mastery or 0.0), -row.readiness.score),
        "email": lambda row: (row.candidate.trainee.email,),
    }
    rows.sort(key=keys.get(filters.sort, keys["readiness"]))
    return CandidateList(role, rows, skills, len(everyone) - len(shared))


def parse_filter(args: Mapping[str, str]) -> CandidateFilter:
    """A filter from query-string values; anything unknown or malformed is ignored."""

    def fraction(name: str) -> float | None:
        try:
            value = float(args.get(name, ""))
        except ValueError:
            return None
        return value if 0 <= value <= 1 else None

    status = args.get("status") if args.get("status") in STATUSES else None
    sort = args.get("sort") if args.get("sort") in SORTS else "readiness"
    return CandidateFilter(
        status, fraction("min_readiness"), args.get("skill") or None, fraction("min_skill"), sort
    )


@dataclass(frozen=True)
class EvidenceLine:
    """One piece of evidence as a report shows it."""

    exercise: str
    exercise_title: str
    grade_id: str
    attempt: int
    at: datetime
    kind: str
    score: float
    max_score: float
    weight: float
    submission_id: str | int | None


@dataclass(frozen=True)
class CandidateReport:
    """A shared candidate's readiness for every role, with the evidence behind each number."""

    trainee: role_readiness.Trainee
    as_of: datetime
    roles: dict[str, str]  # id -> name
    readiness: dict[str, RoleReadiness]
    skill_names: dict[str, str]
    evidence: dict[str, list[EvidenceLine]]  # skill id -> its evidence, newest first
    marks: list[tuple[CandidateMark, str]] = field(default_factory=list)
    flags: list[evidence_integrity.EvidenceFlag] = field(default_factory=list)


def candidate_report(
    session: Session, trainee_id: int, *, require_shared: bool = True, language: str = "en"
) -> CandidateReport | None:
    """A trainee's report (None if no such trainee, or not shared when sharing is required),
    with the names of roles, skills and exercises in `language`."""
    if require_shared and not talent.is_shared(session, trainee_id):
        return None
    cohort = role_readiness.cohort_readiness(session, user_ids=[trainee_id])
    if trainee_id not in cohort.trainees:
        return None
    titles = names.exercise_titles(session, language)
    by_role = cohort.by_trainee[trainee_id]
    evidence: dict[str, list[EvidenceLine]] = {}
    for result in by_role.values():
        for line in result.skills:
            if line.skill in evidence:
                continue
            evidence[line.skill] = sorted(
                (
                    EvidenceLine(
                        ev.exercise,
                        titles.get(ev.exercise, ev.exercise),
                        ev.grade_id,
                        ev.attempt,
                        ev.at,
                        ev.kind,
                        ev.score,
                        ev.max_score,
                        weight,
                        ev.submission_id,
                    )
                    for ev, weight in line.weighted_evidence()
                ),
                key=lambda e: e.at,
                reverse=True,
            )
    role_names = names.role_names(session, language)
    return CandidateReport(
        trainee=cohort.trainees[trainee_id],
        as_of=cohort.as_of,
        roles={r.id: role_names.get(r.id, r.id) for r in cohort.roles},
        readiness=by_role,
        skill_names=names.skill_names(session, language),
        evidence=evidence,
        marks=talent.mark_history(session, trainee_id),
        flags=cohort.flags.get(trainee_id, []),
    )


@dataclass(frozen=True)
class SharedWork:
    """One graded submission behind a shared candidate's evidence: the notebook as handed in
    (the trainee's code and the outputs they saw, which never hold hidden tests: the release
    has none) and the score of each graded cell."""

    trainee: role_readiness.Trainee
    submission: Submission
    exercise_title: str
    notebook: dict
    cells: list[CellGrade]
    flags: list[evidence_integrity.EvidenceFlag]


def shared_work(session: Session, trainee_id: int, submission_id: int) -> SharedWork | None:
    """A graded submission of a trainee who shared their report (None otherwise: not shared,
    not theirs, not graded, or not a graded attempt)."""
    if not talent.is_shared(session, trainee_id):
        return None
    trainee = role_readiness.list_trainees(session, [trainee_id]).get(trainee_id)
    submission = session.get(Submission, submission_id)
    if (
        trainee is None
        or submission is None
        or submission.user_id != trainee_id
        or submission.purpose is not SubmissionPurpose.GRADE
        or submission.status is not SubmissionStatus.GRADED
    ):
        return None
    data = session.scalar(select(Blob.data).where(Blob.sha256 == submission.notebook_sha256))
    try:
        notebook = parse_notebook(data or b"")
    except NotebookRejected:
        notebook = {"cells": []}
    flags = [
        flag
        for flag in evidence_integrity.flags_by_trainee(session, [trainee_id]).get(trainee_id, [])
        if flag.submission_id == submission_id
    ]
    return SharedWork(
        trainee,
        submission,
        session.scalar(select(Exercise.title).where(Exercise.id == submission.exercise_id)) or "",
        notebook,
        sorted(submission.cells, key=lambda cell: cell.grade_id),
        flags,
    )
