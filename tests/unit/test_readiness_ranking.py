"""With a synthetic cohort of known true skill, the estimates rank trainees as the truth does."""

from __future__ import annotations

import dataclasses

import pytest
from scipy.stats import spearmanr

from lms.readiness import DEFAULT_POLICY, Role, estimate_cohort_masteries, score_cohort
from lms.readiness.difficulty import cohort_difficulties
from lms.readiness.synthetic import EXAMPLE_ROLES, generate_cohort

ROLES = EXAMPLE_ROLES


@pytest.fixture(scope="module")
def cohort():
    return generate_cohort(trainees=200, exercises=60, months=6, seed=0)


@pytest.fixture(scope="module")
def readiness(cohort):
    evidence = cohort.evidence_by_trainee()
    return score_cohort(evidence, ROLES, cohort.as_of, difficulties=cohort_difficulties(evidence))


def true_readiness(role: Role, levels: dict[str, float]) -> float:
    """The role figure the model aims at: the weighted mean of the true levels."""
    total = sum(required.weight for required in role.skills)
    return sum(required.weight * levels[required.skill] for required in role.skills) / total


def test_skill_ranking_agrees_with_the_truth(cohort):
    """Spearman >= 0.9 over all (trainee, skill) masteries and on average per skill.

    Each skill alone is held to 0.85: with 200 trainees a per-skill Spearman near 0.93 varies by
    about 0.01 from one cohort to the next, so a 0.9 floor on every one of six skills would fail
    on some seeds by chance (benchmarks/readiness.py prints the figures over several seeds).
    """
    masteries = estimate_cohort_masteries(cohort.evidence_by_trainee(), cohort.as_of)
    truth = cohort.true_levels()
    pairs = [(email, skill) for email in truth for skill in cohort.skills]
    pooled = spearmanr(
        [masteries[email][skill].mean for email, skill in pairs],
        [truth[email][skill] for email, skill in pairs],
    ).statistic
    per_skill = {
        skill: spearmanr(
            [masteries[email][skill].mean for email in truth],
            [truth[email][skill] for email in truth],
        ).statistic
        for skill in cohort.skills
    }
    assert pooled >= 0.9
    assert sum(per_skill.values()) / len(per_skill) >= 0.9, per_skill
    assert min(per_skill.values()) >= 0.85, per_skill


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role.id)
def test_role_readiness_ranking_agrees_with_the_truth(cohort, readiness, role):
    truth = cohort.true_levels()
    estimated = [readiness[email][role.id].score for email in truth]
    true = [true_readiness(role, truth[email]) for email in truth]
    assert spearmanr(estimated, true).statistic >= 0.9


def _precision(cohort, readiness, role):
    truth = cohort.true_levels()
    ready = [email for email in truth if readiness[email][role.id].status == "ready"]
    truly = [
        email
        for email in ready
        if all(truth[email][r.skill] >= r.level for r in role.skills if r.critical)
    ]
    return len(truly), len(ready)


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role.id)
def test_ready_is_mostly_right_and_a_stricter_confidence_makes_it_surer(cohort, role):
    """The measured trade-off (benchmarks/readiness_calibration.py): at the shipped confidence
    (0.78, what the tuning seeds choose) most of "ready" truly reaches
    every critical target; at 0.92 nearly all of it does. (The issue's goal, precision >= 0.95
    with recall >= 0.8 at one threshold, is not met on this simulation.)"""
    evidence = cohort.evidence_by_trainee()
    difficulties = cohort_difficulties(evidence)
    shipped = score_cohort(evidence, [role], cohort.as_of, difficulties=difficulties)
    strict = score_cohort(
        evidence,
        [role],
        cohort.as_of,
        policy=dataclasses.replace(DEFAULT_POLICY, confidence=0.92),
        difficulties=difficulties,
    )
    truly, ready = _precision(cohort, shipped, role)
    assert ready, "some trainee of a 200-strong cohort should be ready"
    assert truly >= 0.75 * ready
    strict_truly, strict_ready = _precision(cohort, strict, role)
    assert strict_truly >= 0.9 * strict_ready and strict_truly / strict_ready >= truly / ready


def test_cohort_is_deterministic_and_realistic(cohort):
    assert generate_cohort(trainees=20, seed=3) == generate_cohort(trainees=20, seed=3)
    assert generate_cohort(trainees=20, seed=3) != generate_cohort(trainees=20, seed=4)
    evidence = [item for trainee in cohort.trainees for item in trainee.evidence]
    assert {item.kind for item in evidence} == {"practice", "assessment"}
    assert any(item.after_feedback and item.attempt > 1 for item in evidence)
    assert all(cohort.start <= item.at <= cohort.as_of for item in evidence)
    assert len({item.exercise for item in evidence}) == 60
    levels = [level for trainee in cohort.trainees for level in trainee.true_levels.values()]
    assert 0 < min(levels) < 0.3 and 0.8 < max(levels) < 1
