"""Role readiness: a trainee's masteries of a role's required skills, combined without hiding gaps.

Score: the weighted mean, over the role's skills, of attainment = min(mastery / target, 1), so
going beyond one target earns nothing that could make up for missing another. Its
interval is the same weighted mean taken over the per-skill lower and upper bounds: a
conservative band (it assumes every skill errs in the same direction), easy to explain.

Status, decided in this order (the first that applies):
1. "not enough evidence": a critical skill (or, for a role without critical skills, the role as a
   whole) has less evidence than `min_evidence` (in the model's weight units), so neither
   "ready" nor a verdict against the trainee can be trusted. Old work decays, so stale evidence
   ends here too.
2. "ready": every critical skill is demonstrated (the lower bound of its mastery reaches its
   target) and the score is at least `ready_score`. The average never decides alone: a critical
   skill whose lower bound is under target blocks "ready" however good the rest is.
3. "almost": every critical skill's estimate is within `almost_margin` of its target and the score
   is at least `almost_score`.
4. "not ready".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from lms.readiness.mastery import DEFAULT_MODEL, Mastery, MasteryModel, WeightedEvidence

Status = Literal["ready", "almost", "not ready", "not enough evidence"]
STATUSES: tuple[Status, ...] = ("ready", "almost", "not ready", "not enough evidence")


@dataclass(frozen=True, slots=True)
class RoleSkill:
    """A skill a role requires: target level (0..1], relative weight, and whether it is critical."""

    skill: str
    level: float
    weight: float = 1.0
    critical: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.level <= 1:
            raise ValueError(f"skill {self.skill!r}: level must be in (0, 1], got {self.level}")
        if not self.weight > 0:
            raise ValueError(f"skill {self.skill!r}: weight must be > 0, got {self.weight}")


@dataclass(frozen=True, slots=True)
class Role:
    """A target role: an id and the skills it requires."""

    id: str
    skills: tuple[RoleSkill, ...]
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "skills", tuple(self.skills))
        if not self.skills:
            raise ValueError(f"role {self.id!r} requires no skill; list at least one")
        ids = [required.skill for required in self.skills]
        repeated = sorted({skill for skill in ids if ids.count(skill) > 1})
        if repeated:
            raise ValueError(f"role {self.id!r} lists skills more than once: {repeated}")


@dataclass(frozen=True)
class ReadinessPolicy:
    """Thresholds that turn a score and per-skill masteries into a status."""

    ready_score: float = 0.9
    almost_score: float = 0.75
    almost_margin: float = 0.1
    # In the model's weight units (a fresh, first-attempt practice result of many cells weighs
    # 1): about one fresh assessment plus a practice exercise, or three or four practice
    # results. Confidence itself is demanded by "demonstrated" (the interval's lower bound), so
    # this gate only separates "we cannot tell yet" from a verdict; at 3.0 a track of four
    # practice exercises and two assessments spread over a semester could not pass it once
    # the older work had decayed (measured with `lms seed` on the shipped courses).
    min_evidence: float = 2.0


DEFAULT_POLICY = ReadinessPolicy()


@dataclass(frozen=True, slots=True)
class SkillLine:
    """One required skill in a readiness report, with the evidence behind its mastery."""

    skill: str
    mastery: float
    low: float
    high: float
    target: float
    weight: float
    critical: bool
    demonstrated: bool
    attainment: float
    evidence_weight: float
    mastery_detail: Mastery

    def weighted_evidence(self) -> tuple[WeightedEvidence, ...]:
        """The evidence behind this skill's mastery, each with the weight it was given."""
        return self.mastery_detail.weighted_evidence()

    def as_json(self) -> dict[str, Any]:
        """JSON-ready form: the figures and, for each piece of evidence, where it came from."""
        return {
            "skill": self.skill,
            "mastery": round(self.mastery, 4),
            "low": round(self.low, 4),
            "high": round(self.high, 4),
            "target": self.target,
            "weight": self.weight,
            "critical": self.critical,
            "demonstrated": self.demonstrated,
            "evidence_weight": round(self.evidence_weight, 4),
            "evidence": [evidence_json(line) for line in self.weighted_evidence()],
        }


