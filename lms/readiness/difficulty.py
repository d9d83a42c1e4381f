"""Item difficulty from the cohort's own results: a logit offset per grade cell.

Two estimates, both from first counted attempts only (retries after feedback would make every
cell look easy):

`cohort_difficulties` (what readiness uses) fits difficulties *jointly* with the cohort's
abilities, the Rasch model of lms/readiness/mastery.py (partial credit, split credit, the
practice floor, learning): alternately, every (trainee, skill) ability given the difficulties,
then every cell's difficulty given the abilities (with a Normal(0, ITEM_SD) prior, so a cell seen
a few times stays near average), each by Fisher scoring. The scale is anchored *per skill*: the
cells testing a skill average difficulty 0, which is what a mastery level means (the chance of
earning the points of a cell of average difficulty testing the skill). A cell's pass rate alone
cannot tell a hard cell from a skill the cohort is weak at: centred on the cohort's overall pass
rate, every cell of a skill the whole cohort is good at looked easy and that skill's levels read
low (up to 0.6 logits on simulated cohorts), and a pass rate's logit understates an item's spread
because abilities differ. The joint fit separates the two; on the simulated cohorts it raised the
recall of "ready" at precision 0.95 from about 0.60 to 0.72 (benchmarks/readiness_calibration.py).

`difficulty_offsets` is the pass-rate estimate from aggregates alone (the instructors' pages use
it to say which cells the cohort misses), shrunk toward the cohort's mean by `PSEUDO_ATTEMPTS`
(a Beta-Binomial prior):

    rate_c = (points_c + k * mean) / (attempts_c + k)
    d_c    = logit(mean) - logit(rate_c)           (> 0: harder than average)

Passing a cell most of the cohort misses then says more about a trainee than passing one everyone
passes (lms/readiness/mastery.py uses d_c as the cell's offset).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping

import numpy as np
from scipy.special import logit

from lms.readiness.evidence import Evidence, count_once
from lms.readiness.mastery import DEFAULT_MODEL, SECONDS_PER_DAY, MasteryModel, fisher_score

PSEUDO_ATTEMPTS = 10.0
# Rates are kept inside [EDGE, 1 - EDGE] so a cell nobody (or everybody) passed has a finite offset.
EDGE = 0.02
ITEM_SD = 1.0  # logits: the prior spread of cell difficulties in the joint fit
JOINT_ROUNDS = 30  # at most this many alternations of the joint fit (abilities, difficulties)
CONVERGED = 1e-6  # logits: the fit stops once no cell's difficulty moves more in a round
INNER_STEPS = 3  # Fisher-scoring steps per alternation, for each side


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
    model: MasteryModel = DEFAULT_MODEL,
) -> dict[tuple[str, str], float]:
    """Each cell's difficulty fitted jointly with the cohort's abilities, anchored per skill
    (see the module docstring), from each trainee's first counted attempt at each exercise."""
    pairs: dict[tuple[Hashable, str], int] = {}
    cells: dict[tuple[str, str], int] = {}
    skills: dict[str, int] = {}
    rows: list[tuple[int, int, int, float, float, float, float]] = []
    for trainee, items in evidence_by_trainee.items():
        items = list(items)
        counted = count_once(items)
        for item in items:
            if counted[item.result_key].order != 1:
                continue
            rows.append(
                (
                    pairs.setdefault((trainee, item.skill), len(pairs)),
                    cells.setdefault((item.exercise, item.grade_id), len(cells)),
                    skills.setdefault(item.skill, len(skills)),
                    1.0 / item.cell_skills,
                    item.fraction,
                    model.practice_floor if item.kind == "practice" else 0.0,
                    item.at.timestamp() / SECONDS_PER_DAY,
                )
            )
    if not rows:
        return {}
    table = np.array(rows, dtype=float)
    pair_index, cell_index, skill_index = (table[:, k].astype(np.intp) for k in range(3))
    weights, fractions, floors, days = table[:, 3], table[:, 4], table[:, 5], table[:, 6]
    npairs, ncells, nskills = len(pairs), len(cells), len(skills)
    # Learning, as the mastery model has it: work long before a skill's newest was harder then.
    newest = np.full(npairs, -np.inf)
    np.maximum.at(newest, pair_index, days)
    before = newest[pair_index] - days
    learning = model.learning_logits * before / (before + model.learning_days)
    # Each distinct (cell, skill): the anchor averages a skill's cells, each once.
    links = np.unique(np.stack([cell_index, skill_index]), axis=1)
    per_skill = np.bincount(links[1], minlength=nskills).astype(float)
    per_cell = np.bincount(links[0], minlength=ncells).astype(float)
    theta = np.full(npairs, model.prior_mean)
    difficulty = np.zeros(ncells)
    ability_precision = 1.0 / model.prior_sd**2
    item_precision = 1.0 / ITEM_SD**2
    previous = difficulty.copy()
    for _ in range(JOINT_ROUNDS):
        for _ in range(INNER_STEPS):
            offsets = difficulty[cell_index] + learning
            gradient, information = fisher_score(
                theta, pair_index, npairs, weights, fractions, offsets, floors
            )
            gradient -= (theta - model.prior_mean) * ability_precision
            theta += np.clip(gradient / (information + ability_precision), -2.0, 2.0)
        for _ in range(INNER_STEPS):
            # The same likelihood seen from the cells: -d plays the ability, -theta the offset.
            offsets = learning - theta[pair_index]
            gradient, information = fisher_score(
                -difficulty, cell_index, ncells, weights, fractions, offsets, floors
            )
            gradient += difficulty * item_precision
            difficulty -= np.clip(gradient / (information + item_precision), -2.0, 2.0)
        skill_mean = np.bincount(links[1], difficulty[links[0]], nskills) / per_skill
        difficulty -= np.bincount(links[0], skill_mean[links[1]], ncells) / per_cell
        if np.abs(difficulty - previous).max() < CONVERGED:
            break
        previous = difficulty.copy()
    return {cell: float(difficulty[number]) for cell, number in cells.items()}
