"""Item difficulty from the cohort's own results: a logit offset per grade cell.

A cell's difficulty is how much less often the cohort earns its points than it earns an average
cell's, on the logit scale, from first counted attempts only (retries after feedback would make
every cell look easy). Its pass rate is shrunk toward the cohort's mean by `PSEUDO_ATTEMPTS`
(a Beta-Binomial prior), so a cell seen a few times stays near average difficulty:

    rate_c = (points_c + k * mean) / (attempts_c + k)
    d_c    = logit(mean) - logit(rate_c)           (> 0: harder than average)

Passing a cell most of the cohort misses then says more about a trainee than passing one everyone
passes (lms/readiness/mastery.py uses d_c as the cell's offset).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from datetime import datetime

import numpy as np
from scipy.special import expit, logit

from lms.readiness.evidence import Evidence, as_utc, count_once
from lms.readiness.mastery import DEFAULT_MODEL, MasteryModel, evidence_design, posterior_ability

PSEUDO_ATTEMPTS = 10.0
# Rates are kept inside [EDGE, 1 - EDGE] so a cell nobody (or everybody) passed has a finite offset.
EDGE = 0.02
FIT_ROUNDS = 6
DIFFICULTY_PRIOR_SD = 1.0  # logits: cells differ in difficulty by about this much


def difficulty_offsets(
    stats: Iterable[tuple[str, str, float, float]],
) -> dict[tuple[str, str], float]:
    """(exercise, grade_id, points share earned summed over attempts, attempts) -> offsets."""
    rows = [
        (exercise, grade_id, float(points), float(attempts))
        for exercise, grade_id, points, attempts in stats
        if attempts > 0
    ]
    total_attempts = sum(row[3] for row in rows)
    if not total_attempts:
        return {}
    mean = min(max(sum(row[2] for row in rows) / total_attempts, EDGE), 1 - EDGE)
    out = {}
    for exercise, grade_id, points, attempts in rows:
        rate = (points + PSEUDO_ATTEMPTS * mean) / (attempts + PSEUDO_ATTEMPTS)
        rate = min(max(rate, EDGE), 1 - EDGE)
        out[(exercise, grade_id)] = float(logit(mean) - logit(rate))
    return out


def cohort_difficulties(
    evidence_by_trainee: Mapping[Hashable, Iterable[Evidence]],
) -> dict[tuple[str, str], float]:
    """Offsets from a cohort's evidence: each cell's first counted attempt per trainee."""
    points: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for items in evidence_by_trainee.values():
        items = list(items)
        counted = count_once(items)
        seen: set[tuple] = set()
        for item in items:
            key = (item.result_key, item.grade_id)
            if counted[item.result_key].order != 1 or key in seen:
                continue
            seen.add(key)
            total = points[(item.exercise, item.grade_id)]
            total[0] += item.fraction
            total[1] += 1
    return difficulty_offsets((ex, gid, p, n) for (ex, gid), (p, n) in points.items())


def fit_difficulties(
    evidence_by_trainee: Mapping[Hashable, Iterable[Evidence]],
    as_of: datetime,
    model: MasteryModel = DEFAULT_MODEL,
    rounds: int = FIT_ROUNDS,
) -> dict[tuple[str, str], float]:
    """Offsets fitted jointly with the abilities (joint maximum a posteriori Rasch).

    Pass rates confound a cell's difficulty with who attempted it: the cells of a skill the
    cohort is good at look easy, and an ability spread compresses every offset. Alternating
    fits remove both: the abilities given the offsets, then each offset given the abilities
    (one Newton step, prior Normal(0, DIFFICULTY_PRIOR_SD)), centred so the average cell of
    the catalogue stays at 0 (the scale the mastery level is read on). The offsets of pass
    rates (`cohort_difficulties`) are the starting point.
    """
    evidence_by_trainee = {key: list(items) for key, items in evidence_by_trainee.items()}
    start = cohort_difficulties(evidence_by_trainee)
    now = as_utc(as_of)
    design = evidence_design(evidence_by_trainee, list(evidence_by_trainee), now, model)
    if design is None:
        return start
    rows = design.rows
    items: dict[tuple[str, str], int] = {}
    item_of = np.fromiter(
        (items.setdefault((r.exercise, r.grade_id), len(items)) for r in rows), np.intp, len(rows)
    )
    keys = list(items)
    difficulty = np.fromiter((start.get(key, 0.0) for key in keys), float, len(keys))
    used = design.weights > 0
    precision0 = 1.0 / DIFFICULTY_PRIOR_SD**2
    npairs = len(design.pair_list)
    for _ in range(rounds):
        offsets = design.offsets + difficulty[item_of]
        theta, _sd = posterior_ability(
            design.pair_index,
            npairs,
            design.weights,
            design.fractions,
            offsets,
            design.floors,
            model,
        )
        # The score in d is minus the score in theta, row by row.
        gradient, information = _row_scores(
            theta[design.pair_index], offsets, design.fractions, design.floors
        )
        weights = np.where(used, design.weights, 0.0)
        g = -np.bincount(item_of, weights * gradient, len(keys)) - difficulty * precision0
        h = np.bincount(item_of, weights * information, len(keys)) + precision0
        difficulty = difficulty + np.clip(g / h, -1.0, 1.0)
        seen = np.bincount(item_of, weights, len(keys))
        difficulty -= np.average(difficulty, weights=seen) if seen.sum() else 0.0
    return {key: float(value) for key, value in zip(keys, difficulty, strict=True)}


def _row_scores(theta, offsets, fractions, floors):
    """Per row: d log L / d theta and the Fisher information, for the partial-credit rows."""
    s = expit(theta - offsets)
    chance = floors + (1 - floors) * s
    slope = (1 - floors) * s * (1 - s)
    spread = chance * (1 - chance)
    return (fractions - chance) * slope / spread, slope**2 / spread
