"""Mastery of a skill as an estimate with its uncertainty: Beta-Bernoulli with time decay.

The model
---------
Each trainee's mastery of a skill is the probability `p` that they earn the points of a cell that
tests it. We keep a Beta(alpha, beta) belief about `p`, starting from a weak prior (Beta(1, 1):
"anything from 0 to 1", mean 0.5). One *result* is one submission of one exercise; its cells
for the skill add a weight `w` split as

    alpha += w * fraction_of_points      beta += w * (1 - fraction_of_points)

(the fractional form of the Bernoulli update, so partial credit counts in proportion), where

    w = kind_weight * retry_discount * 2 ** (-age_days / half_life_days) * result_size / n

- kind_weight: an assessment (2) counts more than a practice attempt (1);
- retry_discount (0.5): a retry, or an attempt made after seeing feedback, counts half, since
  the trainee was told what was wrong;
- the decay halves a result's weight every `half_life_days` (180) before `as_of`: the first
  module of a six-month programme still counts half at its end, and a skill shown stays shown
  for months of hiring. (With 90 days, "ready" was reached by half as many truly ready trainees
  of the synthetic cohort, and rankings were no better.) Ages are taken from an `as_of` passed
  in, never from the clock, so a figure is reproducible and can be computed as of any past date
  (results dated after `as_of` are ignored);
- result_size: cells of one submission are correlated (same sitting, same understanding), with
  an intra-result correlation rho (`cell_correlation`, 0.3). n cells are then worth
  n / (1 + (n - 1) rho) independent ones (Kish's design effect), never more than 1 / rho, so
  result_size = n rho / (1 + (n - 1) rho) lies in (0, 1): a one-cell result weighs rho, one with
  many cells approaches the full kind_weight;
- cell_share = 1 / n: the result's cells for this skill share its weight equally (points say
  how much effort an author expected, not how much a cell tells about the skill).

A result (one submission of one exercise, for one skill) therefore weighs less than kind_weight,
however many cells it has: that is what makes a "lucky result" one submission.

The estimate is the posterior mean alpha / (alpha + beta); the interval is the central
`credible_mass` (80%) credible interval of the Beta, from its quantile function (betaincinv). A
skill is *demonstrated* at a target level when the interval's lower bound reaches it.

Why it behaves as the design requires
-------------------------------------
- More consistent evidence narrows the interval: every result adds its weight to alpha + beta,
  the Beta's pseudo-count n, and its spread shrinks like sqrt(m (1 - m) / (n + 1)); results that
  agree keep m (1 - m) from growing, so the interval narrows.
- Recent work, assessments and first attempts weigh more: adding a result of weight w and score
  fraction f moves the mean from m by w (f - m) / (n + w), whose size grows with w; decay,
  kind_weight and retry_discount all scale w.
- Correct evidence never lowers the estimate. A full score in a new result adds to alpha only.
  A full-score cell added to an existing result (a hand-graded cell marked later) takes that
  result from n to n + 1 cells: its beta part, result_size(n) / n * (failed share), can only
  shrink because result_size(n) / n decreases with n, and its alpha part can only grow because
  result_size increases with n and the result's success rate rises. (This is why cells share a
  result equally rather than by points: a points split could move weight onto failed cells.)
  The mean alpha / (alpha + beta) rises with alpha and falls with beta, and the Beta is
  stochastically increasing in alpha and decreasing in beta, so both bounds rise too. Decay
  cannot undo this: weights depend only on each result's own date and the fixed `as_of`.
- One lucky result never demonstrates a skill: a single result weighs less than the largest kind
  weight (2); from Beta(1, 1), a perfect one gives less than Beta(3, 1), whose 10% quantile is
  0.1 ** (1 / 3) = 0.46 < 0.5. `MasteryModel` refuses any prior/weights for which one result
  could reach 0.5, so no target >= 0.5 can be met by a single result.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from itertools import compress
from operator import attrgetter
from typing import NamedTuple, TypeVar

import numpy as np
from scipy.special import betaincinv

from lms.readiness.evidence import Evidence, as_utc

SECONDS_PER_DAY = 86_400.0
# The lowest target level for which "one lucky result never demonstrates" is guaranteed.
LOWEST_GUARDED_TARGET = 0.5

TraineeKey = TypeVar("TraineeKey", bound=Hashable)


class WeightedEvidence(NamedTuple):
    """A piece of evidence and the weight the model gave it (the explanation of a mastery)."""

    evidence: Evidence
    weight: float


@dataclass(frozen=True, slots=True)
class Mastery:
    """A trainee's mastery of one skill: posterior mean, credible interval and the evidence used."""

    skill: str
    mean: float
    low: float
    high: float
    alpha: float
    beta: float
    # Sum of the weights used, in fresh first-attempt practice results of many cells.
    evidence_weight: float
    evidence: tuple[Evidence, ...] = ()
    weights: tuple[float, ...] = ()  # the weight used for each piece of evidence, in order

    def weighted_evidence(self) -> tuple[WeightedEvidence, ...]:
        """Each piece of evidence with the weight it was given: what explains this mastery."""
        return tuple(map(WeightedEvidence, self.evidence, self.weights))

    def demonstrates(self, level: float) -> bool:
        """True when the skill is shown with confidence: the interval's lower bound >= level."""
        return self.low >= level


