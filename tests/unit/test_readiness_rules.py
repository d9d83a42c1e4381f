"""Statuses a person understands, and the readiness rules on the shipped courses."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lms.content import load_content
from lms.readiness import (
    STATUS_LABELS,
    STATUSES,
    Evidence,
    Role,
    RoleSkill,
    score_trainee,
)

ROOT = Path(__file__).resolve().parents[2]
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
PROPERTY = settings(max_examples=15, deadline=None)


@pytest.fixture(scope="module")
def bundle():
    return load_content(ROOT)


def shipped_roles(bundle) -> list[Role]:
    return [
        Role(r.id, tuple(RoleSkill(s.skill, s.level, s.weight, s.critical) for s in r.skills))
        for r in bundle.roles
    ]


def role_history(
    bundle, role: Role, fraction: float, resends: int = 1, days: float = 55
) -> list[Evidence]:
    """Every exercise touching the role, each at `fraction` of its points, within `days` days."""
    wanted = {s.skill for s in role.skills}
    items: list[Evidence] = []
    number = 0
    exercises = [
        e
        for e in bundle.exercises.values()
        if any(set(e.skills.get(c.grade_id, [])) & wanted for c in e.grade_cells)
    ]
    for position, exercise in enumerate(exercises):
        for again in range(resends):
            number += 1
            at = AS_OF - timedelta(days=days * (1 - position / len(exercises)), minutes=-again)
            for cell in exercise.grade_cells:
                skills = exercise.skills.get(cell.grade_id, [])
                if not cell.max_score:
                    continue
                items += [
                    Evidence(
                        skill,
                        fraction * cell.max_score,
                        cell.max_score,
                        at,
                        exercise.kind,
                        exercise.slug,
                        grade_id=cell.grade_id,
                        submission_id=number,
                        cell_skills=len(skills),
                        fingerprint=str(number),
                    )
                    for skill in skills
                ]
    return items


def status(bundle, role, items, as_of=AS_OF):
    return score_trainee(items, [role], as_of)[role.id]


@pytest.mark.parametrize("fraction", [0.9, 0.95, 1.0])
def test_ninety_percent_on_every_exercise_of_a_role_once_is_ready(bundle, fraction):
    for role in shipped_roles(bundle):
        found = status(bundle, role, role_history(bundle, role, fraction))
        assert found.status == "ready", (role.id, found.status, [str(r) for r in found.reasons])


@PROPERTY
@given(st.integers(1, 30))
def test_sixty_percent_work_stays_not_ready_however_often_re_sent(resends):
    bundle = load_content(ROOT)
    for role in shipped_roles(bundle):
        found = status(bundle, role, role_history(bundle, role, 0.6, resends))
        assert found.status == "not ready", (role.id, found.status)


def test_no_evidence_is_zero_and_not_enough_evidence(bundle):
    for role in shipped_roles(bundle):
        found = status(bundle, role, [])
        assert found.score == 0 and found.status == "not enough evidence"


def test_old_evidence_is_stale_with_its_date(bundle):
    role = shipped_roles(bundle)[0]
    found = status(
        bundle, role, role_history(bundle, role, 1.0, days=30), as_of=AS_OF + timedelta(days=200)
    )
    assert found.status == "stale" and found.stale
    assert found.verified_on is not None and found.verified_on <= AS_OF.date()
    assert "days ago" in str(found.reasons[0])


def test_the_figure_orders_by_demonstrated_skill_not_capped(bundle):
    role = shipped_roles(bundle)[0]
    scores = [
        status(bundle, role, role_history(bundle, role, f)).score for f in (0.6, 0.8, 0.9, 1.0)
    ]
    assert scores == sorted(scores) and len(set(scores)) == 4 and scores[-1] < 1


def _line_role():
    return Role("r", (RoleSkill("a", 0.6, critical=True), RoleSkill("b", 0.6, critical=True)))


def _skill(skill, fraction, exercises, start=0):
    return [
        Evidence(
            skill,
            fraction,
            1.0,
            AS_OF - timedelta(days=5),
            "assessment",
            f"{skill}-{n}",
            grade_id=f"c{k}",
            submission_id=f"{skill}-{n}",
            fingerprint=f"{skill}-{n}",
        )
        for n in range(start, start + exercises)
        for k in range(4)
    ]


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ((1.0, 6), (1.0, 6), "ready"),
        ((1.0, 6), (0.55, 6), "one skill short"),
        ((1.0, 6), (0.75, 1), "more evidence needed"),
        ((0.2, 6), (0.2, 6), "not ready"),
        ((1.0, 6), (0.0, 0), "not enough evidence"),
    ],
)
def test_each_status_means_one_thing(a, b, expected):
    role = _line_role()
    found = score_trainee(_skill("a", *a) + _skill("b", *b), [role], AS_OF)["r"]
    assert found.status == expected, [str(r) for r in found.reasons]
    if expected == "one skill short":
        assert len([line for line in found.skills if not line.demonstrated]) == 1
    if expected == "more evidence needed":
        assert all(line.chance >= 0.5 for line in found.skills)


def test_reasons_are_plain_language_in_english_and_french():
    po = (ROOT / "lms/translations/fr/LC_MESSAGES/messages.po").read_text()
    french = dict(re.findall(r'^msgid "(.+)"\nmsgstr "(.+)"$', po, re.M))
    role = _line_role()
    seen = set()
    for a, b in [
        ((1.0, 6), (1.0, 6)),
        ((1.0, 6), (0.55, 6)),
        ((1.0, 6), (0.75, 1)),
        ((0.2, 6), (0.2, 6)),
        ((1.0, 6), (0.0, 0)),
    ]:
        found = score_trainee(_skill("a", *a) + _skill("b", *b), [role], AS_OF)["r"]
        for reason in found.reasons:
            seen.add(reason.message)
            assert "lower bound" not in str(reason) and "<" not in str(reason)
            assert french.get(reason.message), reason.message
    assert len(seen) >= 4
    for status in STATUSES:
        label = STATUS_LABELS[status]
        assert label == "Ready" or french.get(label), label
