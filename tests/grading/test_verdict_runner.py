"""The sandbox's test runner and the one-cell-at-a-time protocol, at the runtime level."""

from __future__ import annotations

from grading.runtime import RunRequest

_PEEK_SOCKET = (
    "import os, socket\n"
    "pending = []\n"
    "for f in os.listdir('/proc/self/fd'):\n"
    "    try:\n"
    "        if not os.readlink(f'/proc/self/fd/{f}').startswith('socket:'):\n"
    "            continue\n"
    "    except OSError:\n"
    "        continue\n"
    "    s = socket.socket(fileno=os.dup(int(f)))\n"
    "    s.setblocking(False)\n"
    "    try:\n"
    "        pending.append(s.recv(1 << 20, socket.MSG_PEEK))\n"
    "    except BlockingIOError:\n"
    "        pass\n"
    "mark = 'NEXT_CELL_' + 'SECRET'\n"
    "(len(pending), any(mark.encode() in p for p in pending))"
)


def _result(outputs):
    (result,) = [o for o in outputs if o["output_type"] == "execute_result"]
    return result["data"]["text/plain"]


def test_a_cell_is_not_in_the_sandbox_before_it_runs(runtime):
    outcome = runtime.run(
        RunRequest(cells=(_PEEK_SOCKET, "'NEXT_CELL_SECRET'"), tests=frozenset({1}))
    )
    assert _result(outcome.outputs[0]) == "(0, False)"
    assert outcome.verdicts[1] is not None, outcome
    assert outcome.verdicts[1]["result"] == "'NEXT_CELL_SECRET'"


def test_test_cells_get_a_verdict_and_other_cells_none(runtime):
    outcome = runtime.run(
        RunRequest(
            cells=(
                "x = 2",
                "assert x == 2\n0.5",
                "assert x == 3",
                "1 / 0",
                "import sys\nprint('warn', file=sys.stderr)",
            ),
            tests=frozenset({1, 2, 3, 4}),
        )
    )
    first, second, third, fourth = outcome.verdicts[1:]
    assert outcome.verdicts[0] is None
    assert (first["status"], first["result"], first["stderr"]) == ("ok", "0.5", False)
    assert (second["status"], second["ename"]) == ("error", "AssertionError")
    assert third["ename"] == "ZeroDivisionError"
    assert fourth["stderr"] is True  # nbgrader scores a test that writes to stderr 0


def test_introspection_of_a_running_test_is_refused(runtime):
    outcome = runtime.run(
        RunRequest(
            cells=(
                "import sys\ndef answer():\n    return sys._getframe(1).f_code.co_consts",
                "expected = 41 + 1\nassert answer() is not None",
                "answer()",  # outside a test too: the runner and executor live in frames
                "import gc\nlen(gc.get_objects())",
                "assert True",
            ),
            tests=frozenset({1, 4}),
        )
    )
    verdict = outcome.verdicts[1]
    assert verdict["status"] == "error" and verdict["introspection"] == ["sys._getframe"]
    for cell in (2, 3):
        (error,) = [o for o in outcome.outputs[cell] if o["output_type"] == "error"]
        assert error["ename"] == "IntrospectionRefused"
    # what was refused before a test is charged to that test (and flagged for staff)
    assert outcome.verdicts[4]["introspection"] == ["sys._getframe", "gc.get_objects"]


def test_libraries_still_look_at_frames_for_their_own_needs(runtime):
    outcome = runtime.run(
        RunRequest(
            cells=(
                "import collections, logging, warnings, enum, typing, traceback, io\n"
                "import pandas as pd\n"
                "Point = collections.namedtuple('Point', 'x y')\n"
                "Color = enum.Enum('Color', 'RED GREEN')\n"
                "T = typing.TypeVar('T')\n"
                "logging.getLogger('atlas-test').warning('logged')\n"
                "with warnings.catch_warnings(record=True):\n"
                "    pd.DataFrame({'a': [1]}).iloc[0:1]['a'] = 2\n"
                "buffer = io.StringIO()\n"
                "try:\n    1 / 0\nexcept ZeroDivisionError:\n"
                "    traceback.print_exc(file=buffer)\n"
                "%time squares = [i * i for i in range(10)]\n"
                "(Point(1, 2).x, Color.RED.value, 'ZeroDivisionError' in buffer.getvalue())",
                "assert squares[3] == 9",
            ),
            tests=frozenset({1}),
        )
    )
    assert not [o for o in outcome.outputs[0] if o["output_type"] == "error"], outcome.outputs[0]
    assert _result(outcome.outputs[0]) == "(1, 1, True)"
    assert outcome.verdicts[1]["introspection"] == []


def test_tampering_between_start_and_a_test_is_reported(runtime):
    outcome = runtime.run(
        RunRequest(
            cells=(
                "import math, operator\nmath.isclose = lambda *a, **k: True\n"
                "operator.eq = lambda a, b: True",
                "assert math.isclose(1, 2)",
            ),
            tests=frozenset({1}),
        )
    )
    assert set(outcome.verdicts[1]["tampered"]) == {"math.isclose", "operator.eq"}


def test_hooks_installed_by_trainee_code_do_not_see_tests(runtime):
    outcome = runtime.run(
        RunRequest(
            cells=(
                "seen = []\nget_ipython().events.register('pre_run_cell',"
                " lambda info: seen.append(info.raw_cell))",
                "assert 'never seen' != 'hook'",
                "seen",
            ),
            tests=frozenset({1}),
        )
    )
    assert outcome.verdicts[1]["status"] == "ok"
    assert "never seen" not in _result(outcome.outputs[2])


def test_a_library_imported_after_the_start_may_still_look_at_frames():
    """pandas is not preloaded for a plain notebook (lms grade preloads what it imports): its
    warnings' stack level is still allowed once the notebook imports it."""
    from grading.runtime import Runtime

    with Runtime(slots=1, preload=()) as runtime:
        outcome = runtime.run(
            RunRequest(
                cells=(
                    "from pandas.util._exceptions import find_stack_level\nfind_stack_level() > 0",
                    "assert True",
                ),
                tests=frozenset({1}),
            )
        )
    assert _result(outcome.outputs[0]) == "True"
    assert outcome.verdicts[1]["introspection"] == []


def test_a_test_magic_through_a_rebound_get_ipython_is_flagged(runtime):
    # A test cell's `%time` becomes `get_ipython().run_line_magic(...)`, called directly (magics
    # read their caller's frame): the name must still be the shell's.
    outcome = runtime.run(
        RunRequest(
            cells=(
                "def add(a, b):\n    return 0\n"
                "class _Shell:\n    def run_line_magic(self, *a, **k):\n"
                "        globals()['result'] = 3\n"
                "get_ipython = lambda: _Shell()",
                "%time result = add(1, 2)\nassert result == 3",
            ),
            tests=frozenset({1}),
        )
    )
    assert "shadowed:get_ipython" in outcome.verdicts[1]["tampered"]
    honest = runtime.run(
        RunRequest(
            cells=(
                "def add(a, b):\n    return a + b",
                "%time result = add(1, 2)\nassert result == 3",
            ),
            tests=frozenset({1}),
        )
    )
    assert honest.verdicts[1]["tampered"] == [] and honest.verdicts[1]["status"] == "ok"
