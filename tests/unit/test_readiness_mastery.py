"""Property tests: mastery behaves as the design says (lms/readiness/mastery.py explains why)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lms.readiness import (
    DEFAULT_MODEL,
    Evidence,
    MasteryModel,
    estimate_cohort_masteries,
    estimate_masteries,
    estimate_mastery,
)

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
SKILL = "sql-joins"
# Per test, not a global profile: other test modules keep their own hypothesis settings.
PROPERTY = settings(max_examples=60, deadline=None)


def cell(
    fraction: float = 1.0,
    *,
    days_ago: float = 0.0,
    kind: str = "practice",
    exercise: str = "ex-new",
    attempt: int = 1,
    after_feedback: bool = False,
    max_score: float = 1.0,
    grade_id: str = "cell-1",
) -> Evidence:
    """One cell of evidence for SKILL, `days_ago` days before AS_OF."""
    return Evidence(
        skill=SKILL,
        score=fraction * max_score,
        max_score=max_score,
        at=AS_OF - timedelta(days=days_ago),
        kind=kind,
        exercise=exercise,
        attempt=attempt,
        after_feedback=after_feedback,
        grade_id=grade_id,
    )


def mastery(evidence):
    return estimate_mastery(evidence, SKILL, AS_OF)


def width(evidence) -> float:
    result = mastery(evidence)
    return result.high - result.low


@st.composite
def evidences(draw) -> Evidence:
    """A cell of a random result: exercises and attempts come from small pools, so results of
    several cells occur; a result's cells share its date, kind and retry status."""
    number = draw(st.integers(0, 3))
    exercise = f"ex-{'abcd'[number]}"
    attempt = draw(st.integers(1, 3))
    # The result's date, kind and feedback flag follow from (exercise, attempt), as they would.
    seed = number * 97 + attempt * 31
    max_score = draw(st.sampled_from([0.5, 1.0, 2.0, 3.0, 5.0]))
    return Evidence(
        skill=SKILL,
        score=draw(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0])) * max_score,
        max_score=max_score,
        at=AS_OF - timedelta(days=seed % 400),
        kind="assessment" if seed % 3 == 0 else "practice",
        exercise=exercise,
        attempt=attempt,
        after_feedback=attempt > 1,
        grade_id=draw(st.sampled_from(["c1", "c2", "c3", "c4"])),
    )


histories = st.lists(evidences(), max_size=25)
fractions = st.floats(0.0, 1.0)
ages = st.floats(0.0, 720.0)
kinds = st.sampled_from(["practice", "assessment"])


def pull(before, added) -> float:
    """How far one more piece of evidence moves the estimate."""
    return abs(mastery([*before, added]).mean - mastery(before).mean)


# -- more consistent evidence narrows the interval -------------------------------------------


@PROPERTY
@given(fraction=fractions, count=st.integers(1, 30), kind=kinds, days_ago=ages)
def test_more_results_that_agree_narrow_the_interval(fraction, count, kind, days_ago):
    def results(n):
        return [cell(fraction, kind=kind, days_ago=days_ago, exercise=f"ex-{i}") for i in range(n)]

    assert width(results(count + 1)) < width(results(count))


@PROPERTY
@given(history=histories.filter(bool))
def test_seeing_the_same_work_again_narrows_the_interval(history):
    again = [dataclasses.replace(item, exercise=item.exercise + "-again") for item in history]
    assert width(history + again) <= width(history) + 1e-12


@PROPERTY
@given(count=st.integers(2, 30), kind=kinds)
def test_consistent_results_give_a_narrower_interval_than_mixed_ones(count, kind):
    consistent = [cell(1.0, kind=kind, exercise=f"ex-{i}") for i in range(count)]
    mixed = [cell(float(i % 2), kind=kind, exercise=f"ex-{i}") for i in range(count)]
    assert width(consistent) < width(mixed)


# -- recent work weighs more than old ---------------------------------------------------------


