"""Hostile code ends with a result and a reason; nothing escapes; the next run is normal."""

from __future__ import annotations

import os
import threading
import time
import uuid
from pathlib import Path

import pytest

import grading
from grading.runtime import RunRequest
from grading.runtime.sandbox import python_paths

REPO_ROOT = Path(grading.__file__).resolve().parents[1]


def _kinds(outcome):
    return {(issue.index, issue.kind) for issue in outcome.issues}


def _errors(outputs):
    return [o["ename"] for o in outputs if o["output_type"] == "error"]


def _result(outputs):
    (result,) = [o for o in outputs if o["output_type"] == "execute_result"]
    return result["data"]["text/plain"]


@pytest.fixture(autouse=True)
def clean_afterwards(run, sandbox_pids):
    """After every hostile case: no process of a sandbox uid survives, and a run is normal."""
    yield
    deadline = time.monotonic() + 5
    while sandbox_pids() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sandbox_pids() == []
    outcome = run("import os\nprint('ok')\nos.getcwd()")
    assert outcome.issues == ()
    assert outcome.outputs[0][0]["text"] == "ok\n"
    assert _result(outcome.outputs[0]) == "'/home/trainee'"


@pytest.fixture
def host_marker():
    """A path outside any sandbox that hostile code tries to create."""
    path = Path("/tmp") / f"atlas-escape-{uuid.uuid4().hex}"
    yield path
    assert not path.exists(), f"sandboxed code created {path} on the host"


def test_infinite_loop_is_interrupted_and_the_next_cell_runs(run):
    outcome = run("while True:\n    pass", "'after'", timeout=1)
    assert _kinds(outcome) == {(0, "timeout")}
    assert _errors(outcome.outputs[0]) == ["KeyboardInterrupt", "CellTimeoutError"]
    assert _result(outcome.outputs[1]) == "'after'"


def test_loop_ignoring_sigint_is_killed_and_later_cells_explain(run):
    code = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    outcome = run(code, "'never'", timeout=1)
    assert (0, "timeout") in _kinds(outcome)
    assert (1, "died") in _kinds(outcome)
    assert _errors(outcome.outputs[0]) == ["CellTimeoutError"]
    assert _errors(outcome.outputs[1]) == ["DeadKernelError"]
    assert "Not run" in outcome.outputs[1][0]["evalue"]


def test_loop_swallowing_keyboard_interrupt_is_killed(run):
    code = (
        "while True:\n    try:\n        while True:\n            pass\n"
        "    except KeyboardInterrupt:\n        pass"
    )
    outcome = run(code, timeout=1)
    assert _kinds(outcome) == {(0, "timeout")}
    assert _errors(outcome.outputs[0]) == ["CellTimeoutError"]


def test_fork_bomb_hits_the_process_limit(run):
    code = (
        "import os, time\nfor _ in range(10000):\n    try:\n        if os.fork() == 0:\n"
        "            time.sleep(60)\n            os._exit(0)\n    except OSError as exc:\n"
        "        raise SystemExit(f'refused: {exc}')"
    )
    outcome = run(code, "'alive'", timeout=10)
    assert _errors(outcome.outputs[0]) == ["SystemExit"]
    assert "refused" in outcome.outputs[0][0]["evalue"]
    assert (None, "processes") in _kinds(outcome) or (0, "processes") in _kinds(outcome)
    assert _result(outcome.outputs[1]) == "'alive'"


def test_recursive_fork_bomb_is_contained_by_the_timeout(run):
    outcome = run(
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
        timeout=2,
    )
    assert (0, "timeout") in _kinds(outcome)


def test_huge_allocation_raises_memory_error_in_the_cell(run):
    outcome = run("x = bytearray(64 * 1024**3)", "'after'")
    assert _errors(outcome.outputs[0]) == ["MemoryError"]
    assert (0, "memory") in _kinds(outcome)
    assert _result(outcome.outputs[1]) == "'after'"


def test_growing_memory_is_stopped(run):
    outcome = run(
        "chunks = []\nwhile True:\n    chunks.append(bytearray(16 * 1024**2))\n"
        "    chunks[-1][::4096] = b'x' * len(chunks[-1][::4096])",
        timeout=20,
    )
    assert (0, "memory") in _kinds(outcome)


def test_disk_bomb_hits_the_file_size_limit(run):
    code = "with open('big.bin', 'wb') as f:\n    while True:\n        f.write(b'0' * 2**20)"
    outcome = run(code, "'after'")
    assert _errors(outcome.outputs[0]) == ["OSError"]
    assert (0, "file-size") in _kinds(outcome)
    assert _result(outcome.outputs[1]) == "'after'"


