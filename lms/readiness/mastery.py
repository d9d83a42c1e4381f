"""Mastery of a skill as an estimate with its uncertainty: a one-parameter IRT (Rasch) model with
cohort-estimated item difficulty, split credit, explicit forgetting, and evidence counted once.

The model
---------
A trainee's ability at a skill is a logit `theta`; their *mastery level* is sigmoid(theta), the
chance of earning the points of a cell of average difficulty testing the skill. A cell `i` with
difficulty `d_i` (a logit offset estimated from the cohort's own first attempts, see
lms/readiness/difficulty.py: a cell most of the cohort misses is hard) is passed with
probability sigmoid(theta - d_i). Its share of points `f_i` enters the likelihood in the
fractional (partial-credit) form, with a weight `w_i`:

    log L(theta) = sum_i w_i [f_i log s(theta - o_i) + (1 - f_i) log s(o_i - theta)]

with a prior theta ~ Normal(prior_mean, prior_sd). The posterior is approximated at its mode
(Newton's method, vectorised over every trainee and skill; the log-likelihood is concave so it
converges) by a Normal with sd = 1 / sqrt(-second derivative) (Laplace), widened by the scale's
anchor uncertainty (sd = hypot(sd, anchor_sd), see below). The reported level is
E[sigmoid(theta)] under that Normal (the probit approximation), and the interval is
sigmoid(theta_hat +/- z * sd), the central `credible_mass` (80%) interval.

Each row's weight and offset:

    w_i = kind_weight * count_factor * (1 / cell_skills) * design_effect / (1 + age / memory_days)
    o_i = d_i + learning_logits * before / (before + learning_days)
    theta_now = theta_hat - forgetting_logits * idle / (idle + forgetting_days)

(`age`: days before `as_of`; `idle`: days since the skill's newest counted evidence; `before`:
days a row precedes that newest evidence.)

- kind_weight: an assessment (1.5) counts more than practice (1); practice may also be done with
  help (notes, a peer), so a practice cell is passed with chance
  practice_floor + (1 - practice_floor) * sigmoid(theta - o_i): a floor of points earned
  whatever the skill, which the estimate does not credit;
- count_factor: evidence counts once (lms/readiness/evidence.py): flagged results, identical
  re-sends and assessment retakes count 0; the k-th result of an exercise counts 2 ** -(k-1);
- split credit: a cell tagged with k skills gives each 1/k of its weight, never full credit to all;
- design_effect: the n cells of one result for one skill share one sitting, so they are worth
  n / (1 + (n - 1) rho) independent cells (Kish), each 1 / (1 + (n - 1) rho);
- learning: while a trainee works on a skill they improve, so work done long before their latest
  counts as done on a harder cell (it came from a weaker trainee);
- forgetting, explicitly: a skill not exercised fades: the ability estimated at the last sitting
  is lowered by up to `forgetting_logits` with the idle time, and old evidence also weighs less
  (hyperbolically, the power-law shape of forgetting curves rather than exponential decay: a
  60-day-old result keeps 75% of its weight, a year-old one a third), so the interval widens.
  A result done 45 days ago keeps 80% of its weight: two perfect checkpoints still count then.

No evidence is no estimate: a skill with no counted evidence has level 0 ("not enough
evidence"), never the prior's 0.5: what was not seen is not credited.

Why it behaves as the design requires
-------------------------------------
- More consistent evidence narrows the interval: every row adds w_i p_i (1 - p_i) to the
  posterior precision.
- Correct evidence never lowers the estimate: a full-score row adds w_i log s(theta - o_i), an
  increasing function of theta, to a concave log-posterior, so the mode can only move up; its
  precision can only grow, so the lower bound rises too. (A result dated before earlier ones of
  the same exercise can demote them to later attempts; counting once is by date, on purpose.)
- The figure cannot pile up at 100%: sigmoid(theta) < 1 and the probit shrinkage pulls an
  uncertain estimate toward 1/2, so a perfect record earns more only as it grows and ages well.
- Recent work, assessments and first attempts weigh more: all scale w_i.
- Difficulty is the cohort's, not the trainee's: passing a cell most miss says more.
- The interval never narrows below the scale's own uncertainty (`anchor_sd`, in quadrature
  with the posterior sd): cell difficulties are estimated from the cohort's pass rates, so a
  skill the whole cohort is good at has cells that look easy, and its levels read low by a
  few tenths of a logit (how much depends on the cohort, not on the trainee). Without it the
  80% intervals covered the truth 68-77% of the time on simulated cohorts; with 0.3 logits,
  75-84% (benchmarks/readiness_calibration.py).

Why "ready" misses honest trainees near the target (the calibration, stated)
---------------------------------------------------------------------------
On the simulated cohorts (lms/readiness/synthetic.py: six skills, ~50 graded cells per skill
and trainee over six months), held-out seeds, `benchmarks/readiness_calibration.py --trainees
300 --tune 1,2,6,7,8 --held-out 3,4,5`: 80% intervals cover the truth 81-85% of the time; at
the shipped confidence 0.78 (the lowest at which the tuning seeds reach precision 0.95),
"ready" has precision 0.962 and recall 0.69 (before this model: 0.960 and 0.54 at 0.75). Recall
0.8 at precision 0.95 is not reached. Of the four suspects, measured one at a time:

- *Item difficulty* was the largest, and was fixed: difficulties from pass rates centred on the
  whole cohort made every cell of a skill the cohort is good at look easy, so that skill's levels
  read up to 0.6 logits low (a bias against a fixed target, which no threshold can undo). Cells
  are now fitted jointly with abilities and anchored per skill (lms/readiness/difficulty.py):
  recall at precision 0.95 went from about 0.60 to 0.72 on held-out seeds.
- *Too conservative intervals*: the design effect assumed cells of one sitting correlated at 0.5;
  the simulated sitting effect (0.3 logits) makes it nearer 0.03, so each result was counted as
  two cells when it holds four or five. It is 0.1 now (coverage stays in 75-85%). This widens or
  narrows every interval alike, so it moves the threshold, hardly the trade-off.
- *Forgetting* is not what holds recall back: the model's forgetting is the simulator's, and
  weighting old work more (memory_days 730) or retries less changed recall by under 0.01.
- *Evidence per skill* is: the ability's error is 0.43 logits (what ~50 binary cells give; the
  posterior sd says the same), and on top of it the catalogue's own mean difficulty per skill
  is only known to about 0.2 logits (anchor_sd). The benchmark's rough Gaussian ceiling (an
  ideal rule, errors of that size, two critical skills) gives recall 0.64 at precision 0.95;
  the model reaches 0.72 at its best held-out threshold; recall 0.8 needs an error near 0.28
  logits, about twice the evidence per skill. The targets are left as they are: they
  are what the truth is judged against.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, TypeVar

import numpy as np
from scipy.special import expit, logit
from scipy.stats import norm

from lms.readiness.evidence import Evidence, as_utc, count_once

SECONDS_PER_DAY = 86_400.0
NEWTON_STEPS = 25

TraineeKey = TypeVar("TraineeKey", bound=Hashable)
Difficulties = Mapping[tuple[str, str], float]  # (exercise slug, grade_id) -> logit offset


class WeightedEvidence(NamedTuple):
    """A piece of evidence and the weight the model gave it (the explanation of a mastery)."""

    evidence: Evidence
    weight: float


@dataclass(frozen=True, slots=True)
class Mastery:
    """A trainee's mastery of one skill: level, interval, ability (logits) and the evidence used."""

    skill: str
    mean: float
    low: float
    high: float
    theta: float
    sd: float
    # Sum of the weights used, in fresh first-attempt practice cells.
    evidence_weight: float
    last_at: datetime | None = None  # the newest evidence that counted
    evidence: tuple[Evidence, ...] = ()
    weights: tuple[float, ...] = ()  # the weight used for each piece of evidence, in order

    @property
    def has_evidence(self) -> bool:
        """Whether any evidence counted for this skill."""
        return self.evidence_weight > 0

    def weighted_evidence(self) -> tuple[WeightedEvidence, ...]:
        """Each piece of evidence with the weight it was given, oldest first (then by exercise
        and cell): what explains this mastery, in the same order on every database."""
        pairs = sorted(
            zip(self.evidence, self.weights, strict=True),
            key=lambda pair: (pair[0].at, pair[0].exercise, pair[0].grade_id),
        )
        return tuple(WeightedEvidence(ev, weight) for ev, weight in pairs)

    def chance_above(self, level: float) -> float:
        """Posterior probability that the true level is at least `level` (0 without evidence)."""
        if not self.has_evidence:
            return 0.0
        return float(norm.sf((float(logit(level)) - self.theta) / self.sd))

    def demonstrates(self, level: float, confidence: float = 0.8) -> bool:
        """True when the skill is shown with confidence: P(level reached) >= confidence."""
        return self.chance_above(level) >= confidence


