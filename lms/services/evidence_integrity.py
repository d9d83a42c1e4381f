"""Evidence integrity: fingerprints of graded notebooks, copies across trainees, clearances.

A graded notebook's fingerprint (lms/readiness/fingerprint.py) lets readiness count a re-sent
notebook once. The same fingerprint on two trainees' submissions of one exercise is a copy: both
submissions get a flag `copy:<other submission id>:<similarity>` for staff to review, and count
toward readiness only once an instructor clears them (as for tampering and the other blocking
flags). A near-copy (the same code under other names, comments or spacing; see
lms/readiness/similarity.py) gets the same flag with its similarity figure. The untouched
release notebook is not a copy of anyone's: it is no work at all.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lms.database import begin_write
from lms.errors import Forbidden, NotFound
from lms.i18n import N_
from lms.models import (
    Blob,
    Exercise,
    ExerciseVariant,
    Submission,
    SubmissionPurpose,
    SubmissionStatus,
    User,
    utcnow,
)
from lms.models.accounts import STAFF_ROLES
from lms.models.evidence import FlagClearance, SubmissionFingerprint
from lms.readiness import similarity
from lms.readiness.evidence import is_blocking_flag
from lms.readiness.fingerprint import notebook_fingerprint

STAFF = STAFF_ROLES


def fingerprint_new_submissions(session: Session, since: tuple[datetime, int] | None = None) -> int:
    """Fingerprint graded submissions that have none yet (if `since` (time, id) is given, only
    those graded since that time or stored after that id: index lookups instead of a scan) and
    flag exact copies; commits.

    It runs on the read path (readiness), so it checks cheaply first and takes the write lock
    (SQLite) only when there is something to write; a concurrent request that fingerprinted
    the same submissions first wins, and this one writes nothing."""
    query = (
        select(
            Submission.id, Submission.user_id, Submission.exercise_id, Submission.notebook_sha256
        )
        .outerjoin(SubmissionFingerprint, SubmissionFingerprint.submission_id == Submission.id)
        .where(
            Submission.purpose == SubmissionPurpose.GRADE,
            Submission.status == SubmissionStatus.GRADED,
            SubmissionFingerprint.submission_id.is_(None),
        )
    )
    if since is not None:
        query = query.where(or_(Submission.graded_at >= since[0], Submission.id > since[1]))
    if session.execute(query.limit(1)).first() is None:
        return 0
    begin_write(session)
    pending = session.execute(query).all()
    if not pending:
        return 0
    blobs = dict(
        session.execute(
            select(Blob.sha256, Blob.data).where(Blob.sha256.in_({sha for *_, sha in pending}))
        ).all()
    )
    # The untouched release, in either language, is nobody's copy (its answers are the stubs);
    # the English one gives the scaffold code (both languages share their code cells).
    release_data: dict[int, bytes] = {}
    releases: dict[int, set[str]] = defaultdict(set)
    for eid, data, english in session.execute(
        select(Exercise.id, Blob.data, Blob.sha256 == Exercise.release_sha256)
        .join(
            Blob,
            or_(Blob.sha256 == Exercise.release_sha256, Blob.sha256 == Exercise.release_fr_sha256),
        )
        .where(Exercise.id.in_({eid for _, _, eid, _ in pending}))
    ):
        releases[eid].add(notebook_fingerprint(data))
        if english:
            release_data[eid] = data
    # The untouched release of any variant of a pool is nobody's copy either.
    for eid, data in session.execute(
        select(ExerciseVariant.exercise_id, Blob.data)
        .join(
            Blob,
            or_(
                Blob.sha256 == ExerciseVariant.release_sha256,
                Blob.sha256 == ExerciseVariant.release_fr_sha256,
            ),
        )
        .where(ExerciseVariant.exercise_id.in_({eid for _, _, eid, _ in pending}))
    ):
        releases[eid].add(notebook_fingerprint(data))
    new = {
        sid: (uid, eid, notebook_fingerprint(blobs.get(sha, b""))) for sid, uid, eid, sha in pending
    }
    try:
        session.add_all(
            SubmissionFingerprint(submission_id=sid, answer_sha256=fp)
            for sid, (_, _, fp) in new.items()
        )
        session.flush()
        flags = _exact_copies(session, new, releases)
        _near_copies(session, new, releases, release_data, flags)
        for submission in session.scalars(select(Submission).where(Submission.id.in_(flags))):
            submission.flags = sorted(set(submission.flags or []) | flags[submission.id])
        session.commit()
    except IntegrityError:
        session.rollback()  # another request fingerprinted them first (PostgreSQL)
        return 0
    return len(new)


def _exact_copies(
    session: Session, new: dict[int, tuple[int, int, str]], releases: dict[int, set[str]]
) -> dict[int, set[str]]:
    """The flags of both sides of every new submission whose answers equal another trainee's."""
    flags: dict[int, set[str]] = defaultdict(set)
    wanted = {fp for _, eid, fp in new.values() if fp not in releases.get(eid, ())}
    if not wanted:
        return flags
    same: dict[tuple[int, str], list[tuple[int, int]]] = defaultdict(list)
    for sid, uid, eid, fp in session.execute(
        select(
            Submission.id,
            Submission.user_id,
            Submission.exercise_id,
            SubmissionFingerprint.answer_sha256,
        )
        .join(SubmissionFingerprint, SubmissionFingerprint.submission_id == Submission.id)
        .where(SubmissionFingerprint.answer_sha256.in_(wanted))
    ):
        same[(eid, fp)].append((sid, uid))
    for sid, (uid, eid, fp) in new.items():
        for other, other_uid in same.get((eid, fp), ()):
            if other_uid != uid:
                flags[sid].add(f"copy:{other}:1.00")
                flags[other].add(f"copy:{sid}:1.00")
    return flags


