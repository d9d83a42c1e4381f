"""The host trusts no frame: forged, oversized, malformed, deep or mistyped reports from a cell
end that job as a graded `protocol-violation:<what>` result, the host keeps its own deadlines
and budget, its memory stays bounded, and the next submission grades normally.

Every forging case runs trainee code that writes frames to the sandbox's report socket, as a
hostile notebook can (it shares the process that reports to the host)."""

from __future__ import annotations

import dataclasses
import json

import psutil
import pytest
from fixtures_core import by_id, cell, job, submission

from grading import grade
from grading.runtime import RunRequest

# Finds the report socket from inside a cell and sends raw frames on it.
FORGER = (
    "import os, struct, socket, json\n"
    "def _report_socket():\n"
    "    for name in os.listdir('/proc/self/fd'):\n"
    "        try:\n"
    "            if os.readlink(f'/proc/self/fd/{name}').startswith('socket:'):\n"
    "                return socket.socket(fileno=os.dup(int(name)))\n"
    "        except OSError:\n"
    "            pass\n"
    "_sock = _report_socket()\n"
    "def send_raw(body):\n"
    "    _sock.sendall(struct.pack('>I', len(body)) + body)\n"
    "def send(message):\n"
    "    send_raw(json.dumps(message).encode())\n"
)
RSS_GROWTH_CAP = 200 << 20


def _kinds(outcome):
    return {(issue.index, issue.kind) for issue in outcome.issues}


def _violations(outcome):
    return [issue.detail for issue in outcome.issues if issue.kind == "protocol-violation"]


def _stopped_for(outcome) -> set[str]:
    """Why the host ended the run: protocol violations by what, and `forged` where the sandbox's
    executor proves its reports (per-cell nonces) and a frame did not carry the proof."""
    forged = {"forged" for issue in outcome.issues if issue.kind == "forged"}
    return set(_violations(outcome)) | forged


def _hostile(code: str) -> bytes:
    """A submission whose `add` cell is correct and then runs `code` (the forging)."""
    return submission(add_body=f"    return a + b\n{FORGER}{code}")


@pytest.fixture
def rss_stays_bounded():
    """The grader process grows by less than RSS_GROWTH_CAP over the test."""
    process = psutil.Process()
    before = process.memory_info().rss
    yield
    assert process.memory_info().rss - before < RSS_GROWTH_CAP


@pytest.fixture
def grades_normally_afterwards(runtime):
    """After the hostile case, an honest submission gets its usual score on the same runtime."""
    yield
    result = grade(job(submission(explain="commutative")), runtime)
    assert result.status == "graded" and result.flags == ()
    assert (result.score, result.max_score) == (3.0, 6.0)


def _graded_with_violation(runtime, code: str, what: str, *, or_forged=False, **job_args):
    result = grade(job(_hostile(code), **job_args), runtime)
    assert result.status == "graded", result.error
    forged = or_forged and any(flag.startswith("forged:") for flag in result.flags)
    assert f"protocol-violation:{what}" in result.flags or forged, result.flags
    cells = by_id(result)
    # Nothing after the forgery was reported: the test cells score 0.
    assert cells["test_add"].score == 0 and cells["test_data"].score == 0
    assert result.score == 0
    return result


pytestmark = pytest.mark.usefixtures("rss_stays_bounded", "grades_normally_afterwards")


def test_forged_start_frames_do_not_extend_the_cell(runtime):
    # The finding: `start` every 0.5 s kept a cell running 42 s at --timeout 2.
    code = "import time\nfor _ in range(80):\n    send({'t': 'start', 'i': 0})\n    time.sleep(0.5)"
    _graded_with_violation(runtime, code, "out-of-order", or_forged=True, timeout=2)


def test_a_start_frame_never_pushes_the_deadline_back(run):
    # A start for the running cell is a violation; one arriving late cannot re-arm the clock.
    outcome = run(f"{FORGER}send({{'t': 'start', 'i': 0}})\nimport time\ntime.sleep(30)", timeout=2)
    assert _stopped_for(outcome) & {"out-of-order", "forged"}


def test_forged_done_for_a_later_cell_is_out_of_order(run):
    outcome = run(f"{FORGER}send({{'t': 'done', 'i': 2, 'outputs': []}})", "1", "2")
    assert _stopped_for(outcome) & {"out-of-order", "forged"}
    assert [o[0]["ename"] for o in outcome.outputs[1:]] == ["DeadKernelError"] * 2


