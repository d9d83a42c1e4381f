"""The hostile bank (tests/grading/hostile_bank.py) graded on one shared runtime: every attack
gets the honest score and its flag, nothing trainee-visible holds a hidden-test line, and the
next submission on the same pool grades normally."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from hostile_bank import CASES, Case, exercises, hidden_lines, job, solved, submission

from grading import GradeJob, check_work, grade


def _trainee_visible(result) -> list[str]:
    """Everything of a result a trainee can see: the feedback page and the API object."""
    return [result.feedback_html or "", json.dumps(result.to_json())]


def _leaks(case: Case, texts: list[str]) -> list[str]:
    # a hidden line that the trainee wrote into the notebook themselves is not a leak
    own = submission(case).decode()
    lines = [line for line in hidden_lines(case.exercise) if json.dumps(line)[1:-1] not in own]
    assert lines or case.exercise not in ("add", "apartments", "half")
    found = [line for line in lines for text in texts if line in text]
    if case.check:
        found += [case.check for text in texts if case.check in text]
    return found


def _honest(exercise: str) -> GradeJob:
    spec = exercises()[exercise]
    return GradeJob(source=spec.source, submission=solved(exercise), files=spec.files)


def test_the_bank_covers_every_family() -> None:
    families = Counter(case.family for case in CASES)
    assert len(CASES) >= 40
    assert families["forge"] >= 10 and families["peek"] >= 4 and families["other"] >= 10
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("exercise", ["add", "apartments", "half"])
def test_honest_notebooks_get_full_marks_and_no_flag(runtime, exercise) -> None:
    result = grade(_honest(exercise), runtime)
    tests = [c for c in result.cells if c.kind == "test"]
    assert result.flags == ()
    assert tests and all(c.score == c.max_score for c in tests), result.cells


def _param(case: Case):
    marks = [pytest.mark.xfail(reason=case.xfail, strict=True)] if case.xfail else []
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", [_param(case) for case in CASES])
def test_hostile_submission(runtime, case: Case) -> None:
    result = grade(job(case), runtime)

    assert result.status == "graded", result.error
    assert result.score == case.score, (result.cells, result.flags)
    missing = [flag for flag in case.flags if flag not in result.flags]
    assert not missing, result.flags
    assert _leaks(case, _trainee_visible(result)) == []
    # staff still get the executed notebook of the run with hidden tests
    assert result.graded_notebook is not None

    after = grade(_honest("add"), runtime)
    assert (after.score, after.flags) == (3.0, ())


@pytest.mark.parametrize(
    "case",
    [_param(case) for case in CASES if case.family == "peek"],
)
def test_check_my_work_never_holds_hidden_tests(runtime, case: Case) -> None:
    result = check_work(job(case), runtime)
    assert result.status == "graded"
    assert _leaks(case, [*_trainee_visible(result), result.graded_notebook or ""]) == []
