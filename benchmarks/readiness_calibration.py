"""Calibration of readiness on a simulated cohort (lms/readiness/synthetic.py), against the truth.

Prints, for the shipped model and policy:
- the coverage of the 80% intervals of per-skill mastery (share containing the true level);
- for each confidence threshold, the precision and recall of "ready" for trainees truly at or
  above target on every critical skill of a role, pooled over the example roles;
- the threshold chosen: the lowest confidence whose precision is >= 0.95 (a recruiter can bet on
  "ready"), which keeps recall as high as that precision allows. The baseline is the old rule
  (ready when the figure is >= 0.9), measured on the same cohort in the same run.

    .venv/bin/python benchmarks/readiness_calibration.py --trainees 300 --seed 1
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np

from lms.readiness import DEFAULT_MODEL, DEFAULT_POLICY, assess_role, estimate_cohort_masteries
from lms.readiness.difficulty import cohort_difficulties
from lms.readiness.synthetic import EXAMPLE_ROLES, generate_cohort

PRECISION_GOAL = 0.95
THRESHOLDS = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)


def main() -> None:
    """Run the simulation and print the calibration figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainees", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    cohort = generate_cohort(args.trainees, seed=args.seed)
    evidence = cohort.evidence_by_trainee()
    truth = cohort.true_levels()
    masteries = estimate_cohort_masteries(
        evidence, cohort.as_of, DEFAULT_MODEL, cohort_difficulties(evidence)
    )
    covered = [
        m.low <= truth[t][s] <= m.high for t, skills in masteries.items() for s, m in skills.items()
    ]
    print(f"trainees={args.trainees} seed={args.seed} skill estimates={len(covered)}")
    print(f"80% interval coverage: {np.mean(covered):.3f} (goal 0.75-0.85)")
    print(f"{'confidence':>10} {'precision':>9} {'recall':>6} {'ready':>5} {'truly':>5}")
    chosen = None
    for confidence in THRESHOLDS:
        policy = dataclasses.replace(DEFAULT_POLICY, confidence=confidence)
        precision, recall, ready, truly = _decisions(masteries, truth, cohort.as_of, policy)
        print(f"{confidence:>10.2f} {precision:>9.3f} {recall:>6.3f} {ready:>5} {truly:>5}")
        if chosen is None and precision >= PRECISION_GOAL:
            chosen = (confidence, precision, recall)
    precision, recall, ready, truly = _decisions(masteries, truth, cohort.as_of, DEFAULT_POLICY)
    print(
        f"shipped confidence {DEFAULT_POLICY.confidence:.2f}: precision {precision:.3f},"
        f" recall {recall:.3f} ({ready} ready of {truly} truly above target)"
    )
    if chosen:
        print(
            f"lowest confidence with precision >= {PRECISION_GOAL}: {chosen[0]:.2f}"
            f" (precision {chosen[1]:.3f}, recall {chosen[2]:.3f})"
        )
    base_p, base_r = _baseline(masteries, truth, cohort.as_of)
    print(
        f"baseline (figure >= 0.9 is ready): precision {base_p:.3f}, recall {base_r:.3f};"
        f" precision ratio shipped/baseline {precision / base_p if base_p else float('inf'):.2f}"
    )


def _decisions(masteries, truth, as_of, policy):
    tp = fp = fn = 0
    for role in EXAMPLE_ROLES:
        for trainee, skills in masteries.items():
            result = assess_role(role, skills, DEFAULT_MODEL, policy, as_of)
            above = all(truth[trainee][r.skill] >= r.level for r in role.skills if r.critical)
            ready = result.status == "ready"
            tp += ready and above
            fp += ready and not above
            fn += above and not ready
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, tp + fp, tp + fn


def _baseline(masteries, truth, as_of):
    tp = fp = fn = 0
    for role in EXAMPLE_ROLES:
        for trainee, skills in masteries.items():
            result = assess_role(role, skills, DEFAULT_MODEL, DEFAULT_POLICY, as_of)
            capped = sum(
                min(line.mastery / line.target, 1.0) * line.weight for line in result.skills
            ) / sum(line.weight for line in result.skills)
            above = all(truth[trainee][r.skill] >= r.level for r in role.skills if r.critical)
            ready = capped >= 0.9
            tp += ready and above
            fp += ready and not above
            fn += above and not ready
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0)


if __name__ == "__main__":
    main()
