"""Skills and readiness: mastery with its uncertainty, and role readiness that shows its evidence.

Pure Python (no database, no Flask): callers load Evidence and roles, pass an explicit `as_of`
date, and get frozen results they can render, print as JSON or store.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TypeVar

from lms.readiness.difficulty import cohort_difficulties, difficulty_offsets
from lms.readiness.evidence import Evidence, count_once
from lms.readiness.mastery import (
    DEFAULT_MODEL,
    Difficulties,
    Mastery,
    MasteryModel,
    WeightedEvidence,
    estimate_cohort_masteries,
    estimate_masteries,
    estimate_mastery,
)
from lms.readiness.roles import (
    DEFAULT_POLICY,
    STATUS_LABELS,
    STATUSES,
    ReadinessPolicy,
    Reason,
    Role,
    RoleReadiness,
    RoleSkill,
    SkillLine,
    assess_role,
    rank_candidates,
)

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_POLICY",
    "STATUSES",
    "STATUS_LABELS",
    "Difficulties",
    "Reason",
    "count_once",
    "cohort_difficulties",
    "difficulty_offsets",
    "Evidence",
    "Mastery",
    "MasteryModel",
    "ReadinessPolicy",
    "Role",
    "RoleReadiness",
    "RoleSkill",
    "SkillLine",
    "WeightedEvidence",
    "assess_role",
    "estimate_cohort_masteries",
    "estimate_masteries",
    "estimate_mastery",
    "rank_candidates",
    "score_cohort",
    "score_trainee",
]

TraineeKey = TypeVar("TraineeKey", bound=Hashable)


def score_trainee(
    evidence: Iterable[Evidence],
    roles: Sequence[Role],
    as_of: datetime,
    model: MasteryModel = DEFAULT_MODEL,
    policy: ReadinessPolicy = DEFAULT_POLICY,
    difficulties: Difficulties | None = None,
) -> dict[str, RoleReadiness]:
    """One trainee's readiness for each role, keyed by role id, as of a date."""
    masteries = estimate_masteries(evidence, as_of, model, difficulties)
    return {role.id: assess_role(role, masteries, model, policy, as_of) for role in roles}


def score_cohort(
    evidence_by_trainee: Mapping[TraineeKey, Iterable[Evidence]],
    roles: Sequence[Role],
    as_of: datetime,
    model: MasteryModel = DEFAULT_MODEL,
    policy: ReadinessPolicy = DEFAULT_POLICY,
    difficulties: Difficulties | None = None,
) -> dict[TraineeKey, dict[str, RoleReadiness]]:
    """Every trainee's readiness for each role (masteries computed once, in one pass)."""
    masteries = estimate_cohort_masteries(evidence_by_trainee, as_of, model, difficulties)
    return {
        trainee: {role.id: assess_role(role, skills, model, policy, as_of) for role in roles}
        for trainee, skills in masteries.items()
    }
