"""Property tests: role readiness never hides a gap on a critical skill, and explains itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lms.readiness import (
    DEFAULT_POLICY,
    STATUSES,
    Evidence,
    Role,
    RoleSkill,
    assess_role,
    estimate_masteries,
    rank_candidates,
    score_cohort,
    score_trainee,
)

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
# Per test, not a global profile: other test modules keep their own hypothesis settings.
PROPERTY = settings(max_examples=60, deadline=None)

DATA_ENGINEER = Role(
    id="data-engineer",
    name="Data engineer",
    skills=(
        RoleSkill("sql-joins", level=0.7, weight=2, critical=True),
        RoleSkill("pandas-cleaning", level=0.7, weight=1, critical=True),
        RoleSkill("data-modelling", level=0.6, weight=1),
    ),
)


def results(skill, fractions, *, kind="assessment", days_ago=0.0, cells=2, prefix="ex"):
    """Evidence for `skill`: one result of `cells` cells per fraction, each a new exercise."""
    return [
        Evidence(
            skill=skill,
            score=fraction * 2.0,
            max_score=2.0,
            at=AS_OF - timedelta(days=days_ago),
            kind=kind,
            exercise=f"{prefix}-{skill}-{number}",
            grade_id=f"c{cell}",
        )
        for number, fraction in enumerate(fractions)
        for cell in range(cells)
    ]


def readiness(role, evidence):
    return assess_role(role, estimate_masteries(evidence, AS_OF))


role_skills = st.lists(
    st.tuples(st.floats(0.3, 0.95), st.floats(0.5, 5.0), st.booleans()),  # level, weight, critical
    min_size=1,
    max_size=5,
)


@PROPERTY
@given(
    critical_level=st.floats(0.5, 0.95),
    critical_weight=st.floats(0.1, 3.0),
    others=role_skills,
    poor=st.lists(st.floats(0.0, 1.0), max_size=30),
    perfect_results=st.integers(5, 40),
)
def test_a_poor_critical_skill_is_never_hidden_by_a_perfect_rest(
    critical_level, critical_weight, others, poor, perfect_results
):
    role = Role(
        id="r",
        skills=(
            RoleSkill("weak", critical_level, critical_weight, critical=True),
            *(RoleSkill(f"s{i}", *spec) for i, spec in enumerate(others)),
        ),
    )
    # "poor": every result on the weak skill scores below its target
    weak = results("weak", [fraction * critical_level * 0.95 for fraction in poor])
    strong = [
        item
        for i in range(len(others))
        for item in results(f"s{i}", [1.0] * perfect_results, cells=4)
    ]
    outcome = readiness(role, weak + strong)
    assert outcome.status != "ready"
    weak_line = next(line for line in outcome.skills if line.skill == "weak")
    assert not weak_line.demonstrated


@st.composite
def trainee_histories(draw):
    """Random evidence on the data-engineer skills: any mix of amounts, scores, ages, kinds."""
    evidence = []
    for required in DATA_ENGINEER.skills:
        fractions = draw(st.lists(st.floats(0.0, 1.0), max_size=15))
        kind = draw(st.sampled_from(["practice", "assessment"]))
        days_ago = draw(st.floats(0.0, 400.0))
        evidence += results(required.skill, fractions, kind=kind, days_ago=days_ago)
    return evidence


@PROPERTY
@given(history=trainee_histories())
def test_status_follows_its_rules(history):
    outcome = readiness(DATA_ENGINEER, history)
    critical = [line for line in outcome.skills if line.critical]
    thin = [line for line in critical if line.evidence_weight < DEFAULT_POLICY.min_evidence]
    assert outcome.status in STATUSES
    assert (outcome.status == "not enough evidence") == bool(thin)
    if outcome.status == "ready":
        assert all(line.low >= line.target for line in critical)
        assert outcome.score >= DEFAULT_POLICY.ready_score
    assert 0.0 <= outcome.low <= outcome.score <= outcome.high <= 1.0
    assert outcome.reasons


@PROPERTY
@given(history=trainee_histories(), extra=st.integers(1, 10))
def test_more_correct_work_never_lowers_readiness(history, extra):
    before = readiness(DATA_ENGINEER, history)
    more = results("sql-joins", [1.0] * extra, prefix="more")
    after = readiness(DATA_ENGINEER, history + more)
    assert after.score >= before.score - 1e-12
    assert after.low >= before.low - 1e-12


def test_strong_evidence_on_every_skill_is_ready():
    history = [
        item
        for required in DATA_ENGINEER.skills
        for item in results(required.skill, [1.0] * 8 + [0.75] * 2, cells=3)
    ]
    outcome = readiness(DATA_ENGINEER, history)
    assert outcome.status == "ready", outcome.reasons
    assert outcome.score == pytest.approx(1.0)


def test_a_critical_skill_without_evidence_is_not_enough_evidence():
    history = results("pandas-cleaning", [1.0] * 10) + results("data-modelling", [1.0] * 10)
    outcome = readiness(DATA_ENGINEER, history)
    assert outcome.status == "not enough evidence"
    assert any("sql-joins" in reason for reason in outcome.reasons)


def test_near_miss_on_a_critical_skill_is_almost():
    history = (
        results("sql-joins", [1.0] * 7 + [0.0] * 3, cells=3)  # estimate ~0.66, target 0.7
        + results("pandas-cleaning", [1.0] * 10, cells=3)
        + results("data-modelling", [1.0] * 10, cells=3)
    )
    outcome = readiness(DATA_ENGINEER, history)
    assert outcome.status == "almost", outcome.reasons
    assert any("sql-joins not demonstrated" in reason for reason in outcome.reasons)


def test_a_clear_gap_on_a_critical_skill_is_not_ready():
    history = (
        results("sql-joins", [0.0] * 10, cells=3)
        + results("pandas-cleaning", [1.0] * 10, cells=3)
        + results("data-modelling", [1.0] * 10, cells=3)
    )
    assert readiness(DATA_ENGINEER, history).status == "not ready"


def test_stale_evidence_is_no_longer_enough():
    history = [
        item
        for required in DATA_ENGINEER.skills
        for item in results(required.skill, [1.0] * 10, cells=3, days_ago=720)
    ]
    assert readiness(DATA_ENGINEER, history).status == "not enough evidence"


def test_every_figure_carries_its_evidence():
    history = results("sql-joins", [1.0, 0.5], cells=1)
    report = readiness(DATA_ENGINEER, history).as_json()
    assert set(report) >= {"readiness", "low", "high", "status", "skills"}
    sql = next(line for line in report["skills"] if line["skill"] == "sql-joins")
    assert set(sql) >= {"skill", "mastery", "low", "high", "target", "demonstrated", "evidence"}
    assert [(e["exercise"], e["attempt"], e["score"]) for e in sql["evidence"]] == [
        ("ex-sql-joins-0", 1, 2.0),
        ("ex-sql-joins-1", 1, 1.0),
    ]
    assert all(e["at"] == AS_OF.isoformat() and e["weight"] > 0 for e in sql["evidence"])
    modelling = next(line for line in report["skills"] if line["skill"] == "data-modelling")
    assert modelling["evidence"] == [] and modelling["mastery"] == 0.5


def test_cohort_scoring_ranks_best_first_and_matches_one_trainee():
    strong = [
        item
        for required in DATA_ENGINEER.skills
        for item in results(required.skill, [1.0] * 10, cells=3)
    ]
    weaker = [
        item
        for required in DATA_ENGINEER.skills
        for item in results(required.skill, [1.0] * 5 + [0.0] * 5, cells=3)
    ]
    cohort = score_cohort({"weaker": weaker, "strong": strong}, [DATA_ENGINEER], AS_OF)
    assert cohort["strong"] == score_trainee(strong, [DATA_ENGINEER], AS_OF)
    ranked = rank_candidates({email: roles["data-engineer"] for email, roles in cohort.items()})
    assert [email for email, _ in ranked] == ["strong", "weaker"]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Role("r", ()), "requires no skill"),
        (lambda: Role("r", (RoleSkill("a", 0.5), RoleSkill("a", 0.6))), "more than once"),
        (lambda: RoleSkill("a", 1.5), "level must be in"),
        (lambda: RoleSkill("a", 0.5, weight=0), "weight must be > 0"),
    ],
)
def test_bad_role_definitions_are_refused(build, message):
    with pytest.raises(ValueError, match=message):
        build()