def test_oversized_done_frames_stop_at_the_first_one(runtime):
    # The finding: 60 forged 8.9 MB `done` frames grew the grader to 1.7 GB.
    code = (
        "frame = json.dumps({'t': 'done', 'i': 0, 'outputs': [{'output_type': 'stream', "
        "'name': 'stdout', 'text': 'x' * (9 << 20)}]}).encode()\n"
        "for _ in range(60):\n    send_raw(frame)"
    )
    _graded_with_violation(runtime, code, "oversized")


def test_the_run_total_of_reports_is_capped(run, runtime_limits):
    # Frames each under the per-frame bound, in a valid order, still cannot add up without end.
    per_frame = 6 * runtime_limits.output.keep_cell_bytes
    cells = 12
    forging = (
        f"{FORGER}text = 'x' * {per_frame}\n"
        f"for i in range({cells}):\n"
        "    if i:\n        send({'t': 'start', 'i': i})\n"
        "    send({'t': 'done', 'i': i, 'outputs': [{'output_type': 'stream', 'name': 'stdout',"
        " 'text': text}]})\n"
    )
    outcome = run(forging, *(["1"] * (cells - 1)))
    # (with per-cell nonces the first forged frame already ends it, and the executor's own
    # progress report may cut a forged frame in two; test_host_adversary.py plays a sandbox
    # that knows the nonces and writes alone)
    assert _stopped_for(outcome)
    kept = sum(len(o.get("text", "")) for outputs in outcome.outputs for o in outputs)
    assert kept < 8 * runtime_limits.output.keep_run_bytes + (1 << 20) + cells * (64 << 10)


def test_display_data_with_a_list_of_ints_is_a_violation_not_a_crash(runtime):
    # The finding: this one output crashed a whole `lms grade` batch.
    code = "from IPython.display import display\ndisplay({'text/plain': [1, 2, 3]}, raw=True)"
    _graded_with_violation(runtime, code, "bad-output")


def test_a_deeply_nested_frame_is_a_violation_not_a_crash(runtime):
    code = (
        "depth = 200000\n"
        "send_raw(b'{\"t\":\"progress\",\"i\":0,\"outputs\":' + b'[' * depth + b']' * depth + b'}')"
    )
    _graded_with_violation(runtime, code, "too-deep")


@pytest.mark.parametrize(
    ("frame", "what"),
    [
        (b"not json at all", "malformed"),
        (b'["t", "done"]', "malformed"),
        (b'{"t": "done", "i": "0", "outputs": []}', "bad-field"),
        (b'{"t": "done", "i": 0, "outputs": [], "count": "7"}', "bad-field"),
        (b'{"t": "done", "i": 0, "outputs": [], "issues": {"timeout": 3}}', "bad-field"),
        (b'{"t": "done", "i": 0, "outputs": [], "reply": {"status": 1}}', "bad-field"),
        (b'{"t": "progress", "i": 0, "outputs": [{"output_type": "stream"}]}', "bad-output"),
        (b'{"t": "done", "i": true, "outputs": []}', "bad-field"),
        (b'{"t": "hello"}', "unknown-frame"),
        (b'{"t": "end"}', "out-of-order"),
    ],
)
def test_every_field_of_every_frame_is_checked(run, frame, what):
    outcome = run(f"{FORGER}send_raw({frame!r})\nimport time\ntime.sleep(30)", "1")
    assert _violations(outcome) == [what]
    assert outcome.outputs[1][0]["ename"] == "DeadKernelError"


def test_a_mistyped_execute_result_is_rejected(run):
    bad = {
        "t": "done",
        "i": 0,
        "outputs": [
            {
                "output_type": "execute_result",
                "execution_count": "1",
                "data": {"text/plain": "x"},
                "metadata": {},
            }
        ],
    }
    outcome = run(f"{FORGER}send({bad!r})")
    assert _violations(outcome) == ["bad-output"]


def test_json_mime_data_may_be_structured(run):
    # application/json (and +json) bundles hold JSON values, not text: they stay valid.
    outcome = run(
        "from IPython.display import display\n"
        "display({'application/json': {'a': [1, 2]}, 'text/plain': 'a'}, raw=True)"
    )
    assert outcome.issues == ()
    assert outcome.outputs[0][0]["data"]["application/json"] == {"a": [1, 2]}


