"""One graded cell's evidence about one skill: the unit every readiness figure is built from."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from lms.models.content import ExerciseKind

EvidenceKind = Literal["practice", "assessment"]  # ExerciseKind's values, for the type checker
EVIDENCE_KINDS: tuple[str, ...] = tuple(kind.value for kind in ExerciseKind)


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


@dataclass(frozen=True, slots=True)
class Evidence:
    """One grade cell's score, seen as evidence for one skill.

    A cell mapped to two skills gives two Evidence objects (one per skill) with the same grade_id.
    `attempt` counts submissions of the same exercise by the same trainee, starting at 1;
    `after_feedback` is true when the trainee had seen feedback on an earlier attempt.
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
        object.__setattr__(self, "at", as_utc(self.at))

    @property
    def fraction(self) -> float:
        """Share of the cell's points obtained, in [0, 1]."""
        return self.score / self.max_score

    @property
    def is_retry(self) -> bool:
        """True for a second or later attempt, or any attempt made after seeing feedback."""
        return self.attempt > 1 or self.after_feedback
