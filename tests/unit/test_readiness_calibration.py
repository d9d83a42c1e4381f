"""The calibration on one held-out simulated cohort (benchmarks/readiness_calibration.py has the
full measurement): intervals cover the truth as they claim, "ready" can be bet on, the figure
does not pile up at the top."""

from __future__ import annotations

import pytest

from lms.readiness import cohort_difficulties, estimate_cohort_masteries, score_cohort
from lms.readiness.synthetic import EXAMPLE_ROLES, generate_cohort


@pytest.fixture(scope="module")
def simulated():
    cohort = generate_cohort(300, seed=3)  # a held-out seed: the threshold was not chosen on it
    evidence = cohort.evidence_by_trainee()
    difficulties = cohort_difficulties(evidence)
    masteries = estimate_cohort_masteries(evidence, cohort.as_of, difficulties=difficulties)
    scored = score_cohort(evidence, EXAMPLE_ROLES, cohort.as_of, difficulties=difficulties)
    return cohort, masteries, scored


def test_eighty_percent_intervals_cover_the_truth_75_to_85_percent_of_the_time(simulated):
    cohort, masteries, _ = simulated
    truth = cohort.true_levels()
    covered = [
        m.low <= truth[t][s] <= m.high for t, skills in masteries.items() for s, m in skills.items()
    ]
    assert 0.75 <= sum(covered) / len(covered) <= 0.85


def test_ready_is_right_at_least_95_percent_of_the_time_and_finds_most(simulated):
    cohort, _, scored = simulated
    truth = cohort.true_levels()
    tp = fp = fn = 0
    for role in EXAMPLE_ROLES:
        for trainee, roles in scored.items():
            ready = roles[role.id].status == "ready"
            above = all(truth[trainee][r.skill] >= r.level for r in role.skills if r.critical)
            tp, fp, fn = (
                tp + (ready and above),
                fp + (ready and not above),
                fn + (above and not ready),
            )
    assert tp / (tp + fp) >= 0.95
    # Measured 0.69 over three held-out seeds; 0.8 is not reached (lms/readiness/mastery.py).
    assert tp / (tp + fn) >= 0.6


def test_the_figure_does_not_pile_up_at_the_top(simulated):
    _, _, scored = simulated
    for role in EXAMPLE_ROLES:
        figures = sorted(roles[role.id].score for roles in scored.values())
        assert figures[-1] < 0.99
        assert sum(f >= 0.95 for f in figures) <= 0.05 * len(figures)
        assert len({round(f, 3) for f in figures[-30:]}) >= 25  # the top is still ordered
