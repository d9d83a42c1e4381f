"""Property tests: evidence counts once and the estimate means what it says.

Each rule of lms/readiness/evidence.py and lms/readiness/mastery.py has its test here.
"""

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
    count_once,
    estimate_cohort_masteries,
    estimate_masteries,
    estimate_mastery,
)
from lms.readiness.difficulty import difficulty_offsets
from lms.readiness.evidence import ATTEMPT_DECAY, is_blocking_flag
from lms.readiness.fingerprint import notebook_fingerprint

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
SKILL = "sql-joins"
PROPERTY = settings(max_examples=40, deadline=None)


def result(
    fraction: float = 1.0,
    *,
    exercise: str = "ex-a",
    days_ago: float = 1.0,
    kind: str = "practice",
    sid: object = None,
    cells: int = 3,
    fingerprint=None,
    flagged: bool = False,
    cell_skills: int = 1,
    retake=None,
    skill: str = SKILL,
) -> list[Evidence]:
    """One submission of `cells` cells for SKILL, each scoring `fraction` of its point."""
    sid = sid if sid is not None else f"{exercise}-{days_ago}-{fraction}"
    return [
        Evidence(
            skill=skill,
            score=fraction,
            max_score=1.0,
            at=AS_OF - timedelta(days=days_ago),
            kind=kind,
            exercise=exercise,
            grade_id=f"c{n}",
            submission_id=sid,
            cell_skills=cell_skills,
            fingerprint=fingerprint if fingerprint else str(sid),
            flagged=flagged,
            retake_after_days=retake,
        )
        for n in range(cells)
    ]


def mastery(evidence, difficulties=None, as_of=AS_OF):
    return estimate_mastery(evidence, SKILL, as_of, DEFAULT_MODEL, difficulties)


fractions = st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0])


@st.composite
def histories(draw) -> list[Evidence]:
    """A few results on a few exercises, each fresh work (own fingerprint)."""
    items: list[Evidence] = []
    for number in range(draw(st.integers(1, 6))):
        items += result(
            draw(fractions),
            exercise=f"ex-{draw(st.sampled_from('abcd'))}",
            days_ago=draw(st.integers(1, 300)),
            sid=f"s{number}",
            kind=draw(st.sampled_from(["practice", "assessment"])),
            cells=draw(st.integers(1, 5)),
        )
    return items


def same(left, right) -> bool:
    return (left.mean, left.low, left.high) == pytest.approx((right.mean, right.low, right.high))


# --- evidence counts once --------------------------------------------------------------------


@PROPERTY
@given(histories(), st.integers(1, 30), st.floats(0.0, 0.9))
def test_an_identical_notebook_re_sent_adds_nothing(history, copies, hours):
    """The same normalised notebook sent again (or re-graded) by the same trainee adds nothing."""
    first = history[0]
    resent = [
        dataclasses.replace(item, submission_id=f"again-{n}", at=first.at + timedelta(hours=hours))
        for n in range(copies)
        for item in history
        if item.submission_id == first.submission_id
    ]
    assert same(mastery(history + resent), mastery(history))


@PROPERTY
@given(st.integers(1, 12))
def test_further_attempts_weigh_less_and_less(count):
    """The k-th counted result of an exercise weighs ATTEMPT_DECAY ** (k - 1)."""
    items = [item for n in range(count) for item in result(0.5, sid=f"s{n}", days_ago=30 - n)]
    counted = count_once(items)
    factors = [counted[key].factor for key in sorted(counted, key=lambda k: k[3])]
    assert factors == pytest.approx([ATTEMPT_DECAY**k for k in range(count)])
    assert sum(factors) < 1 / (1 - ATTEMPT_DECAY)


@PROPERTY
@given(st.integers(2, 40))
def test_sixty_percent_work_re_sent_never_demonstrates(count):
    """Re-sending 60% work, however often, never confirms a target of 0.6."""
    items = [item for n in range(count) for item in result(0.6, sid=f"s{n}", days_ago=n / 24)]
    found = mastery(items)
    assert found.chance_above(0.6) < 0.5
    assert found.evidence_weight < 2 * mastery(result(0.6, days_ago=0)).evidence_weight