@PROPERTY
@given(history=histories, fraction=fractions, recent=ages, extra=st.floats(1.0, 720.0))
def test_recent_result_moves_the_estimate_more_than_an_old_one(history, fraction, recent, extra):
    newer = cell(fraction, days_ago=recent)
    older = cell(fraction, days_ago=recent + extra)
    assert pull(history, newer) >= pull(history, older)
    if abs(fraction - mastery(history).mean) > 1e-6:
        assert pull(history, newer) > pull(history, older)


@PROPERTY
@given(count=st.integers(1, 10), kind=kinds)
def test_improving_trainee_ranks_above_declining_one(count, kind):
    def history(old_fraction, new_fraction):
        old = [cell(old_fraction, days_ago=200, kind=kind, exercise=f"o{i}") for i in range(count)]
        new = [cell(new_fraction, days_ago=5, kind=kind, exercise=f"n{i}") for i in range(count)]
        return old + new

    assert mastery(history(0.0, 1.0)).mean > mastery(history(1.0, 0.0)).mean


# -- an assessment weighs more than a practice attempt ----------------------------------------


@PROPERTY
@given(history=histories, fraction=fractions, days_ago=ages)
def test_assessment_moves_the_estimate_more_than_practice(history, fraction, days_ago):
    assessment = cell(fraction, kind="assessment", days_ago=days_ago)
    practice = cell(fraction, kind="practice", days_ago=days_ago)
    assert pull(history, assessment) >= pull(history, practice)
    if abs(fraction - mastery(history).mean) > 1e-6:
        assert pull(history, assessment) > pull(history, practice)


# -- a retry after feedback is worth less than a first success --------------------------------


@PROPERTY
@given(
    history=histories,
    kind=kinds,
    days_ago=ages,
    retry=st.sampled_from([(2, True), (2, False), (1, True), (3, True)]),
)
def test_retry_after_feedback_is_worth_less_than_a_first_success(history, kind, days_ago, retry):
    attempt, after_feedback = retry
    first = cell(1.0, kind=kind, days_ago=days_ago)
    again = cell(1.0, kind=kind, days_ago=days_ago, attempt=attempt, after_feedback=after_feedback)
    assert mastery([*history, first]).mean > mastery([*history, again]).mean


# -- correct evidence never lowers the estimate ------------------------------------------------


@PROPERTY
@given(
    history=histories,
    kind=kinds,
    days_ago=ages,
    attempt=st.integers(1, 4),
    cells=st.integers(1, 6),
    as_of_shift=st.floats(0.0, 365.0),
)
def test_a_correct_result_never_lowers_the_estimate(
    history, kind, days_ago, attempt, cells, as_of_shift
):
    as_of = AS_OF + timedelta(days=as_of_shift)  # decay at work on the whole history
    correct = [
        cell(
            1.0,
            kind=kind,
            days_ago=days_ago,
            attempt=attempt,
            after_feedback=attempt > 1,
            grade_id=f"c{i}",
        )
        for i in range(cells)
    ]
    before = estimate_mastery(history, SKILL, as_of)
    after = estimate_mastery(history + correct, SKILL, as_of)
    assert after.mean >= before.mean - 1e-12
    assert after.low >= before.low - 1e-12
    assert after.high >= before.high - 1e-12


@PROPERTY
@given(history=histories.filter(bool), data=st.data())
def test_a_correct_cell_added_to_an_existing_result_never_lowers_the_estimate(history, data):
    # e.g. a hand-graded cell marked full after the autograded ones
    sibling = data.draw(st.sampled_from(history))
    late_cell = dataclasses.replace(
        sibling,
        grade_id="graded-later",
        max_score=data.draw(st.sampled_from([0.5, 1.0, 10.0])),
        score=0.0,
    )
    late_cell = dataclasses.replace(late_cell, score=late_cell.max_score)
    before, after = mastery(history), mastery([*history, late_cell])
    assert after.mean >= before.mean - 1e-12
    assert after.low >= before.low - 1e-12


