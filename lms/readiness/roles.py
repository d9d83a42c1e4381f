"""Role readiness: a trainee's masteries of a role's required skills, combined without hiding gaps.

The figure: the weighted mean, over the role's skills, of each skill's estimated level (0 for a
skill with no counted evidence), shown with the weighted mean of the per-skill interval bounds
(a conservative band: it assumes every skill errs in the same direction). It is not capped at a
target, so it keeps ordering candidates by demonstrated skill above the targets, and no
evidence gives 0.

A critical skill is *confirmed* when the posterior chance that its true level reaches the target
is at least `confidence`. The trade-off, stated: precision first (a recruiter must be able to
bet on "ready": >= 0.95), then as much recall as that leaves, and never below what makes the
issue's honest trainee ready (>= 90% of the points on every exercise of a role, once, within
60 days: their critical skills reach chances of 0.88-0.92 on the shipped content, 60% work
0.39-0.45). The tuning seeds of benchmarks/readiness_calibration.py (1, 2, 6, 7, 8) choose
0.78, which is shipped (held-out cohorts 3-5: precision 0.962, recall 0.69). Recall 0.8 at
that precision is out of reach on the simulated evidence (about ten exercises per skill):
lms/readiness/mastery.py says why. Status, the first that applies:

1. "not enough evidence": a critical skill (or, without critical skills, the role as a whole)
   has counted evidence of weight below `min_evidence`: no verdict can be trusted yet.
2. "stale": a critical skill's newest counted evidence is older than `stale_days`: it was shown,
   but too long ago to vouch for it now.
3. "ready": every critical skill is confirmed. The average never decides alone.
4. "more evidence needed": every critical skill not yet confirmed is estimated at or above its
   target; more work on those skills will settle it (usually: ready soon).
5. "one skill short": exactly one critical skill is not confirmed and is estimated below its
   target, within `margin` of it.
6. "not ready".

Reasons are `Reason`s: an English sentence marked for translation (`lms.i18n.N_`) and its
parameters, so the web shows them in the reader's language and JSON prints them in English.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from scipy.special import expit

from lms.i18n import N_
from lms.readiness.mastery import DEFAULT_MODEL, Mastery, MasteryModel, WeightedEvidence

Status = Literal[
    "ready", "more evidence needed", "one skill short", "not ready", "not enough evidence", "stale"
]
STATUSES: tuple[Status, ...] = (
    "ready",
    "more evidence needed",
    "one skill short",
    "not ready",
    "not enough evidence",
    "stale",
)
# Plain-language labels, translated by the web layer.
STATUS_LABELS: dict[str, str] = {
    "ready": N_("Ready"),
    "more evidence needed": N_("More evidence needed"),
    "one skill short": N_("One skill short"),
    "not ready": N_("Not ready yet"),
    "not enough evidence": N_("Not enough evidence"),
    "stale": N_("Evidence too old"),
}


@dataclass(frozen=True, slots=True)
class RoleSkill:
    """A skill a role requires: target level (0..1), relative weight, and whether it is critical."""

    skill: str
    level: float
    weight: float = 1.0
    critical: bool = False
    name: str = ""

    def __post_init__(self) -> None:
        if not 0 < self.level < 1:
            raise ValueError(f"skill {self.skill!r}: level must be in (0, 1), got {self.level}")
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
    """Thresholds that turn per-skill masteries into a status (see the module docstring)."""

    # P(true level >= target) needed to confirm a critical skill; from the calibration.
    confidence: float = 0.78
    # In weight units (a fresh first-attempt practice cell tagged with one skill weighs 1, an
    # assessment cell 1.5): about one exercise's worth of cells on the skill, counted once.
    min_evidence: float = 2.0
    stale_days: float = 180.0
    margin: float = 0.1


DEFAULT_POLICY = ReadinessPolicy()


@dataclass(frozen=True, slots=True)
class Reason:
    """One plain-language reason: an English message (marked with N_) and its parameters."""

    message: str
    params: Mapping[str, Any] = field(default_factory=dict)
    skill: str | None = None  # the id of the skill the reason is about, if any

    def __str__(self) -> str:
        return self.message % dict(self.params) if self.params else self.message

    def params_named(self, skill_names: Mapping[str, str]) -> dict[str, Any]:
        """The parameters, the skill named as `skill_names` says (the reader's language)."""
        params = dict(self.params)
        if self.skill is not None and self.skill in skill_names:
            params["skill"] = skill_names[self.skill]
        return params


@dataclass(frozen=True, slots=True)
class SkillLine:
    """One required skill in a readiness report, with the evidence behind its mastery."""

    skill: str
    name: str
    mastery: float
    low: float
    high: float
    target: float
    weight: float
    critical: bool
    demonstrated: bool
    chance: float  # P(true level >= target)
    evidence_weight: float
    last_at: datetime | None
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
            "chance_above_target": round(self.chance, 4),
            "evidence_weight": round(self.evidence_weight, 4),
            "last_evidence_at": self.last_at.isoformat() if self.last_at else None,
            "evidence": [evidence_json(line) for line in self.weighted_evidence()],
        }


