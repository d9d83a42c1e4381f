"""One graded cell's evidence about one skill, and the rules by which evidence counts once.

Counting once (`count_once`), per trainee and exercise, results (one submission, or one imported
sitting) taken in date order:

1. A flagged result (`flagged`: tampering, a protocol violation, introspection, a copy) counts
   only once an instructor has cleared it; the service passes `flagged=False` after clearance.
2. A result whose normalised notebook (`fingerprint`: outputs and metadata stripped, answer
   sources whitespace-normalised) equals an earlier counted one of the same trainee and exercise
   adds nothing: a re-sent or re-graded notebook is the same evidence.
3. An assessment counts its first graded result only; a retake counts if the exercise allows one
   (`retake_after_days`) and it was made at least that long after the last counted result.
4. The k-th counted result of an exercise weighs `ATTEMPT_DECAY ** (k - 1)` (1, 1/2, 1/4, ...):
   however often work is re-sent, an exercise never weighs more than 1 / (1 - ATTEMPT_DECAY) = 2
   first attempts, so re-sending 60% work thirty times is worth two 60% results, no more.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from lms.models.content import ExerciseKind

EvidenceKind = Literal["practice", "assessment"]  # ExerciseKind's values, for the type checker
EVIDENCE_KINDS: tuple[str, ...] = tuple(kind.value for kind in ExerciseKind)
ATTEMPT_DECAY = 0.5
# Flags that stop a result from counting until an instructor clears them (prefixes).
BLOCKING_FLAGS = ("tampered", "protocol-violation", "introspection", "copy")


def as_utc(moment: datetime) -> datetime:
    """Return `moment` as an aware UTC datetime; a naive one is taken to be UTC already.

    The database stores naive UTC timestamps (SQLite has no time zones); reading them as local
    time would shift every evidence age by the server's offset.
    """
    if moment.tzinfo is UTC:
        return moment  # the common case (read from the database): no conversion to pay for
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def is_blocking_flag(flag: str) -> bool:
    """Whether a grader or copy flag keeps a result out of readiness until it is cleared."""
    return flag.startswith(BLOCKING_FLAGS)


@dataclass(frozen=True, slots=True)
class Evidence:
    """One grade cell's score, seen as evidence for one skill.

    A cell mapped to k skills gives k Evidence objects (one per skill, `cell_skills` = k) with the
    same grade_id; each carries 1/k of the cell's credit. `attempt` numbers the trainee's results
    for the exercise, from 1, in date order.
    """

    skill: str
    score: float
    max_score: float
    at: datetime
    kind: EvidenceKind
    exercise: str
    attempt: int = 1
    after_feedback: bool = False
    grade_id: str = ""
    submission_id: str | int | None = None
    cell_skills: int = 1
    fingerprint: str | None = None
    flagged: bool = False
    retake_after_days: float | None = None

    def __post_init__(self) -> None:
        # Bad evidence is refused here, with what was wrong, rather than skewing a mastery later.
        where = f"evidence for skill {self.skill!r} from {self.exercise!r}/{self.grade_id!r}"
        if not self.skill:
            raise ValueError(f"{where}: the skill id is empty")
        if self.kind not in EVIDENCE_KINDS:
            raise ValueError(f"{where}: kind must be practice or assessment, got {self.kind!r}")
        if not (math.isfinite(self.max_score) and self.max_score > 0):
            raise ValueError(f"{where}: max_score must be a positive number, got {self.max_score}")
        if not (math.isfinite(self.score) and 0 <= self.score <= self.max_score):
            raise ValueError(
                f"{where}: score must be between 0 and max_score ({self.max_score}),"
                f" got {self.score}"
            )
        if isinstance(self.attempt, bool) or not isinstance(self.attempt, int) or self.attempt < 1:
            raise ValueError(f"{where}: attempt must be an integer >= 1, got {self.attempt!r}")
        if not isinstance(self.cell_skills, int) or self.cell_skills < 1:
            raise ValueError(f"{where}: cell_skills must be an integer >= 1")
        object.__setattr__(self, "at", as_utc(self.at))

    @property
    def fraction(self) -> float:
        """Share of the cell's points obtained, in [0, 1]."""
        return self.score / self.max_score

    @property
    def result_key(self) -> tuple:
        """What identifies the result (submission) this cell belongs to."""
        return (self.exercise, self.submission_id, self.attempt, self.at)


@dataclass(frozen=True, slots=True)
class Counted:
    """How much one result counts: its factor (0 = not at all) and, if 0, why."""

    factor: float
    order: int  # 1 for the first counted result of the exercise, 0 when not counted
    reason: str = ""  # "flagged" | "identical" | "assessment-once" when not counted


def count_once(evidence: Iterable[Evidence]) -> dict[tuple, Counted]:
    """One trainee's results (by `Evidence.result_key`) and how much each counts (module rules)."""
    results: dict[str, dict[tuple, Evidence]] = defaultdict(dict)
    for item in evidence:
        results[item.exercise].setdefault(item.result_key, item)
    out: dict[tuple, Counted] = {}
    for by_key in results.values():
        seen: set[str] = set()
        counted = 0
        last: datetime | None = None
        for key, first in sorted(by_key.items(), key=lambda pair: (pair[1].at, str(pair[0]))):
            if first.flagged:
                out[key] = Counted(0.0, 0, "flagged")
                continue
            if first.fingerprint is not None and first.fingerprint in seen:
                out[key] = Counted(0.0, 0, "identical")
                continue
            if first.fingerprint is not None:
                seen.add(first.fingerprint)
            if first.kind == "assessment" and counted:
                cool_down = first.retake_after_days
                if cool_down is None or last is None or first.at - last < timedelta(cool_down):
                    out[key] = Counted(0.0, 0, "assessment-once")
                    continue
            counted += 1
            last = first.at
            out[key] = Counted(ATTEMPT_DECAY ** (counted - 1), counted)
    return out