@dataclass(frozen=True)
class MasteryModel:
    """Parameters of the Beta-Bernoulli model; the defaults are the ones the design argues for."""

    prior_alpha: float = 1.0
    prior_beta: float = 1.0
    assessment_weight: float = 2.0
    practice_weight: float = 1.0
    retry_discount: float = 0.5
    half_life_days: float = 180.0
    credible_mass: float = 0.8
    cell_correlation: float = 0.3
    _prior_interval: tuple[float, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        positive = ("prior_alpha", "prior_beta", "practice_weight", "half_life_days")
        if not 0 < self.cell_correlation <= 1:
            raise ValueError("MasteryModel.cell_correlation must be in (0, 1]")
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"MasteryModel.{name} must be > 0, got {getattr(self, name)}")
        if not self.assessment_weight > self.practice_weight:
            raise ValueError("MasteryModel.assessment_weight must exceed practice_weight")
        if not 0 < self.retry_discount < 1:
            raise ValueError("MasteryModel.retry_discount must be in (0, 1)")
        if not 0 < self.credible_mass < 1:
            raise ValueError("MasteryModel.credible_mass must be in (0, 1)")
        best_single = self.quantiles(self.prior_alpha + self.assessment_weight, self.prior_beta)[0]
        if best_single >= LOWEST_GUARDED_TARGET:
            raise ValueError(
                "MasteryModel: one perfect assessment would give a lower bound of"
                f" {best_single:.3f} >= {LOWEST_GUARDED_TARGET}; a single lucky result must never"
                " demonstrate a skill. Use a weaker prior or a smaller assessment_weight."
            )
        prior_interval = self.quantiles(self.prior_alpha, self.prior_beta)
        object.__setattr__(self, "_prior_interval", prior_interval)

    def quantiles(self, alpha: float, beta: float) -> tuple[float, float]:
        """Lower and upper bounds of the central credible interval of Beta(alpha, beta)."""
        tail = (1 - self.credible_mass) / 2
        low, high = betaincinv(alpha, beta, np.array([tail, 1 - tail]))
        return float(low), float(high)

    def prior_mastery(self, skill: str) -> Mastery:
        """The mastery of a skill with no evidence at all: the prior."""
        low, high = self._prior_interval
        alpha, beta = self.prior_alpha, self.prior_beta
        return Mastery(skill, alpha / (alpha + beta), low, high, alpha, beta, 0.0)


DEFAULT_MODEL = MasteryModel()


def estimate_mastery(
    evidence: Iterable[Evidence], skill: str, as_of: datetime, model: MasteryModel = DEFAULT_MODEL
) -> Mastery:
    """One trainee's mastery of `skill` as of a date, from their evidence (other skills ignored)."""
    relevant = [item for item in evidence if item.skill == skill]
    masteries = estimate_masteries(relevant, as_of, model)
    return masteries.get(skill) or model.prior_mastery(skill)


def estimate_masteries(
    evidence: Iterable[Evidence], as_of: datetime, model: MasteryModel = DEFAULT_MODEL
) -> dict[str, Mastery]:
    """One trainee's mastery of every skill they have evidence for, as of a date."""
    return estimate_cohort_masteries({None: evidence}, as_of, model).get(None, {})