@dataclass(frozen=True)
class MasteryModel:
    """Parameters of the model; defaults checked by benchmarks/readiness_calibration.py."""

    prior_mean: float = 0.0
    prior_sd: float = 1.5
    assessment_weight: float = 1.5
    practice_weight: float = 1.0
    practice_floor: float = 0.15
    credible_mass: float = 0.8
    cell_correlation: float = 0.1
    memory_days: float = 365.0
    forgetting_logits: float = 0.4
    forgetting_days: float = 120.0
    learning_logits: float = 0.5
    learning_days: float = 90.0
    anchor_sd: float = 0.3

    def __post_init__(self) -> None:
        positive = (
            "prior_sd",
            "practice_weight",
            "memory_days",
            "forgetting_days",
            "learning_days",
        )
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"MasteryModel.{name} must be > 0, got {getattr(self, name)}")
        if not 0 <= self.cell_correlation <= 1:
            raise ValueError("MasteryModel.cell_correlation must be in [0, 1]")
        if not self.assessment_weight >= self.practice_weight:
            raise ValueError("MasteryModel.assessment_weight must be at least practice_weight")
        if not 0 < self.credible_mass < 1:
            raise ValueError("MasteryModel.credible_mass must be in (0, 1)")
        if self.anchor_sd < 0:
            raise ValueError("MasteryModel.anchor_sd must be >= 0")
        if self.forgetting_logits < 0:
            raise ValueError("MasteryModel.forgetting_logits must be >= 0")

    @property
    def z(self) -> float:
        """The normal quantile of the interval's upper end."""
        return float(norm.ppf(0.5 + self.credible_mass / 2))

    def prior_mastery(self, skill: str) -> Mastery:
        """The mastery of a skill with no evidence: level 0, an interval up to the prior's top."""
        high = float(expit(self.prior_mean + self.z * self.prior_sd))
        return Mastery(skill, 0.0, 0.0, high, self.prior_mean, self.prior_sd, 0.0)


