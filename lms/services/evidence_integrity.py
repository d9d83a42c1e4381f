"""Evidence integrity: fingerprints of graded notebooks, copies across trainees, clearances.

A graded notebook's fingerprint (lms/readiness/fingerprint.py) lets readiness count a re-sent
notebook once. The same fingerprint on two trainees' submissions of one exercise is a copy: both
submissions get a flag `copy:<other submission id>:<similarity>` for staff to review, and count
toward readiness only once an instructor clears them (as for tampering and the other blocking
flags). The untouched release notebook is not a copy of anyone's: it is no work at all.
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
    Submission,
    SubmissionPurpose,
    SubmissionStatus,
    User,
    utcnow,
)
from lms.models.accounts import STAFF_ROLES
from lms.models.evidence import FlagClearance, SubmissionFingerprint
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
    releases = {
        eid: notebook_fingerprint(data)
        for eid, data in session.execute(
            select(Exercise.id, Blob.data)
            .join(Blob, Blob.sha256 == Exercise.release_sha256)
            .where(Exercise.id.in_({eid for _, _, eid, _ in pending}))
        )
    }
    new = {
        sid: (uid, eid, notebook_fingerprint(blobs.get(sha, b""))) for sid, uid, eid, sha in pending
    }
    try:
        session.add_all(
            SubmissionFingerprint(submission_id=sid, answer_sha256=fp)
            for sid, (_, _, fp) in new.items()
        )
        session.flush()
        _flag_copies(session, new, releases)
        session.commit()
    except IntegrityError:
        session.rollback()  # another request fingerprinted them first (PostgreSQL)
        return 0
    return len(new)


def _flag_copies(
    session: Session, new: dict[int, tuple[int, int, str]], releases: dict[int, str]
) -> None:
    """Flag both sides of every new submission whose answers equal another trainee's."""
    wanted = {fp for _, eid, fp in new.values() if fp != releases.get(eid)}
    if not wanted:
        return
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
    flags: dict[int, set[str]] = defaultdict(set)
    for sid, (uid, eid, fp) in new.items():
        for other, other_uid in same.get((eid, fp), ()):
            if other_uid != uid:
                flags[sid].add(f"copy:{other}:1.00")
                flags[other].add(f"copy:{sid}:1.00")
    for submission in session.scalars(select(Submission).where(Submission.id.in_(flags))):
        submission.flags = sorted(set(submission.flags or []) | flags[submission.id])


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