def test_many_files_fill_the_capped_tmp(run):
    code = (
        "i = 0\nwhile True:\n    with open(f'/tmp/f{i}', 'wb') as f:\n"
        "        f.write(b'0' * 2**20)\n    i += 1"
    )
    outcome = run(code)
    assert _errors(outcome.outputs[0]) == ["OSError"]
    assert (0, "file-size") in _kinds(outcome)


def test_output_flood_is_truncated_and_stopped(run, runtime_limits):
    outcome = run("while True:\n    print('x' * 1000)", "'after'", timeout=20)
    assert (0, "output-limit") in _kinds(outcome)
    kept = sum(len(o.get("text", "")) for o in outcome.outputs[0])
    assert kept < runtime_limits.output.keep_cell_bytes + 1000
    assert "OutputLimitExceeded" in _errors(outcome.outputs[0])
    assert _result(outcome.outputs[1]) == "'after'"


def test_fd_level_flood_is_stopped(run):
    outcome = run("import os\nwhile True:\n    os.write(1, b'y' * 65536)", timeout=20)
    assert (0, "output-limit") in _kinds(outcome)
    assert _errors(outcome.outputs[0]) == ["KeyboardInterrupt"]


def test_killing_the_parent_does_not_reach_the_grader(run):
    outcome = run("import os\nos.kill(os.getppid(), 9)\n'survived'", "'after'")
    assert os.getpid() > 0  # we are still here
    assert _result(outcome.outputs[1]) == "'after'"


def test_kill_every_process_it_can_signal_spares_other_sandboxes(runtime, run):
    sleeper: dict = {}

    def neighbour():
        sleeper["outcome"] = runtime.run(
            RunRequest(cells=("import time\ntime.sleep(1.5)\n'neighbour ok'",))
        )

    thread = threading.Thread(target=neighbour)
    thread.start()
    time.sleep(0.5)
    outcome = run(
        "import os, subprocess\nsubprocess.Popen(['sleep', '30'])\nos.kill(-1, 9)\n'still here'"
    )
    thread.join()
    assert _result(outcome.outputs[0]) == "'still here'"
    assert _result(sleeper["outcome"].outputs[0]) == "'neighbour ok'"


def test_os_exit_is_reported_as_a_dead_kernel(run):
    outcome = run("import os\nos._exit(0)", "'never'")
    assert _kinds(outcome) == {(0, "died"), (1, "died")}
    assert _errors(outcome.outputs[0]) == ["DeadKernelError"]
    assert "exit code 0" in outcome.outputs[0][0]["evalue"]


def test_segfault_is_reported_with_its_signal(run):
    outcome = run("import faulthandler\nfaulthandler._sigsegv()", "'never'")
    assert (0, "died") in _kinds(outcome)
    assert "SIGSEGV" in outcome.outputs[0][0]["evalue"]


def test_cpu_time_limit(runtime):
    from grading.runtime import Limits, Runtime

    limits = Limits(cpu_seconds=1, interrupt_grace=1.0)
    with Runtime(slots=1, limits=limits, preload=()) as small:
        outcome = small.run(RunRequest(cells=("while True:\n    pass",), cell_timeout=20))
    assert (0, "cpu-time") in _kinds(outcome)


def test_secrets_are_unreadable(run):
    cells = [
        f"open({path!r}).read()"
        for path in (
            "/etc/shadow",
            str(REPO_ROOT / "pyproject.toml"),
            str(REPO_ROOT / "grading/job.py"),
            "/root/.bashrc",
            "/proc/1/root/etc/shadow",
        )
    ]
    outcome = run(*cells)
    for outputs in outcome.outputs:
        assert _errors(outputs) in (["FileNotFoundError"], ["PermissionError"])


def test_repo_and_other_home_folders_are_invisible(runtime, run):
    # Only the directories leading to the Python installation exist, empty but for it.
    outcome = run(
        f"import os\n[os.path.join(d, n) for d in ({str(REPO_ROOT)!r}, '/root', '/work')"
        " if os.path.isdir(d) for n in os.listdir(d)]",
        "sorted(os.listdir('/home'))",
    )
    visible = eval(_result(outcome.outputs[0]))
    python_paths = runtime.isolation["python_paths_visible"]
    for path in visible:
        assert any(p == path or p.startswith(path + "/") for p in python_paths), path
    assert _result(outcome.outputs[1]) == "['trainee']"