def _near_copies(
    session: Session,
    new: dict[int, tuple[int, int, str]],
    releases: dict[int, set[str]],
    release_data: dict[int, bytes],
    flags: dict[int, set[str]],
) -> None:
    """Add the flags of both sides of every new submission whose answers are nearly another
    trainee's (lms/readiness/similarity.py): a copy with renamed variables, new comments or
    spacing. Only pairs sharing enough k-gram hashes are compared in full (an inverted index),
    so a cohort's first check is not quadratic in its submissions."""
    exercises = {eid for _, eid, fp in new.values() if fp not in releases.get(eid, ())}
    if not exercises:
        return
    rows = session.execute(
        select(
            Submission.id,
            Submission.user_id,
            Submission.exercise_id,
            Submission.notebook_sha256,
            SubmissionFingerprint.answer_sha256,
        )
        .join(SubmissionFingerprint, SubmissionFingerprint.submission_id == Submission.id)
        .where(
            Submission.exercise_id.in_(exercises),
            Submission.purpose == SubmissionPurpose.GRADE,
            Submission.status == SubmissionStatus.GRADED,
        )
    ).all()
    rows = [row for row in rows if row[4] not in releases.get(row[2], ())]
    blobs = dict(
        session.execute(
            select(Blob.sha256, Blob.data).where(Blob.sha256.in_({row[3] for row in rows}))
        ).all()
    )
    prints: dict[tuple[int, str], similarity.CodePrint] = {}
    scaffolds = {eid: similarity.answer_code(release_data.get(eid, b"")) for eid in exercises}
    index: dict[tuple[int, int], list[int]] = defaultdict(list)
    owner: dict[int, tuple[int, int, str, str]] = {}
    for sid, uid, eid, sha, fp in rows:
        key = (eid, sha)
        if key not in prints:
            code = similarity.answer_code(blobs.get(sha, b""))
            prints[key] = similarity.code_print(code, scaffolds[eid])
        owner[sid] = (uid, eid, sha, fp)
        for value in prints[key].hashes:
            index[(eid, value)].append(sid)
    for sid in new:
        if sid not in owner:
            continue
        uid, eid, sha, fp = owner[sid]
        mine = prints[(eid, sha)]
        shared: dict[int, int] = defaultdict(int)
        for value in mine.hashes:
            for other in index[(eid, value)]:
                shared[other] += 1
        for other, count in shared.items():
            other_uid, _, other_sha, other_fp = owner[other]
            if other_uid == uid or other_fp == fp:
                continue  # the same trainee, or an exact copy (flagged already)
            theirs = prints[(eid, other_sha)]
            if count < similarity.CANDIDATE_SHARE * min(len(mine.hashes), len(theirs.hashes)):
                continue
            figure = similarity.similarity(mine, theirs)
            if figure >= similarity.NEAR_COPY:
                flags[sid].add(f"copy:{other}:{figure:.2f}")
                flags[other].add(f"copy:{sid}:{figure:.2f}")


@dataclass(frozen=True)
class EvidenceFlag:
    """A blocking flag on a trainee's graded submission, and whether staff cleared it."""

    submission_id: int
    exercise: str
    flag: str
    cleared: bool

    @property
    def kind(self) -> str:
        """ "copy" for a copy across trainees, "integrity" for the grader's flags."""
        return "copy" if self.flag.startswith("copy") else "integrity"

    def as_json(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "submission_id": self.submission_id,
            "exercise": self.exercise,
            "flag": self.flag,
            "cleared": self.cleared,
        }


def flags_by_trainee(
    session: Session, user_ids: list[int] | set[int] | None = None
) -> dict[int, list[EvidenceFlag]]:
    """Blocking flags on graded submissions, by trainee (two queries)."""
    query = (
        select(Submission.id, Submission.user_id, Exercise.slug, Submission.flags)
        .join(Exercise, Exercise.id == Submission.exercise_id)
        .where(
            Submission.purpose == SubmissionPurpose.GRADE,
            Submission.status == SubmissionStatus.GRADED,
        )
    )
    if user_ids is not None:
        query = query.where(Submission.user_id.in_(list(user_ids)))
    # In submission order, whichever trainees are asked for (the cache compares the lists).
    query = query.order_by(Submission.id)
    cleared = set(session.scalars(select(FlagClearance.submission_id)))
    out: dict[int, list[EvidenceFlag]] = defaultdict(list)
    for sid, uid, slug, flags in session.execute(query):
        for flag in flags or ():
            if is_blocking_flag(str(flag)):
                out[uid].append(EvidenceFlag(sid, slug, str(flag), sid in cleared))
    return out


def clear_flags(
    session: Session, submission_id: int, by_user_id: int, note: str = ""
) -> FlagClearance:
    """An instructor or admin, having reviewed a flagged submission, lets it count."""
    staff = session.get(User, by_user_id)
    if staff is None or staff.role not in STAFF:
        raise Forbidden(N_("Only an instructor or an admin can clear a flagged submission."))
    if session.get(Submission, submission_id) is None:
        raise NotFound(N_("There is no submission %(id)s."), id=submission_id)
    clearance = FlagClearance(
        submission_id=submission_id, by_user_id=by_user_id, note=note.strip(), at=utcnow()
    )
    session.add(clearance)
    session.commit()
    return clearance
