"""Feedback that teaches: the failing line, the error, both sides of a comparison; hidden tests
said to exist but never shown, whatever the trainee's code prints or raises."""

from __future__ import annotations

import json

from fixtures_core import HIDDEN_MARKER, job, submission

from grading import check_work, grade
from grading.runtime import RunRequest


def _check(result, grade_id: str):
    return next(c for c in result.checks if c.grade_id == grade_id)


def _trainee_side(result) -> str:
    """Everything of a result that reaches a trainee (the executed notebook is staff only)."""
    data = result.to_json(include_artifacts=True)
    data.pop("graded_notebook")
    return json.dumps(data)


def test_a_failing_assertion_shows_its_line_error_and_both_sides() -> None:
    result = grade(job(submission("    return a * b")))
    check = _check(result, "test_add")
    assert check.visible == "failed" and check.has_hidden
    assert check.line == 1 and check.code == "assert add(1, 2) == 3"
    assert check.ename == "AssertionError"
    assert check.compare == {"op": "==", "left": "2", "right": "3", "expected": "right"}
    assert "----&gt; 1 assert add(1, 2) == 3" in result.feedback_html
    assert "2 == 3" in result.feedback_html
    assert _check(result, "test_data").visible == "passed"


def test_visible_pass_hidden_fail_is_said_without_the_hidden_text() -> None:
    result = grade(job(submission("    return abs(a) + abs(b)")))
    check = _check(result, "test_add")
    cell = next(c for c in result.cells if c.grade_id == "test_add")
    assert (check.visible, check.has_hidden, cell.score) == ("passed", True, 0.0)
    assert check.code is None and check.compare is None
    assert HIDDEN_MARKER not in _trainee_side(result)
    assert "add fails on negatives" not in _trainee_side(result)
    assert result.hidden_points == 2.0


def test_check_my_work_counts_the_points_behind_hidden_tests() -> None:
    result = check_work(job(submission("    return a - b")))
    assert result.hidden_points == 2.0
    check = _check(result, "test_add")
    assert check.visible == "failed" and check.has_hidden
    assert check.compare["left"] == "-1"


ECHOES = (
    "    import gc, sys, traceback\n"
    "    found = []\n"
    "    try:\n"
    "        frame = sys._getframe(1)\n"
    "        found.append(repr(frame.f_code.co_consts) + repr(frame.f_code.co_names))\n"
    "        found.append(repr(frame.f_globals.keys()))\n"
    "    except BaseException as exc:\n"
    "        found.append(repr(exc))\n"
    "    try:\n"
    "        found += [repr(o) for o in gc.get_objects() if isinstance(o, str) and 'HIDDEN' in o]\n"
    "    except BaseException as exc:\n"
    "        found.append(repr(exc))\n"
    "    found.append(''.join(traceback.format_stack()))\n"
    "    text = ' | '.join(found)\n"
    "    print(text)\n"
    "    print(text, file=sys.stderr)\n"
    "    if a < 0:\n"
    "        raise AssertionError(text)\n"
    "    return a + b\n"
)


def test_hidden_text_never_reaches_the_trainee_even_when_code_echoes_what_it_can_see() -> None:
    for grader in (grade, check_work):
        result = grader(job(submission(ECHOES)))
        assert result.status == "graded", result.error
        assert HIDDEN_MARKER not in _trainee_side(result)
        assert "add fails on negatives" not in _trainee_side(result)


def test_evaluating_both_sides_again_leaves_the_run_unchanged(runtime) -> None:
    outcome = runtime.run(
        RunRequest(
            cells=("it = iter(range(10))", "assert next(it) == 5", "next(it)"),
            tests=frozenset({1}),
            explain=True,
        )
    )
    assert outcome.verdicts[1]["explain"]["compare"]["left"] == "1"  # the child's own next()
    (result,) = [o for o in outcome.outputs[2] if o["output_type"] == "execute_result"]
    assert result["data"]["text/plain"] == "1"  # the run itself advanced only once


def test_explanations_are_only_given_when_asked(runtime) -> None:
    outcome = runtime.run(RunRequest(cells=("assert 1 == 2",), tests=frozenset({0})))
    assert outcome.verdicts[0]["explain"] is None
    (error,) = outcome.outputs[0]
    assert error["traceback"] == ["AssertionError: "]


def test_a_side_slow_to_evaluate_again_is_given_up_and_the_run_goes_on(runtime) -> None:
    slow_second_time = (
        "import time\ncalls = []\ndef f():\n    calls.append(1)\n"
        "    if len(calls) > 1:\n        time.sleep(60)\n    return 0"
    )
    outcome = runtime.run(
        RunRequest(
            cells=(slow_second_time, "assert f() == 1", "len(calls)"),
            tests=frozenset({1}),
            explain=True,
            cell_timeout=10,
        )
    )
    explained = outcome.verdicts[1]["explain"]
    assert explained["code"] == "assert f() == 1" and explained["compare"] is None
    assert not outcome.issues
    (result,) = [o for o in outcome.outputs[2] if o["output_type"] == "execute_result"]
    assert result["data"]["text/plain"] == "1"


FLIP_VERDICT = (
    "import os, sys, ast\n"
    "def flip(*args, **kwargs):\n"
    "    frame = sys._getframe(1)\n"
    "    while frame is not None:\n"
    "        if isinstance(frame.f_locals.get('verdict'), dict):\n"
    "            frame.f_locals['verdict']['status'] = 'ok'\n"
    "        frame = frame.f_back\n"
    "os.register_at_fork(before=flip)\n"
    "_Expression = ast.Expression\n"
    "class Sneaky(_Expression):\n"
    "    def __init__(self, *args, **kwargs):\n"
    "        flip()\n"
    "        super().__init__(*args, **kwargs)\n"
    "ast.Expression = Sneaky\n"
)


def test_code_running_while_a_failure_is_explained_cannot_change_the_verdict(runtime) -> None:
    outcome = runtime.run(
        RunRequest(cells=(FLIP_VERDICT, "assert 1 == 2"), tests=frozenset({1}), explain=True)
    )
    assert outcome.verdicts[1]["status"] == "error"
