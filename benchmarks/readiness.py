"""Time role readiness for a synthetic cohort against merely reading its evidence, same run.

    .venv/bin/python benchmarks/readiness.py                    # 500 trainees x 60 exercises
    .venv/bin/python benchmarks/readiness.py --accuracy 5       # + ranking figures over 5 seeds

The baseline is one pass over every piece of evidence touching each field the model reads; the
figure that matters is the ratio, which does not depend on how fast this machine is today.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from scipy.stats import spearmanr

from lms.readiness import estimate_cohort_masteries, score_cohort
from lms.readiness.synthetic import EXAMPLE_ROLES, generate_cohort

ROLES = EXAMPLE_ROLES


def best_time(run: Callable[[], object], repeats: int) -> float:
    """Fastest of `repeats` runs, in seconds (the least disturbed by other work on the box)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def read_every_evidence(evidence_by_trainee) -> float:
    """Baseline: touch every field the model uses, once per piece of evidence."""
    total = 0.0
    for evidence in evidence_by_trainee.values():
        for item in evidence:
            total += item.score / item.max_score + item.at.timestamp() * 0
            total += (item.kind == "assessment") + item.attempt + item.after_feedback
            total += len(item.skill) + len(item.exercise)
    return total


def timing(trainees: int, exercises: int, repeats: int) -> None:
    cohort = generate_cohort(trainees=trainees, exercises=exercises, seed=0)
    evidence = cohort.evidence_by_trainee()
    count = sum(len(items) for items in evidence.values())
    baseline = best_time(lambda: read_every_evidence(evidence), repeats)
    readiness = best_time(lambda: score_cohort(evidence, ROLES, cohort.as_of), repeats)
    print(
        f"{trainees} trainees x {exercises} exercises: {count} pieces of evidence,"
        f" {len(ROLES)} roles, best of {repeats}"
    )
    print(f"  baseline (read every evidence once): {baseline * 1000:8.1f} ms")
    print(f"  readiness for every trainee and role: {readiness * 1000:8.1f} ms")
    print(f"  ratio readiness / baseline: {readiness / baseline:.1f}x")


def accuracy(seeds: int, trainees: int) -> None:
    skill_figures, role_figures = [], []
    flagged = truly_flagged = truly_ready = 0
    for seed in range(seeds):
        cohort = generate_cohort(trainees=trainees, seed=seed)
        truth = cohort.true_levels()
        masteries = estimate_cohort_masteries(cohort.evidence_by_trainee(), cohort.as_of)
        readiness = score_cohort(cohort.evidence_by_trainee(), ROLES, cohort.as_of)
        for skill in cohort.skills:
            estimated = [masteries[email][skill].mean for email in truth]
            skill_figures.append(spearmanr(estimated, [truth[e][skill] for e in truth]).statistic)
        for role in ROLES:
            total = sum(required.weight for required in role.skills)
            true_scores = {
                # The figure is the weighted mean of the levels (not capped at the targets).
                email: sum(r.weight * levels[r.skill] for r in role.skills) / total
                for email, levels in truth.items()
            }
            estimated = [readiness[email][role.id].score for email in truth]
            role_figures.append(spearmanr(estimated, list(true_scores.values())).statistic)
            ready = {e for e in truth if readiness[e][role.id].status == "ready"}
            really = {
                e
                for e in truth
                if true_scores[e] >= 0.9
                and all(truth[e][r.skill] >= r.level for r in role.skills if r.critical)
            }
            flagged += len(ready)
            truly_flagged += len(ready & really)
            truly_ready += len(really)
    print(f"ranking over {seeds} cohorts of {trainees} trainees (Spearman, estimate vs truth):")
    print(
        f"  per skill: min {min(skill_figures):.3f}  mean {statistics.mean(skill_figures):.3f}"
        f"  ({len(skill_figures)} figures)"
    )
    print(
        f"  per role:  min {min(role_figures):.3f}  mean {statistics.mean(role_figures):.3f}"
        f"  ({len(role_figures)} figures)"
    )
    print(
        f"  'ready': {flagged} flagged, {truly_flagged} truly ready"
        f" (precision {truly_flagged / max(flagged, 1):.2f});"
        f" {truly_ready} truly ready in all (recall {truly_flagged / max(truly_ready, 1):.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trainees", type=int, default=500)
    parser.add_argument("--exercises", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--accuracy", type=int, default=0, metavar="SEEDS")
    options = parser.parse_args()
    timing(options.trainees, options.exercises, options.repeats)
    if options.accuracy:
        accuracy(options.accuracy, trainees=200)


if __name__ == "__main__":
    main()