DEFAULT_MODEL = MasteryModel()


def estimate_mastery(
    evidence: Iterable[Evidence],
    skill: str,
    as_of: datetime,
    model: MasteryModel = DEFAULT_MODEL,
    difficulties: Difficulties | None = None,
) -> Mastery:
    """One trainee's mastery of `skill` as of a date, from their evidence."""
    masteries = estimate_masteries(evidence, as_of, model, difficulties)
    return masteries.get(skill) or model.prior_mastery(skill)


def estimate_masteries(
    evidence: Iterable[Evidence],
    as_of: datetime,
    model: MasteryModel = DEFAULT_MODEL,
    difficulties: Difficulties | None = None,
) -> dict[str, Mastery]:
    """One trainee's mastery of every skill they have evidence for, as of a date."""
    return estimate_cohort_masteries({None: evidence}, as_of, model, difficulties).get(None, {})


def estimate_cohort_masteries(
    evidence_by_trainee: Mapping[TraineeKey, Iterable[Evidence]],
    as_of: datetime,
    model: MasteryModel = DEFAULT_MODEL,
    difficulties: Difficulties | None = None,
) -> dict[TraineeKey, dict[str, Mastery]]:
    """Every trainee's mastery of every skill with evidence, in one vectorised pass.

    Evidence dated after `as_of` is ignored (it did not exist yet). Skills whose evidence all
    counted 0 (flagged, identical, retaken) are present with level 0 and their evidence listed.
    """
    now = as_utc(as_of)
    difficulties = difficulties or {}
    trainees = list(evidence_by_trainee)
    out: dict[TraineeKey, dict[str, Mastery]] = {trainee: {} for trainee in trainees}
    rows: list[Evidence] = []
    factors: list[float] = []
    pair_of: list[int] = []
    pairs: dict[tuple[int, str], int] = {}
    pair_list: list[tuple[int, str]] = []
    for number, trainee in enumerate(trainees):
        items = [item for item in evidence_by_trainee[trainee] if item.at <= now]
        counted = count_once(items)
        for item in items:
            key = (number, item.skill)
            if key not in pairs:
                pairs[key] = len(pair_list)
                pair_list.append(key)
            rows.append(item)
            factors.append(counted[item.result_key].factor)
            pair_of.append(pairs[key])
    if not rows:
        return out
    count = len(rows)
    pair_index = np.fromiter(pair_of, np.intp, count)
    npairs = len(pair_list)
    ages = np.fromiter(((now - r.at).total_seconds() for r in rows), float, count)
    ages /= SECONDS_PER_DAY
    fractions = np.fromiter((r.fraction for r in rows), float, count)
    kind_weight = np.fromiter(
        (
            model.assessment_weight if r.kind == "assessment" else model.practice_weight
            for r in rows
        ),
        float,
        count,
    )
    split = 1.0 / np.fromiter((r.cell_skills for r in rows), float, count)
    # Cells of one result for one skill: the design effect's n.
    result_codes: dict[tuple, int] = {}
    result_of = np.fromiter(
        (
            result_codes.setdefault((pair_of[i], rows[i].result_key), len(result_codes))
            for i in range(count)
        ),
        np.intp,
        count,
    )
    cells = np.bincount(result_of).astype(float)[result_of]
    design = 1.0 / (1.0 + (cells - 1.0) * model.cell_correlation)
    weights = kind_weight * np.asarray(factors) * split * design / (1.0 + ages / model.memory_days)
    offsets = np.fromiter(
        (difficulties.get((r.exercise, r.grade_id), 0.0) for r in rows), float, count
    )
    # Learning: work done `before` days ahead of the skill's newest counted work came from a
    # weaker trainee: to them the cell was harder than it is to the trainee of that last sitting.
    stamps = np.where(weights > 0, -ages, -np.inf)
    newest = np.full(npairs, -np.inf)
    np.maximum.at(newest, pair_index, stamps)
    idle = np.where(np.isfinite(newest), -newest, 0.0)  # days since the skill was last shown
    before = np.maximum(ages - idle[pair_index], 0.0)
    offsets += model.learning_logits * before / (before + model.learning_days)
    floors = np.fromiter(
        (model.practice_floor if r.kind == "practice" else 0.0 for r in rows), float, count
    )
    theta, sd = _posterior(pair_index, npairs, weights, fractions, offsets, floors, model)
    # The scale's anchor: a skill's cells are only known to be harder or easier relative to
    # the cohort's results, so the skill's level carries that uncertainty however much
    # evidence there is.
    sd = np.hypot(sd, model.anchor_sd)
    # Forgetting: an ability not exercised for `idle` days has faded since.
    theta = theta - model.forgetting_logits * idle / (idle + model.forgetting_days)
    total = np.bincount(pair_index, weights, npairs)
    z = model.z
    level = expit(theta / np.sqrt(1.0 + math.pi * sd**2 / 8.0))
    low, high = expit(theta - z * sd), expit(theta + z * sd)
    last: dict[int, datetime] = {}
    grouped: dict[int, list[int]] = defaultdict(list)
    for i in range(count):
        grouped[pair_of[i]].append(i)
        if weights[i] > 0 and (pair_of[i] not in last or rows[i].at > last[pair_of[i]]):
            last[pair_of[i]] = rows[i].at
    weight_list = weights.tolist()
    for pair, (owner, skill) in enumerate(pair_list):
        members = grouped[pair]
        evidence = tuple(rows[i] for i in members)
        used = tuple(weight_list[i] for i in members)
        if total[pair] <= 0:
            prior = model.prior_mastery(skill)
            out[trainees[owner]][skill] = Mastery(
                skill, 0.0, 0.0, prior.high, prior.theta, prior.sd, 0.0, None, evidence, used
            )
            continue
        out[trainees[owner]][skill] = Mastery(
            skill,
            float(level[pair]),
            float(low[pair]),
            float(high[pair]),
            float(theta[pair]),
            float(sd[pair]),
            float(total[pair]),
            last.get(pair),
            evidence,
            used,
        )
    return out