def test_host_environment_secrets_are_not_inherited(run):
    os.environ["ATLAS_TEST_SECRET"] = "s3cr3t"
    try:
        # A sandbox forked after the secret appeared in the host still must not see it.
        outcome = run(
            "import os\n[k for k, v in os.environ.items() if 's3cr3t' in v or "
            "k.startswith(('ATLAS', 'LMS', 'DATABASE', 'SECRET'))]",
            "open('/proc/self/environ', 'rb').read().count(b's3cr3t')",
        )
    finally:
        del os.environ["ATLAS_TEST_SECRET"]
    assert _result(outcome.outputs[0]) == "[]"
    assert _result(outcome.outputs[1]) == "0"


def test_network_is_unreachable(run):
    cells = [
        f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)"
        for port in (5432, 6379)
    ]
    cells.append("socket.create_connection(('1.1.1.1', 53), timeout=2)")
    outcome = run(*cells)
    assert _errors(outcome.outputs[0]) == ["ConnectionRefusedError"]
    assert _errors(outcome.outputs[1]) == ["ConnectionRefusedError"]
    assert _errors(outcome.outputs[2]) == ["OSError"]  # network is unreachable


def test_only_its_own_processes_are_visible(run):
    outcome = run(
        "import os\nsorted(int(p) for p in os.listdir('/proc') if p.isdigit())[:1]",
        f"import os\nos.kill({os.getpid()}, 9)",
    )
    assert _result(outcome.outputs[0]) == "[1]"
    assert _errors(outcome.outputs[1]) == ["ProcessLookupError"]


def test_files_written_for_the_next_run_do_not_persist(run, host_marker):
    first = run(
        "import os, site\nopen('/tmp/planted.py', 'w').write('x')\n"
        "open(os.path.expanduser('~/.bashrc'), 'w').write('x')",
        f"open({str(host_marker)!r}, 'w').write('x')",
        "import site\nopen(site.getsitepackages()[0] + '/sitecustomize.py', 'w').write('x')",
    )
    assert _errors(first.outputs[0]) == []
    assert _errors(first.outputs[1]) == []  # its own /tmp: the host's stays untouched
    assert _errors(first.outputs[2]) == ["OSError"]  # read-only file system
    second = run(
        "import os\nos.path.exists('/tmp/planted.py'), "
        "os.path.exists(os.path.expanduser('~/.bashrc'))"
    )
    assert _result(second.outputs[0]) == "(False, False)"


def test_background_processes_are_killed_with_the_run(run, host_marker, sandbox_pids):
    outcome = run(
        "import subprocess\nsubprocess.Popen(['sleep', '300'])\n"
        f"subprocess.Popen(['sh', '-c', 'sleep 1; touch {host_marker}'])\n"
        "'started'"
    )
    assert _result(outcome.outputs[0]) == "'started'"
    time.sleep(1.5)
    assert sandbox_pids() == []


def test_privileges_cannot_be_regained(run):
    outcome = run(
        "import os\nos.setuid(0)",
        "import os\nos.getuid() != 0 and os.geteuid() != 0",
        "!sudo -n true 2>&1 || echo refused",
    )
    assert _errors(outcome.outputs[0]) == ["PermissionError"]
    assert _result(outcome.outputs[1]) == "True"


def test_mounting_and_new_namespaces_are_refused(run):
    probe = (
        "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "print((libc.unshare(0x00020000), ctypes.get_errno()))"
    )
    outcome = run(
        "import subprocess, sys\n"
        f"subprocess.run([sys.executable, '-I', '-c', {probe!r}], capture_output=True,"
        " text=True).stdout.strip()",
        "import os\nos.chroot('/tmp')",
    )
    assert _result(outcome.outputs[0]) == "'(-1, 1)'"  # EPERM (in a child: ctypes is refused here)
    assert _errors(outcome.outputs[1]) == ["PermissionError"]


def test_too_many_open_files_is_an_error_not_a_crash(run):
    outcome = run("files = [open('/dev/null') for _ in range(100000)]", "'after'")
    assert _errors(outcome.outputs[0]) == ["OSError"]
    assert _result(outcome.outputs[1]) == "'after'"