@PROPERTY
@given(histories(), fractions, st.integers(1, 200))
def test_an_assessment_counts_its_first_graded_attempt_only(history, fraction, later):
    """Later attempts at an assessment change nothing (no retake allowed)."""
    first = result(0.5, exercise="checkpoint", kind="assessment", days_ago=250, sid="first")
    retry = result(
        fraction, exercise="checkpoint", kind="assessment", days_ago=250 - later / 2, sid="retry"
    )
    assert same(mastery(history + first + retry), mastery(history + first))


def test_an_assessment_retake_counts_after_its_cool_down():
    """With a cool-down set on the exercise, a retake at least that late counts; earlier not."""
    first = result(0.2, exercise="checkpoint", kind="assessment", days_ago=100, sid="a", retake=30)
    early = result(1.0, exercise="checkpoint", kind="assessment", days_ago=90, sid="b", retake=30)
    late = result(1.0, exercise="checkpoint", kind="assessment", days_ago=60, sid="c", retake=30)
    assert same(mastery(first + early), mastery(first))
    assert mastery(first + late).mean > mastery(first).mean


@PROPERTY
@given(histories(), fractions)
def test_flagged_work_counts_only_once_cleared(history, fraction):
    """A flagged result changes nothing; once cleared (flagged=False) it counts."""
    flagged = result(fraction, exercise="ex-z", sid="flagged", flagged=True)
    assert same(mastery(history + flagged), mastery(history))
    cleared = [dataclasses.replace(item, flagged=False) for item in flagged]
    assert not same(mastery(history + cleared), mastery(history))


@pytest.mark.parametrize(
    "flag, blocks",
    [
        ("tampered:test_a", True),
        ("protocol-violation:cell-3", True),
        ("introspection", True),
        ("copy:17:1.00", True),
        ("timeout:cell-3", False),
        ("output-truncated", False),
    ],
)
def test_which_flags_block(flag, blocks):
    assert is_blocking_flag(flag) is blocks


def test_a_flagged_first_attempt_does_not_use_up_the_assessment():
    """A flagged sitting does not count, so the next clean one is the first that does."""
    flagged = result(
        1.0, exercise="checkpoint", kind="assessment", days_ago=20, sid="a", flagged=True
    )
    clean = result(0.5, exercise="checkpoint", kind="assessment", days_ago=10, sid="b")
    assert same(mastery(flagged + clean), mastery(clean))


# --- the figure means what it says ----------------------------------------------------------


def test_no_evidence_is_level_zero():
    empty = mastery([])
    assert empty.mean == 0 and empty.low == 0 and not empty.has_evidence
    assert empty.chance_above(0.1) == 0


@PROPERTY
@given(histories())
def test_the_figure_never_reaches_one(history):
    found = mastery(history)
    assert 0 < found.mean < 1 and found.low <= found.mean <= found.high < 1


@PROPERTY
@given(st.integers(1, 8))
def test_more_perfect_work_ranks_higher_instead_of_piling_at_the_top(count):
    """Perfect records are ordered by how much they show; none is at 100%."""

    def perfect(n):
        return [item for k in range(n) for item in result(1.0, exercise=f"ex-{k}", sid=k)]

    assert mastery(perfect(count)).mean < mastery(perfect(count + 1)).mean < 1


@PROPERTY
@given(histories(), st.integers(1, 5), st.sampled_from(["practice", "assessment"]))
def test_a_correct_result_never_lowers_the_estimate(history, cells, kind):
    """A perfect result on a new exercise, done now, never lowers the estimate or its low end."""
    before = mastery(history)
    after = mastery(
        history + result(1.0, exercise="ex-new", days_ago=0, cells=cells, kind=kind, sid="new")
    )
    assert after.mean >= before.mean - 1e-12 and after.low >= before.low - 1e-12


@PROPERTY
@given(histories(), st.integers(2, 4))
def test_a_multi_skill_cell_splits_its_credit(history, skills):
    """A cell tagged with k skills gives each 1/k of the weight it gives a one-skill cell."""
    one = mastery(result(1.0, cells=1, cell_skills=1))
    split = mastery(result(1.0, cells=1, cell_skills=skills))
    assert split.evidence_weight == pytest.approx(one.evidence_weight / skills)