def test_evidence_after_as_of_is_ignored():
    past = [cell(0.0, days_ago=10, exercise=f"e{i}") for i in range(3)]
    future = [cell(1.0, days_ago=-5, exercise="tomorrow")]
    assert mastery(past + future) == mastery(past)


# -- one lucky result never makes a skill "demonstrated" ---------------------------------------


@PROPERTY
@given(
    kind=kinds,
    days_ago=ages,
    attempt=st.integers(1, 3),
    cells=st.integers(1, 40),
    target=st.floats(0.5, 1.0),
)
def test_one_lucky_result_never_demonstrates_a_skill(kind, days_ago, attempt, cells, target):
    lucky = [
        cell(1.0, kind=kind, days_ago=days_ago, attempt=attempt, grade_id=f"c{i}", max_score=10)
        for i in range(cells)
    ]
    assert not mastery(lucky).demonstrates(target)


def test_repeated_success_does_demonstrate_a_skill():
    successes = [cell(1.0, kind="assessment", exercise=f"ex-{i}", grade_id="c") for i in range(8)]
    successes += [dataclasses.replace(item, grade_id="d") for item in successes]
    assert mastery(successes).demonstrates(0.7)


def test_model_refuses_weights_that_let_one_result_demonstrate():
    with pytest.raises(ValueError, match="single lucky result"):
        MasteryModel(assessment_weight=5.0)
    with pytest.raises(ValueError, match="single lucky result"):
        MasteryModel(prior_alpha=4.0)


# -- the figures explain themselves and the cohort path agrees ---------------------------------


def test_mastery_lists_its_evidence_with_the_weight_used():
    first = cell(1.0, kind="assessment", exercise="ex-1", days_ago=0)
    half_life = DEFAULT_MODEL.half_life_days
    retry = cell(0.0, exercise="ex-2", attempt=2, after_feedback=True, days_ago=half_life)
    result = mastery([first, retry])
    weights = {line.evidence.exercise: line.weight for line in result.weighted_evidence()}
    rho = DEFAULT_MODEL.cell_correlation
    assert weights["ex-1"] == pytest.approx(2.0 * rho)
    assert weights["ex-2"] == pytest.approx(1.0 * 0.5 * 0.5 * rho)  # retry, one half-life old
    assert result.evidence_weight == pytest.approx(sum(weights.values()))
    assert result.low < result.mean < result.high


def test_skill_without_evidence_is_the_prior():
    result = estimate_mastery([], SKILL, AS_OF)
    assert (result.mean, result.evidence_weight, result.weighted_evidence()) == (0.5, 0.0, ())


@PROPERTY
@given(history=st.lists(evidences(), max_size=10), other=st.lists(evidences(), max_size=10))
def test_cohort_computation_equals_one_trainee_at_a_time(history, other):
    other = [dataclasses.replace(item, skill="pandas") for item in other]
    cohort = estimate_cohort_masteries({"a": history + other, "b": other}, AS_OF)
    assert cohort["a"] == estimate_masteries(history + other, AS_OF)
    assert cohort["b"] == estimate_masteries(other, AS_OF)


def test_naive_dates_are_read_as_utc():
    naive = dataclasses.replace(cell(1.0), at=AS_OF.replace(tzinfo=None))
    assert naive.at == AS_OF
    assert mastery([naive]) == mastery([cell(1.0)])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"score": 2.0}, "score must be between 0 and max_score"),
        ({"score": -1.0}, "score must be between 0 and max_score"),
        ({"max_score": 0.0, "score": 0.0}, "max_score must be a positive number"),
        ({"kind": "exam"}, "kind must be practice or assessment"),
        ({"attempt": 0}, "attempt must be an integer >= 1"),
        ({"skill": ""}, "skill id is empty"),
    ],
)
def test_bad_evidence_is_refused_with_a_clear_message(changes, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(cell(1.0), **changes)