def test_other_jobs_files_are_invisible(runtime, run):
    holder: dict = {}

    def neighbour():
        holder["outcome"] = runtime.run(
            RunRequest(
                cells=("open('answer.txt', 'w').write('mine')\nimport time\ntime.sleep(1.5)",)
            )
        )

    thread = threading.Thread(target=neighbour)
    thread.start()
    time.sleep(0.6)
    # The interpreter's read-only directories may sit below /tmp (a checkout there): not a job's.
    interpreter = [p.rstrip("/") for p in python_paths()]
    outcome = run(
        "import os, glob\n"
        f"interpreter = {interpreter!r}\n"
        "[p for p in glob.glob('/home/*/*') + glob.glob('/tmp/*')"
        " if not any(i == p or i.startswith(p + '/') for i in interpreter)]"
    )
    thread.join()
    assert _result(outcome.outputs[0]) == "[]"


def test_forked_child_cannot_report_for_the_parent(run):
    outcome = run(
        "import os\npid = os.fork()\nif pid == 0:\n    print('child')\nelse:\n"
        "    os.waitpid(pid, 0)\n    print('parent')",
        "'after'",
    )
    texts = "".join(o.get("text", "") for o in outcome.outputs[0])
    assert "parent" in texts
    assert _result(outcome.outputs[1]) == "'after'"


def test_forged_protocol_messages_stop_the_run(run):
    # Writing to the executor's socket is possible in-process (as forging kernel messages is under
    # nbgrader); an out-of-order report is detected, the sandbox killed, the rest marked.
    code = (
        "import os, json, struct\n"
        "fd = [int(f) for f in os.listdir('/proc/self/fd') if os.path.exists(f'/proc/self/fd/{f}')"
        " and os.readlink(f'/proc/self/fd/{f}').startswith('socket:')][0]\n"
        "body = json.dumps({'t': 'done', 'i': 5, 'outputs': [], 'count': 1}).encode()\n"
        "os.write(fd, struct.pack('>I', len(body)) + body)\n"
        "import time\ntime.sleep(5)"
    )
    outcome = run(code, "'never'")
    kinds = _kinds(outcome)
    # With per-cell nonces the forged report is caught as forged; an unlucky interleaving with
    # the executor's own report is caught by the framing rules instead: either way it stops.
    assert (None, "protocol-violation") in kinds or (0, "forged") in kinds
    assert _errors(outcome.outputs[1]) == ["DeadKernelError"]


@pytest.mark.parametrize(
    "hook",
    [
        "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])",
        "import ast\nclass T(ast.NodeTransformer):\n    def visit_Assert(self, node):\n"
        "        return ast.Pass()\nget_ipython().ast_transformers.append(T())",
        "get_ipython().input_transformer_manager.cleanup_transforms.append("
        "lambda lines: ['pass\\n'])",
        "type(get_ipython()).run_cell = lambda *a, **k: None",
    ],
    ids=["input-transformer", "ast-transformer", "cleanup-transform", "patched-run-cell"],
)
def test_later_cells_cannot_be_rewritten_by_an_earlier_one(run, hook):
    outcome = run(hook, "assert 1 == 2, 'the hidden test fails'")
    assert _errors(outcome.outputs[1]) == ["AssertionError"]


def test_outputs_before_a_hang_or_crash_are_kept(run):
    hang = (
        "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "print('progress so far')\nwhile True:\n    pass"
    )
    crash = "import os, time\nprint('about to crash')\ntime.sleep(1)\nos._exit(1)"
    hung = run(hang, timeout=2)
    crashed = run(crash)
    assert hung.outputs[0][0] == {
        "output_type": "stream",
        "name": "stdout",
        "text": "progress so far\n",
    }
    assert _errors(hung.outputs[0]) == ["CellTimeoutError"]
    assert crashed.outputs[0][0]["text"] == "about to crash\n"
    assert _errors(crashed.outputs[0]) == ["DeadKernelError"]


def test_the_hosts_stdio_is_not_reachable_through_proc(run):
    outcome = run(
        "import os\n[os.readlink(f'/proc/1/fd/{n}') for n in (0, 1, 2)]",
    )
    assert _result(outcome.outputs[0]) == "['/dev/null', '/dev/null', '/dev/null']"