@dataclass(frozen=True, slots=True)
class RoleReadiness:
    """A trainee's readiness for one role: figure, interval, status, the reasons and the skills."""

    role: str
    score: float
    low: float
    high: float
    status: Status
    reasons: tuple[Reason, ...]
    skills: tuple[SkillLine, ...]
    verified_on: date | None = None  # the newest counted evidence on the role's critical skills

    @property
    def stale(self) -> bool:
        """Whether the status is "stale" (evidence too old to vouch for the skill now)."""
        return self.status == "stale"

    def as_json(self) -> dict[str, Any]:
        """JSON-ready form, as `lms readiness --json` and the API print it (without the email)."""
        return {
            "role": self.role,
            "readiness": round(self.score, 4),
            "low": round(self.low, 4),
            "high": round(self.high, 4),
            "status": self.status,
            "reasons": [str(reason) for reason in self.reasons],
            "verified_on": self.verified_on.isoformat() if self.verified_on else None,
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
        "counted": line.weight > 0,
    }


def assess_role(
    role: Role,
    masteries: Mapping[str, Mastery],
    model: MasteryModel = DEFAULT_MODEL,
    policy: ReadinessPolicy = DEFAULT_POLICY,
    as_of: datetime | None = None,
) -> RoleReadiness:
    """A trainee's readiness for `role` from their masteries (skills missing: no evidence)."""
    lines = tuple(
        _skill_line(
            required, masteries.get(required.skill) or model.prior_mastery(required.skill), policy
        )
        for required in role.skills
    )
    total_weight = sum(line.weight for line in lines)
    score = sum(line.weight * line.mastery for line in lines) / total_weight
    low = sum(line.weight * line.low for line in lines) / total_weight
    high = sum(line.weight * line.high for line in lines) / total_weight
    critical = [line for line in lines if line.critical] or list(lines)
    dates = [line.last_at for line in critical if line.last_at is not None]
    verified = max(dates).date() if dates else None
    status, reasons = _status(lines, policy, as_of)
    return RoleReadiness(role.id, score, low, high, status, reasons, lines, verified)


def rank_candidates(
    readiness_by_trainee: Mapping[Any, RoleReadiness],
) -> list[tuple[Any, RoleReadiness]]:
    """Trainees best first for one role: by figure, then by lower bound (surer first)."""
    return sorted(
        readiness_by_trainee.items(), key=lambda pair: (pair[1].score, pair[1].low), reverse=True
    )


def _skill_line(required: RoleSkill, mastery: Mastery, policy: ReadinessPolicy) -> SkillLine:
    chance = mastery.chance_above(required.level)
    return SkillLine(
        skill=required.skill,
        name=required.name or required.skill,
        mastery=mastery.mean,
        low=mastery.low,
        high=mastery.high,
        target=required.level,
        weight=required.weight,
        critical=required.critical,
        demonstrated=chance >= policy.confidence,
        chance=chance,
        evidence_weight=mastery.evidence_weight,
        last_at=mastery.last_at,
        mastery_detail=mastery,
    )


def _percent(value: float) -> str:
    return f"{round(value * 100)}%"


def _status(
    lines: Sequence[SkillLine], policy: ReadinessPolicy, as_of: datetime | None
) -> tuple[Status, tuple[Reason, ...]]:
    """The status and the reasons that justify it (see the module docstring for the order)."""
    critical = [line for line in lines if line.critical]
    judged = critical or list(lines)
    thin = [line for line in judged if line.evidence_weight < policy.min_evidence]
    if thin:
        return "not enough evidence", tuple(
            Reason(
                N_("%(skill)s: no work on this skill has counted yet."),
                {"skill": line.name},
                line.skill,
            )
            if not line.evidence_weight
            else Reason(
                N_("%(skill)s: too little work counted so far to judge it."),
                {"skill": line.name},
                line.skill,
            )
            for line in thin
        )
    if as_of is not None:
        limit = as_of - timedelta(days=policy.stale_days)
        old = [line for line in judged if line.last_at is not None and line.last_at < limit]
        if old:
            return "stale", tuple(
                Reason(
                    N_(
                        "%(skill)s: last shown on %(date)s, more than %(days)s days ago;"
                        " recent work is needed to confirm it."
                    ),
                    {
                        "skill": line.name,
                        "date": line.last_at.date().isoformat(),
                        "days": int(policy.stale_days),
                    },
                    line.skill,
                )
                for line in old
            )
    unconfirmed = [line for line in critical if not line.demonstrated]
    if not unconfirmed:
        return "ready", (
            Reason(
                N_(
                    "Every critical skill is at or above its target, with at least"
                    " %(confidence)s confidence."
                ),
                {"confidence": _percent(policy.confidence)},
            ),
        )
    above = [line for line in unconfirmed if line.chance >= 0.5]
    below = [line for line in unconfirmed if line.chance < 0.5]
    reasons = [
        Reason(
            N_("%(skill)s: estimated at %(level)s, below the target of %(target)s."),
            {"skill": line.name, "level": _percent(_centre(line)), "target": _percent(line.target)},
            line.skill,
        )
        for line in below
    ] + [
        Reason(
            N_(
                "%(skill)s: estimated at %(level)s, at or above the target of %(target)s,"
                " but not yet with %(confidence)s confidence; more work on it will tell."
            ),
            {
                "skill": line.name,
                "level": _percent(_centre(line)),
                "target": _percent(line.target),
                "confidence": _percent(policy.confidence),
            },
            line.skill,
        )
        for line in above
    ]
    if not below:
        return "more evidence needed", tuple(reasons)
    if len(unconfirmed) == 1 and _centre(below[0]) >= below[0].target - policy.margin:
        return "one skill short", tuple(reasons)
    return "not ready", tuple(reasons)


def _centre(line: SkillLine) -> float:
    """The skill's level at its most likely ability (the scale the target is compared on)."""
    return float(expit(line.mastery_detail.theta)) if line.evidence_weight else 0.0
