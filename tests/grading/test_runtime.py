"""The runtime executes cells as an IPython kernel does, with nbgrader's outputs and timeouts."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import grading
from grading.runtime import RunRequest, get_runtime, isolation_report


def _streams(outputs, name):
    return [o["text"] for o in outputs if o["output_type"] == "stream" and o["name"] == name]


def test_print_becomes_one_stdout_stream(run):
    outcome = run("print('a')\nprint('b')")
    assert outcome.outputs == (({"output_type": "stream", "name": "stdout", "text": "a\nb\n"},),)
    assert outcome.execution_counts == (1,)
    assert outcome.issues == ()


def test_stderr_is_a_separate_stream_flushed_after_stdout(run):
    outcome = run("import sys\nprint('out')\nprint('err', file=sys.stderr)\nprint('out2')")
    assert [(o["name"], o["text"]) for o in outcome.outputs[0]] == [
        ("stdout", "out\nout2\n"),
        ("stderr", "err\n"),
    ]


def test_warnings_are_written_to_stderr(run):
    outcome = run("import warnings\nwarnings.warn('careful')")
    (text,) = _streams(outcome.outputs[0], "stderr")
    assert "UserWarning: careful" in text


def test_c_level_writes_to_fd_1_and_2_are_captured(run):
    outcome = run("import os\nos.write(1, b'low out\\n')\nos.write(2, b'low err\\n');")
    assert _streams(outcome.outputs[0], "stdout") == ["low out\n"]
    assert _streams(outcome.outputs[0], "stderr") == ["low err\n"]


def test_subprocess_output_is_captured(run):
    outcome = run("import subprocess\nsubprocess.run(['echo', 'from child']);")
    assert _streams(outcome.outputs[0], "stdout") == ["from child\n"]


def test_last_expression_is_an_execute_result_with_its_count(run):
    outcome = run("x = 20", "x * 2 + 2", "x;")
    assert outcome.outputs[0] == ()
    assert outcome.outputs[1] == (
        {
            "output_type": "execute_result",
            "execution_count": 2,
            "data": {"text/plain": "42"},
            "metadata": {},
        },
    )
    assert outcome.outputs[2] == ()
    assert outcome.execution_counts == (1, 2, 3)


def test_blank_cells_are_skipped_like_nbclient_does(run):
    outcome = run("1", "   \n", "2")
    assert outcome.execution_counts == (1, None, 2)
    assert outcome.outputs[1] == ()
    assert outcome.outputs[2][0]["execution_count"] == 2


def test_numeric_result_text_is_ipython_formatted(run):
    outcome = run("0.5", "import numpy as np\nnp.float64(1.5)")
    assert outcome.outputs[0][0]["data"]["text/plain"] == "0.5"
    assert outcome.outputs[1][0]["data"]["text/plain"] == "np.float64(1.5)"


def test_display_produces_display_data_with_rich_reprs(run):
    outcome = run("from IPython.display import HTML, display\ndisplay(HTML('<b>hi</b>'))\n'end'")
    display, result = outcome.outputs[0]
    assert display["output_type"] == "display_data"
    assert display["data"]["text/html"] == "<b>hi</b>"
    assert result["output_type"] == "execute_result"


def test_dataframe_result_has_html_and_plain_text(run):
    outcome = run("import pandas as pd\npd.DataFrame({'a': [1, 2]})")
    data = outcome.outputs[0][0]["data"]
    assert "text/html" in data and "text/plain" in data


def test_clear_output_drops_earlier_outputs(run):
    outcome = run(
        "from IPython.display import clear_output\nprint('old')\nclear_output()\nprint('new')"
    )
    assert outcome.outputs[0] == ({"output_type": "stream", "name": "stdout", "text": "new\n"},)


def test_errors_are_error_outputs_and_later_cells_still_run(run):
    outcome = run("def f():\n    return 1 / 0", "f()", "'still running'")
    (error,) = outcome.outputs[1]
    assert error["output_type"] == "error"
    assert (error["ename"], error["evalue"]) == ("ZeroDivisionError", "division by zero")
    assert all(isinstance(line, str) for line in error["traceback"])
    assert any("ZeroDivisionError" in line for line in error["traceback"])
    assert outcome.outputs[2][0]["data"]["text/plain"] == "'still running'"


def test_syntax_error_and_assertion_error(run):
    outcome = run("def broken(:\n    pass", "assert 1 == 2, 'nope'")
    assert outcome.outputs[0][0]["ename"] == "SyntaxError"
    assert (outcome.outputs[1][0]["ename"], outcome.outputs[1][0]["evalue"]) == (
        "AssertionError",
        "nope",
    )


def test_magics_and_shell_escapes_work(run):
    outcome = run("%load_ext autoreload", "!echo shell-escape", "files = !ls /\n'etc' in files")
    assert outcome.outputs[0] == ()
    assert "shell-escape" in "".join(_streams(outcome.outputs[1], "stdout"))
    assert outcome.outputs[2][0]["data"]["text/plain"] == "True"


def test_nbgrader_environment_and_request_env(run):
    outcome = run(
        "import os\nos.environ['NBGRADER_EXECUTION'], os.environ['COURSE']", env={"COURSE": "ps1"}
    )
    assert outcome.outputs[0][0]["data"]["text/plain"] == "('autograde', 'ps1')"


def test_files_are_placed_in_the_working_directory(run):
    outcome = run(
        "open('data/values.csv').read()",
        "import os\nos.getcwd() == os.environ['HOME']",
        files={"data/values.csv": b"a,b\n1,2\n"},
    )
    assert outcome.outputs[0][0]["data"]["text/plain"] == "'a,b\\n1,2\\n'"
    assert outcome.outputs[1][0]["data"]["text/plain"] == "True"


def test_state_persists_between_cells_but_not_between_runs(run):
    first = run("secret_value = 7", "secret_value")
    second = run("'secret_value' in globals()")
    assert first.outputs[1][0]["data"]["text/plain"] == "7"
    assert second.outputs[0][0]["data"]["text/plain"] == "False"
    assert second.execution_counts == (1,)


def test_timeout_interrupts_the_cell_like_nbgrader(run):
    outcome = run("import time\nprint('before')\ntime.sleep(30)", "'next cell runs'", timeout=1)
    names = [o.get("ename") for o in outcome.outputs[0] if o["output_type"] == "error"]
    assert names == ["KeyboardInterrupt", "CellTimeoutError"]
    assert outcome.outputs[0][-1]["traceback"] == [
        "\x1b[0;31mCellTimeoutError\x1b[0m: No reply from kernel before timeout"
    ]
    assert [(i.index, i.kind) for i in outcome.issues] == [(0, "timeout")]
    assert outcome.outputs[1][0]["data"]["text/plain"] == "'next cell runs'"
    assert outcome.execution_counts == (1, 2)


def test_runs_in_parallel_threads_are_independent(runtime):
    from concurrent.futures import ThreadPoolExecutor

    def job(n: int):
        return runtime.run(RunRequest(cells=(f"n = {n}", "import time\ntime.sleep(0.2)\nn * 10")))

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(job, range(6)))
    assert [o.outputs[1][0]["data"]["text/plain"] for o in outcomes] == [
        str(n * 10) for n in range(6)
    ]


def test_request_validation_rejects_escaping_file_names(runtime):
    with pytest.raises(ValueError, match="relative path"):
        runtime.run(RunRequest(cells=("1",), files={"../x": b""}))
    with pytest.raises(ValueError, match="relative path"):
        runtime.run(RunRequest(cells=("1",), files={"/etc/x": b""}))


def test_isolation_report_and_shared_runtime():
    assert get_runtime() is get_runtime()
    report = isolation_report()
    assert report["sandboxed"] is True
    assert report["uid_drop"] is True
    assert set(report["namespaces"]) >= {"mount", "pid", "net", "ipc"}
    assert "NPROC" in report["rlimits"]


def test_importing_the_runtime_does_not_import_ipython_in_the_host():
    # Only the runtime package (not the pipeline's __init__): IPython belongs in the fork server.
    package = str(Path(grading.__file__).parent)
    code = (
        "import sys, types; pkg = types.ModuleType('grading'); pkg.__path__ = [sys.argv[1]]; "
        "sys.modules['grading'] = pkg; import grading.runtime; "
        "print(sorted(m for m in ('IPython', 'ipykernel', 'numpy') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, package], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_an_error_hidden_from_the_outputs_is_still_reported_like_nbgrader(run):
    outcome = run(
        "get_ipython().showtraceback = lambda *args, **kwargs: None",
        "raise ValueError('hidden')",
        "get_ipython()._showtraceback = lambda *args, **kwargs: None",
        "raise KeyError('hidden too')",
    )
    assert outcome.outputs[1] == (
        {
            "output_type": "error",
            "ename": "ValueError",
            "evalue": "hidden",
            "traceback": ["ERROR: An error occurred while showtraceback was disabled"],
        },
    )
    assert [o["ename"] for o in outcome.outputs[3]] == ["KeyError"]


def test_input_is_refused_as_under_nbclient(run):
    outcome = run("input('name? ')", "import getpass\ngetpass.getpass()")
    assert [o["ename"] for o in outcome.outputs[0]] == ["StdinNotImplementedError"]
    assert [o["ename"] for o in outcome.outputs[1]] == ["StdinNotImplementedError"]


def test_top_level_await_works(run):
    outcome = run("import asyncio\nawait asyncio.sleep(0)\n'awaited'")
    assert outcome.outputs[0][0]["data"]["text/plain"] == "'awaited'"


def test_without_isolation_the_runtime_refuses_unless_opted_out(monkeypatch):
    from grading.runtime import SandboxUnavailable
    from grading.runtime.isolation import UNSAFE_ENV, check, describe

    bare = {"uid_drop": False, "namespaces": [], "rlimits": ["CPU"]}
    monkeypatch.delenv(UNSAFE_ENV, raising=False)
    with pytest.raises(SandboxUnavailable, match=UNSAFE_ENV):
        check(describe(bare, {}))
    monkeypatch.setenv(UNSAFE_ENV, "1")
    report = describe(bare, {})
    check(report)  # allowed, with a loud warning in the log
    assert report["sandboxed"] is False and report["unsafe_opt_out"] is True


def test_a_killed_fork_server_is_restarted(runtime):
    import os
    import signal

    os.kill(runtime._server.process.pid, signal.SIGKILL)
    runtime._server.process.wait()
    outcome = runtime.run(RunRequest(cells=("'back'",)))
    assert outcome.outputs[0][0]["data"]["text/plain"] == "'back'"
    assert outcome.issues == ()


def test_exit_calls_behave_as_in_a_kernel(run):
    outcome = run("import sys\nsys.exit(3)", "exit()", "'after'")
    assert [o["output_type"] for o in outcome.outputs[0]] == ["error", "stream"]
    assert outcome.outputs[0][0]["ename"] == "SystemExit"
    assert "To exit: use 'exit', 'quit', or Ctrl-D." in outcome.outputs[0][1]["text"]
    assert outcome.outputs[1] == ()
    assert outcome.outputs[2][0]["data"]["text/plain"] == "'after'"


PARITY_CELLS = (
    "print('a')\nprint('b')",
    "import sys\nprint('o')\nprint('e', file=sys.stderr)",
    "x = 5\nx",
    "x;",
    "1/0",
    "import warnings\nwarnings.warn('careful')",
    "from IPython.display import HTML, Markdown, display\ndisplay(HTML('<i>h</i>'))\n"
    "display(Markdown('**m**'))\n3",
    "!echo from-shell",
    "assert False, 'msg'",
    "def f(:\n    pass",
    "",
    "import numpy as np\nnp.arange(3)",
    "import pandas as pd\npd.Series([1, 2])",
    "print('no newline', end='')",
    "from IPython.display import clear_output\nprint('a')\nclear_output()\nprint('b')",
    "raise KeyboardInterrupt",
    "input()",
    "%%capture captured\nprint('hidden')",
    "captured.stdout",
    "import sys\nsys.exit(3)",
    "exit()",
    "print('\\x1b[31mred\\x1b[0m')",
    "0.1 + 0.2",
)


def _normalise(outputs):
    shape = []
    for output in outputs:
        kind = output["output_type"]
        if kind == "stream":
            # The cell's file name holds the kernel's pid: /tmp/ipykernel_<pid>/<hash>.py
            text = re.sub(r"/ipykernel_\d+/", "/ipykernel_PID/", output["text"])
            shape.append((kind, output["name"], text))
        elif kind == "error":
            shape.append((kind, output["ename"], output["evalue"]))
        else:
            data = output["data"]
            shape.append(
                (kind, sorted(data), data.get("text/plain"), output.get("execution_count"))
            )
    return shape


def test_outputs_match_a_real_ipykernel_run_by_nbclient(run):
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in PARITY_CELLS])
    client = NotebookClient(
        nb,
        kernel_name="python3",
        allow_errors=True,
        timeout=30,
        extra_arguments=["--HistoryManager.hist_file=:memory:"],
    )
    client.execute()
    outcome = run(*PARITY_CELLS)
    for index, cell in enumerate(nb.cells):
        expected = (cell.get("execution_count"), _normalise(cell.outputs))
        actual = (outcome.execution_counts[index], _normalise(outcome.outputs[index]))
        assert actual == expected, f"cell {index}: {PARITY_CELLS[index]!r}"


def test_data_files_may_exceed_what_trainee_code_may_write(run, runtime_limits):
    size = runtime_limits.file_size_bytes + 1024
    outcome = run("import os\nos.path.getsize('big.bin')", files={"big.bin": b"\0" * size})
    assert outcome.outputs[0][0]["data"]["text/plain"] == str(size)


def test_files_larger_than_the_working_directory_are_refused(runtime, runtime_limits):
    too_big = {"huge.bin": b"\0" * runtime_limits.workdir_bytes}
    with pytest.raises(ValueError, match="workdir_bytes"):
        runtime.run(RunRequest(cells=("1",), files=too_big))


def test_every_interpreter_directory_is_readable_inside_the_sandbox(run):
    """The venv may live below /tmp or /home (a CI checkout): its bind must not be hidden by the
    sandbox's own tmpfs there, or lazily imported modules vanish."""
    from grading.runtime.sandbox import python_paths

    paths = list(python_paths())
    outcome = run(f"import os\nprint(all(os.listdir(p) for p in {paths!r}))")
    assert outcome.outputs[0] == ({"output_type": "stream", "name": "stdout", "text": "True\n"},)