def test_a_notebook_budget_bounds_many_slow_cells(run, runtime):
    # The finding: 40 cells of 1.7 s each ran 69 s; no budget per notebook.
    cells = ["import time\ntime.sleep(1)"] * 8
    outcome = run(*cells, timeout=5)  # the default budget (60 s) is far away: all run
    assert outcome.issues == ()
    request = RunRequest(cells=tuple(cells), cell_timeout=5, budget=2.5)
    outcome = runtime.run(request)
    kinds = _kinds(outcome)
    stopped = min(index for index, kind in kinds if kind == "budget")
    assert stopped < 8
    assert all(outcome.execution_counts[k] is not None for k in range(stopped))
    assert all(outcome.outputs[k][0]["ename"] == "DeadKernelError" for k in range(stopped, 8))


def test_the_budget_is_a_graded_flag(runtime):
    slow = submission(
        add_body="    return a + b\nimport time\ntime.sleep(30)",
        explain="commutative",
    )
    result = grade(dataclasses.replace(job(slow, timeout=20), budget=1.0), runtime)
    assert result.status == "graded"
    assert "budget:add" in result.flags
    assert by_id(result)["test_add"].score == 0


def test_default_budget_follows_the_cell_timeout():
    from grading.runtime.limits import default_budget

    assert default_budget(2) == 60.0
    assert default_budget(30) == 300.0


def test_frames_of_the_honest_executor_pass_the_checks(run):
    outcome = run(
        "print('out')\nimport sys\nprint('err', file=sys.stderr)",
        "from IPython.display import display, HTML\ndisplay(HTML('<b>x</b>'))\n1 + 1",
        "",
        "1/0",
    )
    assert _violations(outcome) == []
    assert outcome.outputs[0][0]["text"] == "out\n"
    assert outcome.outputs[1][-1]["data"]["text/plain"] == "2"
    assert outcome.outputs[3][-1]["ename"] == "ZeroDivisionError"


def test_a_report_after_the_cell_finished_is_not_held_against_it(run):
    # The capture thread's progress report may land after the cell's own report: harmless.
    outcome = run("import time\nfor i in range(5):\n    print(i)\n    time.sleep(0.3)", "'next'")
    assert _violations(outcome) == []
    assert outcome.outputs[1][0]["data"]["text/plain"] == "'next'"


def test_a_violation_in_check_work_is_graded_too(runtime):
    from grading import check_work

    code = "send_raw(b'garbage')"
    result = check_work(job(_hostile(code)), runtime)
    assert result.status == "graded"
    assert "protocol-violation:malformed" in result.flags
    assert json.loads(result.graded_notebook)["cells"]
    assert cell(json.loads(result.graded_notebook), "test_add")["outputs"]


def test_sixty_forged_done_frames_of_8_9_mb_under_the_default_limits():
    # The finding, at its own sizes: each frame fits the default per-frame bound (9 MB), in a
    # valid order; the run's total is what stops it, and the grader's memory stays bounded.
    from grading.runtime import Runtime

    cells = 60
    forging = (
        f"{FORGER}text = 'x' * int(8.9 * 2**20 - 200)\n"
        f"for i in range({cells}):\n"
        "    if i:\n        send({'t': 'start', 'i': i})\n"
        "    send({'t': 'done', 'i': i, 'outputs': [{'output_type': 'stream', 'name': 'stdout',"
        " 'text': text}]})\n"
    )
    process = psutil.Process()
    before = process.memory_info().rss
    with Runtime(slots=1) as runtime:
        outcome = runtime.run(RunRequest(cells=(forging, *["1"] * (cells - 1))))
        # Stopped, whichever rule fires first: the run total, a missing nonce, or a frame the
        # executor's own progress report cut in two (both write on the same socket).
        assert _stopped_for(outcome)
        kept = sum(len(o.get("text", "")) for outputs in outcome.outputs for o in outputs)
        assert kept < 80 << 20
        assert process.memory_info().rss - before < 400 << 20
        del outcome
        honest = runtime.run(RunRequest(cells=("6 * 7",)))
        assert honest.outputs[0][0]["data"]["text/plain"] == "42"