def estimate_cohort_masteries(
    evidence_by_trainee: Mapping[TraineeKey, Iterable[Evidence]],
    as_of: datetime,
    model: MasteryModel = DEFAULT_MODEL,
) -> dict[TraineeKey, dict[str, Mastery]]:
    """Every trainee's mastery of every skill with evidence, in one linear, vectorised pass.

    Trainees without any evidence dated on or before `as_of` map to an empty dict; callers use
    `model.prior_mastery(skill)` for skills missing from a trainee's dict.
    """
    # Per-item work stays in C (map, zip, attrgetter, dict.fromkeys) and numpy: this runs over
    # every piece of evidence of a cohort (hundreds of thousands) on a recruiter's page.
    trainees = list(evidence_by_trainee)
    out: dict[TraineeKey, dict[str, Mastery]] = {trainee: {} for trainee in trainees}
    items: list[Evidence] = []
    owners: list[int] = []
    for number, trainee in enumerate(trainees):
        chunk = list(evidence_by_trainee[trainee])
        items.extend(chunk)
        owners.extend([number] * len(chunk))
    now = as_utc(as_of).timestamp()
    seconds = np.fromiter(map(datetime.timestamp, map(_AT, items)), float, len(items))
    happened = seconds <= now  # later evidence did not exist yet
    if not happened.all():
        items = list(compress(items, happened))
        owners = list(compress(owners, happened))
        seconds = seconds[happened]
    if not items:
        return out

    skills, exercises, attempts, submissions, kinds, after_feedback, scores, max_scores = (
        list(map(getter, items)) for getter in _FIELDS
    )
    pair_keys = list(zip(owners, skills, strict=True))
    pairs, pair_count, pair_order = _codes(pair_keys)
    # A result's cells share one date, kind and retry status by construction, which the
    # "correct evidence never lowers" argument in the module docstring relies on.
    result_keys = zip(
        owners,
        skills,
        exercises,
        attempts,
        submissions,
        seconds.tolist(),
        kinds,
        after_feedback,
        strict=True,
    )
    results, _, _ = _codes(list(result_keys))

    count = len(items)
    is_assessment = np.fromiter(map("assessment".__eq__, kinds), bool, count)
    is_retry = (np.fromiter(attempts, np.int64, count) > 1) | np.fromiter(after_feedback, bool)
    score_array = np.fromiter(scores, float, count)
    max_array = np.fromiter(max_scores, float, count)
    fractions = np.clip(score_array / max_array, 0.0, 1.0)
    ages_days = (now - seconds) / SECONDS_PER_DAY
    weights = _weights(is_assessment, is_retry, ages_days, results, model)

    alpha = model.prior_alpha + np.bincount(pairs, weights * fractions, pair_count)
    beta = model.prior_beta + np.bincount(pairs, weights * (1 - fractions), pair_count)
    total = np.bincount(pairs, weights, pair_count)
    tail = (1 - model.credible_mass) / 2
    low = betaincinv(alpha, beta, tail).tolist()
    high = betaincinv(alpha, beta, 1 - tail).tolist()
    mean = (alpha / (alpha + beta)).tolist()
    alpha_list, beta_list, total_list = alpha.tolist(), beta.tolist(), total.tolist()

    # Group rows by pair with one stable sort, so each mastery's evidence is a slice, in order.
    order = np.argsort(pairs, kind="stable").tolist()
    sorted_items = list(map(items.__getitem__, order))
    sorted_weights = weights[order].tolist()
    ends = np.cumsum(np.bincount(pairs, minlength=pair_count)).tolist()
    start = 0
    for pair, (owner, skill) in enumerate(pair_order):
        end = ends[pair]
        out[trainees[owner]][skill] = Mastery(
            skill,
            mean[pair],
            low[pair],
            high[pair],
            alpha_list[pair],
            beta_list[pair],
            total_list[pair],
            tuple(sorted_items[start:end]),
            tuple(sorted_weights[start:end]),
        )
        start = end
    return out


_AT = attrgetter("at")
_FIELDS = tuple(
    attrgetter(name)
    for name in (
        "skill",
        "exercise",
        "attempt",
        "submission_id",
        "kind",
        "after_feedback",
        "score",
        "max_score",
    )
)


def _codes(keys: list[tuple]) -> tuple[np.ndarray, int, list[tuple]]:
    """Number distinct keys in order of first appearance: (code per key, count, distinct keys)."""
    distinct = list(dict.fromkeys(keys))
    index = dict(zip(distinct, range(len(distinct)), strict=True))
    return np.fromiter(map(index.__getitem__, keys), np.intp, len(keys)), len(distinct), distinct


def _weights(
    is_assessment: np.ndarray,
    is_retry: np.ndarray,
    ages_days: np.ndarray,
    results: np.ndarray,
    model: MasteryModel,
) -> np.ndarray:
    """Each row's weight, as the module docstring defines it."""
    kind_weight = np.where(is_assessment, model.assessment_weight, model.practice_weight)
    retry_factor = np.where(is_retry, model.retry_discount, 1.0)
    decay = np.exp2(-ages_days / model.half_life_days)
    cells = np.bincount(results).astype(float)
    rho = model.cell_correlation
    size_per_cell = (rho / (1 + (cells - 1) * rho))[results]  # result_size(n) / n
    return kind_weight * retry_factor * decay * size_per_cell
