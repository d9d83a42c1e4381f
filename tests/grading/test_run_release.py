"""grading.run: the release with the trainee's answers, in the sandbox, outputs only."""

from __future__ import annotations

import json

import pytest
from fixtures_core import DATA_FILES, HIDDEN_MARKER, exercise_source, release

from grading.run import NotARelease, run_release


def test_outputs_per_code_cell_with_failed_tests_explained(runtime) -> None:
    answers = {"add": "def add(a, b):\n    return a * b\nprint(add(2, 2))"}
    ran = run_release(release(), answers, files=DATA_FILES, timeout=10, runtime=runtime)
    by_index = {c.index: c.outputs for c in ran.cells}
    assert by_index[1] == ({"kind": "stdout", "text": "4\n"},)
    (error,) = by_index[2]
    assert "assert add(1, 2) == 3" in error["text"] and "\n        2 == 3\n" in error["text"]
    assert by_index[3] == ()  # the data-file test passes
    assert ran.flags == ()


def test_a_notebook_holding_hidden_tests_is_refused(runtime) -> None:
    with pytest.raises(NotARelease):
        run_release(json.loads(exercise_source()), {}, files={}, timeout=5, runtime=runtime)


def test_an_answer_may_mention_the_delimiters_and_never_sees_hidden_tests(runtime) -> None:
    answers = {
        "add": "# ### BEGIN HIDDEN TESTS\nimport gc\n"
        "print([o for o in gc.get_objects() if isinstance(o, str) and 'HIDDEN_' in o][:3])\n"
        "def add(a, b):\n    return a + b"
    }
    ran = run_release(release(), answers, files=DATA_FILES, timeout=10, runtime=runtime)
    assert HIDDEN_MARKER not in json.dumps([c.outputs for c in ran.cells])


def test_upto_stops_after_that_cell_and_timeouts_are_flagged(runtime) -> None:
    answers = {"add": "import time\ntime.sleep(60)"}
    ran = run_release(release(), answers, files=DATA_FILES, timeout=1, upto=1, runtime=runtime)
    assert [c.index for c in ran.cells] == [1]
    assert ran.flags == ("timeout:add",)