def _posterior(
    pair_index: np.ndarray,
    npairs: int,
    weights: np.ndarray,
    fractions: np.ndarray,
    offsets: np.ndarray,
    floors: np.ndarray,
    model: MasteryModel,
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mode and Laplace sd of theta for every (trainee, skill), by Fisher scoring."""
    precision0 = 1.0 / model.prior_sd**2
    theta = np.full(npairs, model.prior_mean)
    for _ in range(NEWTON_STEPS):
        gradient, information = fisher_score(
            theta, pair_index, npairs, weights, fractions, offsets, floors
        )
        gradient -= (theta - model.prior_mean) * precision0
        step = np.clip(gradient / (information + precision0), -2.0, 2.0)
        theta = theta + step
        if np.abs(step).max() < 1e-9:
            break
    _, information = fisher_score(theta, pair_index, npairs, weights, fractions, offsets, floors)
    return theta, 1.0 / np.sqrt(information + precision0)


def fisher_score(
    theta: np.ndarray,
    pair_index: np.ndarray,
    npairs: int,
    weights: np.ndarray,
    fractions: np.ndarray,
    offsets: np.ndarray,
    floors: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and Fisher information of the log-likelihood in `theta`, per index (a
    (trainee, skill) pair, or a cell when difficulty.py fits difficulties: pass -d and
    -theta)."""
    s = expit(theta[pair_index] - offsets)
    chance = floors + (1 - floors) * s
    slope = (1 - floors) * s * (1 - s)  # d chance / d theta
    spread = chance * (1 - chance)
    gradient = np.bincount(pair_index, weights * (fractions - chance) * slope / spread, npairs)
    information = np.bincount(pair_index, weights * slope**2 / spread, npairs)
    return gradient, information