@dataclass(frozen=True, slots=True)
class RoleReadiness:
    """A trainee's readiness for one role: score, interval, status, the reasons and the skills."""

    role: str
    score: float
    low: float
    high: float
    status: Status
    reasons: tuple[str, ...]
    skills: tuple[SkillLine, ...]

    def as_json(self) -> dict[str, Any]:
        """JSON-ready form, as `lms readiness --json` and the API print it (without the email)."""
        return {
            "role": self.role,
            "readiness": round(self.score, 4),
            "low": round(self.low, 4),
            "high": round(self.high, 4),
            "status": self.status,
            "reasons": list(self.reasons),
            "skills": [line.as_json() for line in self.skills],
        }


def evidence_json(line: WeightedEvidence) -> dict[str, Any]:
    """One piece of evidence as JSON: exercise, cell, attempt, date, score and the weight used."""
    item = line.evidence
    return {
        "exercise": item.exercise,
        "grade_id": item.grade_id,
        "submission_id": item.submission_id,
        "attempt": item.attempt,
        "after_feedback": item.after_feedback,
        "kind": item.kind,
        "at": item.at.isoformat(),
        "score": item.score,
        "max_score": item.max_score,
        "weight": round(line.weight, 4),
    }


def assess_role(
    role: Role,
    masteries: Mapping[str, Mastery],
    model: MasteryModel = DEFAULT_MODEL,
    policy: ReadinessPolicy = DEFAULT_POLICY,
) -> RoleReadiness:
    """A trainee's readiness for `role` from their masteries (skills missing use the prior)."""
    lines = tuple(
        _skill_line(required, masteries.get(required.skill) or model.prior_mastery(required.skill))
        for required in role.skills
    )
    total_weight = sum(line.weight for line in lines)
    score = sum(line.weight * line.attainment for line in lines) / total_weight
    low = sum(line.weight * min(line.low / line.target, 1.0) for line in lines) / total_weight
    high = sum(line.weight * min(line.high / line.target, 1.0) for line in lines) / total_weight
    status, reasons = _status(lines, score, policy)
    return RoleReadiness(role.id, score, low, high, status, reasons, lines)


def rank_candidates(
    readiness_by_trainee: Mapping[Any, RoleReadiness],
) -> list[tuple[Any, RoleReadiness]]:
    """Trainees best first for one role: by score, then by lower bound (surer first)."""
    return sorted(
        readiness_by_trainee.items(), key=lambda pair: (pair[1].score, pair[1].low), reverse=True
    )


def _skill_line(required: RoleSkill, mastery: Mastery) -> SkillLine:
    return SkillLine(
        skill=required.skill,
        mastery=mastery.mean,
        low=mastery.low,
        high=mastery.high,
        target=required.level,
        weight=required.weight,
        critical=required.critical,
        demonstrated=mastery.demonstrates(required.level),
        attainment=min(mastery.mean / required.level, 1.0),
        evidence_weight=mastery.evidence_weight,
        mastery_detail=mastery,
    )


def _status(
    lines: Sequence[SkillLine], score: float, policy: ReadinessPolicy
) -> tuple[Status, tuple[str, ...]]:
    """The status and the sentences that justify it (see the module docstring for the order)."""
    critical = [line for line in lines if line.critical]
    if critical:
        thin = [line for line in critical if line.evidence_weight < policy.min_evidence]
        if thin:
            return "not enough evidence", tuple(
                f"critical skill {line.skill}: evidence weight {line.evidence_weight:.1f},"
                f" needs {policy.min_evidence:.1f}"
                for line in thin
            )
    else:
        total = sum(line.evidence_weight for line in lines)
        if total < policy.min_evidence:
            return "not enough evidence", (
                f"evidence weight {total:.1f} over the role's skills,"
                f" needs {policy.min_evidence:.1f}",
            )

    undemonstrated = [line for line in critical if not line.demonstrated]
    if not undemonstrated and score >= policy.ready_score:
        shown = "every critical skill demonstrated" if critical else "no critical skill"
        return "ready", (f"{shown}; score {score:.2f} >= {policy.ready_score:.2f}",)

    reasons = [
        f"critical skill {line.skill} not demonstrated: lower bound {line.low:.3f}"
        f" < target {line.target:.2f} (estimate {line.mastery:.2f})"
        for line in undemonstrated
    ]
    if score < policy.ready_score:
        reasons.append(f"score {score:.2f} < {policy.ready_score:.2f}")
    close = all(line.mastery >= line.target - policy.almost_margin for line in critical)
    if close and score >= policy.almost_score:
        return "almost", tuple(reasons)
    return "not ready", tuple(reasons)