@PROPERTY
@given(st.floats(-2, 2), st.floats(0.1, 2))
def test_passing_a_hard_cell_says_more_than_passing_an_easy_one(base, gap):
    """On an assessment. (A practice cell has a floor of points earned with help, so passing a
    very hard practice cell is explained by help as much as by skill.)"""
    items = result(1.0, cells=1, kind="assessment")
    key = (items[0].exercise, items[0].grade_id)
    easy = mastery(items, {key: base})
    hard = mastery(items, {key: base + gap})
    assert hard.mean > easy.mean


def test_difficulty_comes_from_the_cohort():
    """A cell most of the cohort misses gets a positive offset, one all pass a negative one."""
    offsets = difficulty_offsets(
        [("ex", "hard", 5, 50), ("ex", "easy", 48, 50), ("ex", "rare", 0, 1)]
    )
    assert offsets[("ex", "hard")] > 0 > offsets[("ex", "easy")]
    assert abs(offsets[("ex", "rare")]) < abs(offsets[("ex", "hard")])  # shrunk: seen once


@PROPERTY
@given(histories(), st.integers(30, 400))
def test_forgetting_lowers_and_widens_what_is_not_practised(history, later):
    """Seen from a later date, the same evidence gives a wider interval and, for an ability above
    the prior's centre (where fading and the thinner evidence both pull down), a lower estimate."""
    now = mastery(history)
    then = mastery(history, as_of=AS_OF + timedelta(days=later))
    if now.theta >= DEFAULT_MODEL.prior_mean:
        assert then.mean <= now.mean + 1e-12
    assert (then.high - then.low) >= (now.high - now.low) - 0.02


def test_two_perfect_checkpoints_still_count_after_45_days():
    checkpoints = result(
        1.0, exercise="cp1", kind="assessment", sid="a", days_ago=45, cells=6
    ) + result(1.0, exercise="cp2", kind="assessment", sid="b", days_ago=45, cells=6)
    fresh = result(1.0, exercise="cp1", kind="assessment", sid="a", days_ago=0, cells=6) + result(
        1.0, exercise="cp2", kind="assessment", sid="b", days_ago=0, cells=6
    )
    assert mastery(checkpoints).evidence_weight >= 0.85 * mastery(fresh).evidence_weight


@PROPERTY
@given(histories(), histories())
def test_cohort_computation_equals_one_trainee_at_a_time(history, other):
    cohort = estimate_cohort_masteries({"a": history, "b": other}, AS_OF)
    assert cohort["a"].keys() == estimate_masteries(history, AS_OF).keys()
    for skill, found in estimate_masteries(other, AS_OF).items():
        assert same(cohort["b"][skill], found)


def test_evidence_after_as_of_is_ignored():
    future = result(1.0, days_ago=-3, sid="future")
    assert not mastery(future).has_evidence


def test_fingerprint_ignores_outputs_metadata_and_spacing():
    import json

    def notebook(source, outputs, meta):
        return json.dumps(
            {
                "cells": [
                    {
                        "cell_type": "code",
                        "source": source,
                        "outputs": outputs,
                        "metadata": meta,
                        "execution_count": 3,
                    }
                ],
                "metadata": meta,
            }
        ).encode()

    base = notebook("x = 1\nprint(x)\n", [], {})
    assert notebook_fingerprint(base) == notebook_fingerprint(
        notebook(["x  =  1\n", "\n", "print(x)   "], [{"text": "1"}], {"k": 1})
    )
    assert notebook_fingerprint(base) != notebook_fingerprint(notebook("x = 2\nprint(x)", [], {}))


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"skill": ""}, "skill id is empty"),
        ({"kind": "homework"}, "kind must be practice or assessment"),
        ({"max_score": 0.0}, "max_score must be a positive number"),
        ({"score": 2.0}, "score must be between 0 and max_score"),
        ({"attempt": 0}, "attempt must be an integer"),
        ({"cell_skills": 0}, "cell_skills must be an integer"),
    ],
)
def test_bad_evidence_is_refused_with_a_clear_message(changes, message):
    base = {
        "skill": SKILL,
        "score": 1.0,
        "max_score": 1.0,
        "at": AS_OF,
        "kind": "practice",
        "exercise": "ex",
    }
    with pytest.raises(ValueError, match=message):
        Evidence(**{**base, **changes})


def test_model_refuses_nonsense_parameters():
    with pytest.raises(ValueError, match="prior_sd"):
        MasteryModel(prior_sd=0)
    with pytest.raises(ValueError, match="assessment_weight"):
        MasteryModel(assessment_weight=0.5)
