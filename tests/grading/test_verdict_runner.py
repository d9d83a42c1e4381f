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
    "import gc\n"
    "mark = 'NEXT_CELL_' + 'SECRET'\n"
    "def _strings(o):\n"
    "    return o.values() if isinstance(o, dict) else o if isinstance(o, (list, tuple)) else ()\n"
    "found = [o for o in gc.get_objects() for v in _strings(o) if isinstance(v, str) and mark in v"
    " and v is not mark]\n"
    "(len(pending), any(mark.encode() in p for p in pending), len(found))"
)


def _result(outputs):
    (result,) = [o for o in outputs if o["output_type"] == "execute_result"]
    return result["data"]["text/plain"]


def test_a_cell_is_not_in_the_sandbox_before_it_runs(runtime):
    outcome = runtime.run(
        RunRequest(cells=(_PEEK_SOCKET, "'NEXT_CELL_SECRET'"), tests=frozenset({1}))
    )
    assert _result(outcome.outputs[0]) == "(0, False, 0)"
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
                "answer()",  # outside a test, the same call is allowed
            ),
            tests=frozenset({1}),
        )
    )
    verdict = outcome.verdicts[1]
    assert verdict["status"] == "error" and verdict["introspection"] == ["sys._getframe"]
    assert not [o for o in outcome.outputs[2] if o["output_type"] == "error"]


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
