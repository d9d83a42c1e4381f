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

from scipy.special import logit

from lms.readiness.evidence import Evidence, count_once

PSEUDO_ATTEMPTS = 10.0
# Rates are kept inside [EDGE, 1 - EDGE] so a cell nobody (or everybody) passed has a finite offset.
EDGE = 0.02


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
