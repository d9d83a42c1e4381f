"""Readiness kept per trainee: after a new result only that trainee is scored again.

Each trainee's figures are kept with a fingerprint of their own evidence (`trainee_versions`:
their graded submissions, flags, fingerprints, clearances, hand grades and imported results,
read for the whole cohort in a fixed number of grouped queries) and of what everyone's figures
depend on (`shared_version`: roles, the cells' skills, the exercises). A new result changes one
trainee's fingerprint, so a recruiter's page scores one trainee, not the cohort. Which
fingerprints to read is found from indexed times (`recent_changes`: results graded, hand-graded,
imported or cleared since the last look, with a margin), so an unchanged cohort costs a few
index lookups, whatever its size. The margin (`lookback`) finds the same changes again on each
look; each change comes with a key saying what the row is now, and a trainee whose recent keys
were all seen when their entry was last found current is not read again: a busy cohort (hundreds
of results in the margin) costs one small query per kind of change, not its evidence.

Two inputs change slowly for everyone: the passing of time (mastery decays, evidence goes stale)
and the cohort's item difficulties (calibrated from every first attempt). Both are fixed for an
*epoch* of `max_age`: within one, every figure is computed with the epoch's difficulties, as of
the moment it is computed. When an epoch ends a new one begins (difficulties read again) and the
older figures are brought up to it at most `refresh_per_call` trainees per call, oldest first, so
no request pays for the whole cohort; until then they are at most a few epochs old in time and
calibration, never in data: a trainee whose evidence changed is always scored afresh.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Float, String, cast, func, literal, null, or_, select, union_all
from sqlalchemy.orm import Session

from lms.models import (
    CellGrade,
    Exercise,
    GradeCellSkill,
    RoleSkill,
    Skill,
    Submission,
    SubmissionPurpose,
    SubmissionStatus,
)
from lms.models.evidence import FlagClearance, SubmissionFingerprint
from lms.models.talent import ImportBatch, ImportedResult


def trainee_versions(session: Session, user_ids: Collection[int] | None = None) -> dict[int, tuple]:
    """A fingerprint of each trainee's evidence (default: everyone with some), in five grouped
    queries: when a trainee's is unchanged, so are their figures (in the same epoch)."""

    def only(query: Any, column: Any) -> Any:
        return query if user_ids is None else query.where(column.in_(list(user_ids)))

    graded = (
        Submission.purpose == SubmissionPurpose.GRADE,
        Submission.status == SubmissionStatus.GRADED,
    )
    parts = (
        # Graded work, when it was (re)graded, and its flags (a copy found later adds one).
        only(
            select(
                Submission.user_id,
                func.count(),
                func.max(Submission.id),
                func.max(Submission.graded_at),
                func.sum(func.length(cast(Submission.flags, String))),
            ).where(*graded),
            Submission.user_id,
        ).group_by(Submission.user_id),
        only(
            select(Submission.user_id, func.count())
            .join(SubmissionFingerprint, SubmissionFingerprint.submission_id == Submission.id)
            .where(Submission.purpose == SubmissionPurpose.GRADE),
            Submission.user_id,
        ).group_by(Submission.user_id),
        only(
            select(Submission.user_id, func.count(), func.max(FlagClearance.id)).join(
                FlagClearance, FlagClearance.submission_id == Submission.id
            ),
            Submission.user_id,
        ).group_by(Submission.user_id),
        # An instructor's grade changes a score in place: when, and the sum of such scores.
        only(
            select(
                Submission.user_id,
                func.count(),
                func.max(CellGrade.manually_graded_at),
                func.sum(CellGrade.score),
            )
            .join(Submission, Submission.id == CellGrade.submission_id)
            .where(CellGrade.manually_graded_at.is_not(None)),
            Submission.user_id,
        ).group_by(Submission.user_id),
        only(
            select(ImportedResult.user_id, func.count(), func.max(ImportedResult.id)),
            ImportedResult.user_id,
        ).group_by(ImportedResult.user_id),
    )
    versions: dict[int, list] = {}
    for number, part in enumerate(parts):
        for uid, *figures in session.execute(part):
            versions.setdefault(uid, [None] * len(parts))[number] = tuple(figures)
    return {uid: tuple(version) for uid, version in versions.items()}