# Run the runtime as an unprivileged user (uid 65534) in a private mount namespace where the
# directories leading to Python and the repository are made traversable, like a non-root host.
_AS_NOBODY = r"""
import os, sys, tempfile
repo, child = sys.argv[1], sys.argv[2]
sys.path.insert(0, repo)
from grading.runtime import syscalls
syscalls.unshare(syscalls.CLONE_NEWNS)
syscalls.mount(None, "/", None, syscalls.MS_REC | syscalls.MS_PRIVATE, None)
needed = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, repo)}
old_tmp = os.open("/tmp", os.O_RDONLY | os.O_DIRECTORY)
syscalls.mount("tmpfs", "/tmp", "tmpfs", 0, "mode=1777")  # nothing left on the host's /tmp
for path in sorted(p for p in needed if p.startswith("/tmp/")):  # a checkout below /tmp (CI)
    os.makedirs(path, exist_ok=True)
    syscalls.mount(f"/proc/self/fd/{old_tmp}{path[4:]}", path, None, syscalls.MS_BIND, None)
blocked = {}
for path in needed:
    for depth in range(1, len(path.split("/"))):
        ancestor = "/".join(path.split("/")[: depth + 1])
        if not os.stat(ancestor).st_mode & 0o001:
            blocked.setdefault(ancestor, []).append(path)
            break
stash = {a: tempfile.mkdtemp() for a in blocked}
for ancestor, place in stash.items():
    syscalls.mount(ancestor, place, None, syscalls.MS_BIND, None)
for ancestor, paths in blocked.items():
    syscalls.mount("tmpfs", ancestor, "tmpfs", 0, "mode=0755")
    for path in paths:
        os.makedirs(path, exist_ok=True)
        syscalls.mount(stash[ancestor] + path[len(ancestor):], path, None, syscalls.MS_BIND, None)
os.setgroups([])
os.setresgid(65534, 65534, 65534)
os.setresuid(65534, 65534, 65534)
os.execve(sys.executable, [sys.executable, "-c", child, repo], {"PATH": "/usr/bin:/bin"})
"""

_SANDBOXED_RUN = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from grading.runtime import RunRequest, Runtime
with Runtime(slots=1, preload=()) as rt:
    outcome = rt.run(RunRequest(cells=(
        "import os\nos.getuid() != 65534, os.getcwd()",
        "open('/proc/self/status').read().split('CapEff:')[1].split()[0]",
        "import socket\nsocket.create_connection(('127.0.0.1', 5432), timeout=1)",
        f"os.path.exists({sys.argv[1] + '/pyproject.toml'!r})",
        "while True:\n    pass",
        "import os, time\nfor _ in range(200):\n    try:\n        if os.fork() == 0:\n"
        "            time.sleep(60)\n            os._exit(0)\n    except OSError as exc:\n"
        "        raise SystemExit(f'refused: {exc}')",
    ), cell_timeout=5))
    print(json.dumps({"isolation": rt.isolation, "outputs": outcome.outputs,
                      "issues": [[i.index, i.kind] for i in outcome.issues]}))
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to impersonate an unprivileged host")
def test_an_unprivileged_host_gets_a_user_namespace_sandbox():
    import json
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", _AS_NOBODY, str(REPO_ROOT), _SANDBOXED_RUN],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    isolation = report["isolation"]
    assert isolation["sandboxed"] and isolation["user_namespace"]
    assert not isolation["uid_drop"]
    assert set(isolation["namespaces"]) >= {"user", "mount", "pid", "net"}
    outputs = report["outputs"]
    assert outputs[0][0]["data"]["text/plain"] == "(True, '/home/trainee')"
    assert outputs[1][0]["data"]["text/plain"] == "'0000000000000000'"  # no capabilities
    assert _errors(outputs[2]) == ["ConnectionRefusedError"]
    assert outputs[3][0]["data"]["text/plain"] == "False"  # the repository is not visible
    assert [i for i in report["issues"] if i[1] == "timeout"] == [[4, "timeout"]]
    assert _errors(outputs[5]) == ["SystemExit"]  # RLIMIT_NPROC counts this namespace's uid
    assert "refused" in outputs[5][0]["evalue"]


def test_a_preloaded_library_changed_by_one_job_is_pristine_in_the_next(run):
    pytest.importorskip("sklearn")
    poisoned = run(
        "import sys\nprint('sklearn.metrics' in sys.modules)",  # loaded before any trainee code
        "import sklearn.metrics as m, numpy as np\n"
        "m.accuracy_score = lambda *a, **k: 1.0\nm._poisoned = np._poisoned = True\n"
        "m.accuracy_score([0], [1])",
    )
    assert poisoned.outputs[0][0]["text"] == "True\n"
    assert _result(poisoned.outputs[1]) == "1.0"
    fresh = run(
        "import sklearn.metrics as m, numpy as np\n"
        "(hasattr(m, '_poisoned'), hasattr(np, '_poisoned'), float(m.accuracy_score([0], [1])))"
    )
    assert fresh.issues == ()
    assert _result(fresh.outputs[0]) == "(False, False, 0.0)"