def recent_changes(session: Session, since: datetime, after_id: int) -> dict[int, frozenset]:
    """What may have changed in trainees' evidence since `since`, by trainee, in one query over
    indexed columns: work graded (or re-graded) since then or stored after submission
    `after_id`, its copies elsewhere, hand grades, imports, clearances. Each change is a key
    that says what the row is now (id, time, status, flags, score), so a change already seen,
    and counted in the trainee's figures, is known again without reading their evidence."""
    recent = select(Submission.id).where(
        or_(Submission.graded_at >= since, Submission.id > after_id)
    )
    flags = func.length(cast(Submission.flags, String))
    # One shape for every kind: trainee, kind, row id, time, status, amount, fingerprint.
    nothing = null()
    query = union_all(
        select(
            Submission.user_id,
            literal("submission"),
            Submission.id,
            Submission.graded_at,
            cast(Submission.status, String),
            cast(flags, Float),
            SubmissionFingerprint.answer_sha256,
        )
        .outerjoin(SubmissionFingerprint, SubmissionFingerprint.submission_id == Submission.id)
        .where(Submission.id.in_(recent)),
        # A copy of older work flags that work too: its owner's evidence changes.
        select(
            Submission.user_id,
            literal("copy"),
            Submission.id,
            nothing,
            cast(Submission.status, String),
            cast(flags, Float),
            SubmissionFingerprint.answer_sha256,
        )
        .join(SubmissionFingerprint, SubmissionFingerprint.submission_id == Submission.id)
        .where(
            SubmissionFingerprint.answer_sha256.in_(
                select(SubmissionFingerprint.answer_sha256).where(
                    SubmissionFingerprint.submission_id.in_(recent)
                )
            )
        ),
        select(
            Submission.user_id,
            literal("hand grade"),
            CellGrade.id,
            CellGrade.manually_graded_at,
            nothing,
            CellGrade.score,
            nothing,
        )
        .join(CellGrade, CellGrade.submission_id == Submission.id)
        .where(CellGrade.manually_graded_at >= since),
        select(
            ImportedResult.user_id,
            literal("import"),
            ImportedResult.id,
            ImportBatch.imported_at,
            nothing,
            ImportedResult.score,
            nothing,
        )
        .join(ImportBatch, ImportBatch.id == ImportedResult.batch_id)
        .where(ImportBatch.imported_at >= since),
        select(
            Submission.user_id,
            literal("clearance"),
            FlagClearance.id,
            FlagClearance.at,
            nothing,
            nothing,
            nothing,
        )
        .join(FlagClearance, FlagClearance.submission_id == Submission.id)
        .where(FlagClearance.at >= since),
    )
    keys: dict[int, set[tuple]] = {}
    for uid, *key in session.execute(query):
        keys.setdefault(uid, set()).add(tuple(key))
    return {uid: frozenset(found) for uid, found in keys.items()}


def shared_version(session: Session) -> tuple:
    """A fingerprint of what every trainee's figures depend on besides their own evidence:
    roles and their skills, the skills' names, the cells' skills, the exercises."""
    parts = (
        select(func.count(), func.sum(RoleSkill.level * RoleSkill.weight)).select_from(RoleSkill),
        select(func.count(), func.sum(func.length(Skill.name))).select_from(Skill),
        select(
            func.count(),
            func.sum(GradeCellSkill.grade_cell_id),
            func.sum(func.length(GradeCellSkill.skill_id)),
        ).select_from(GradeCellSkill),
        select(func.count(), func.max(Exercise.updated_at)).select_from(Exercise),
    )
    columns = [
        part.with_only_columns(column).scalar_subquery()
        for part in parts
        for column in part.selected_columns
    ]
    return tuple(session.execute(select(*columns)).one())


@dataclass(frozen=True)
class Epoch:
    """The difficulties every figure computed from `started` on uses, for `max_age`."""

    number: int
    started: datetime
    difficulties: Mapping[tuple[str, str], float]


@dataclass(frozen=True)
class Entry:
    """One trainee's figures: for which evidence, in which epoch, as of when."""

    version: tuple | None
    epoch: int
    as_of: datetime
    readiness: dict[str, Any]  # role id -> RoleReadiness
    flags: tuple[Any, ...]


@dataclass
class DatabaseCache:
    """Everything kept for one database."""

    shared: tuple
    epoch: Epoch
    entries: dict[int, Entry]
    # Held while figures are computed: concurrent requests after a start or a new result wait
    # for one computation instead of each doing the same one.
    computing: threading.Lock = field(default_factory=threading.Lock)
    # Trainee -> when a call last began looking for changes of theirs, and the newest
    # submission id then.
    checked: dict[int, tuple[datetime, int]] = field(default_factory=dict)
    # Trainee -> the recent changes (`recent_changes` keys) their entry is known to count.
    seen: dict[int, frozenset] = field(default_factory=dict)


class TraineeCache:
    """Per-trainee readiness entries per database, thread-safe; few databases at once."""

    def __init__(
        self,
        max_age: timedelta = timedelta(minutes=15),
        refresh_per_call: int = 50,
        databases: int = 4,
        lookback: timedelta = timedelta(minutes=10),
    ) -> None:
        self.max_age, self.refresh_per_call, self.databases = max_age, refresh_per_call, databases
        self.lookback = lookback
        self._stores: dict[tuple, DatabaseCache] = {}
        self._lock = threading.Lock()
        self._epochs = 0

    def store(self, key: tuple, shared: tuple, now: datetime, difficulties: Any) -> DatabaseCache:
        """The database's store: emptied when `shared` changed; a new epoch (difficulties
        from `difficulties()`) when the current one is over."""
        with self._lock:
            found = self._stores.get(key)
        if (
            found is not None
            and found.shared == shared
            and now - found.epoch.started < self.max_age
        ):
            return found
        epoch = Epoch(self._next_epoch(), now, difficulties())
        with self._lock:
            found = self._stores.get(key)
            if found is not None and found.shared == shared:
                if now - found.epoch.started >= self.max_age:
                    found.epoch = epoch
                return found
            created = DatabaseCache(shared, epoch, {})
            self._stores[key] = created
            while len(self._stores) > self.databases:
                self._stores.pop(next(iter(self._stores)))
            return created

    def _next_epoch(self) -> int:
        with self._lock:
            self._epochs += 1
            return self._epochs

    def to_check(
        self, store: DatabaseCache, trainee_ids: Collection[int], now: datetime, top_id: int
    ) -> tuple[set[int], set[int], tuple[datetime, int] | None]:
        """(trainees with no entry, the oldest entries of past epochs to bring up to date now,
        at most `refresh_per_call`, and since when (time, submission id) to look for changes;
        None: everything must be looked at). `top_id`: the newest submission id now."""
        with self._lock:
            entries = {tid: store.entries.get(tid) for tid in trainee_ids}
            marks = [store.checked[tid] for tid in entries if tid in store.checked]
            store.checked.update(dict.fromkeys(entries, (now, top_id)))
        missing = {tid for tid, entry in entries.items() if entry is None}
        old = sorted(
            (entry.as_of, tid)
            for tid, entry in entries.items()
            if entry is not None and entry.epoch != store.epoch.number
        )
        # Look back a little further than the last look: a change committed late, or by a
        # machine whose clock is behind, is still found.
        since = (
            (min(m[0] for m in marks) - self.lookback, min(m[1] for m in marks)) if marks else None
        )
        return missing, {tid for _, tid in old[: self.refresh_per_call]}, since

    def changed(
        self, store: DatabaseCache, versions: Mapping[int, tuple | None], refresh: set[int]
    ) -> set[int]:
        """The trainees among `versions` whose entry is missing or for other evidence, and
        those of `refresh` still from a past epoch (call it holding `store.computing`)."""
        with self._lock:
            return {
                tid
                for tid, version in versions.items()
                if tid not in store.entries or store.entries[tid].version != version
            } | {tid for tid in refresh if store.entries[tid].epoch != store.epoch.number}

    def unseen(self, store: DatabaseCache, recent: Mapping[int, frozenset]) -> set[int]:
        """The trainees with a recent change (`recent_changes`) their entry may not count."""
        with self._lock:
            return {
                tid for tid, keys in recent.items() if not keys <= store.seen.get(tid, frozenset())
            }

    def saw(self, store: DatabaseCache, recent: Mapping[int, frozenset]) -> None:
        """Remember that these trainees' entries count these changes (call it holding
        `store.computing`, once their entries are up to date with evidence read after
        `recent`)."""
        with self._lock:
            store.seen.update(recent)

    def put(self, store: DatabaseCache, entries: Mapping[int, Entry]) -> None:
        """Keep these entries."""
        with self._lock:
            store.entries.update(entries)

    def entries(self, store: DatabaseCache, trainee_ids: Collection[int]) -> dict[int, Entry]:
        """The entries of these trainees (all present after `put`)."""
        with self._lock:
            return {tid: store.entries[tid] for tid in trainee_ids}

    def clear(self) -> None:
        """Forget everything (tests and benchmarks measuring an empty cache use it)."""
        with self._lock:
            self._stores.clear()
