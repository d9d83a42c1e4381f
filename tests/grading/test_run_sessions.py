"""Warm sessions for "run and see": one sandbox kept per key, only the new cells run, a fresh
sandbox after an edit; never shared between keys; ended when idle, too many, busy while idle, or
broken."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from grading.runtime import RunRequest, Runtime
from grading.runtime.session import Sessions
from tests.grading.conftest import TEST_LIMITS


@pytest.fixture
def sessions(runtime: Runtime) -> Iterator[Sessions]:
    """Sessions over the module's runtime, ended after two idle seconds."""
    pool = Sessions(runtime, max_sessions=3, idle_timeout=2.0, sweep_every=0.1)
    yield pool
    pool.close()


def _request(*cells: str, tests: tuple[int, ...] = (), timeout: float = 10.0) -> RunRequest:
    return RunRequest(cells=cells, cell_timeout=timeout, tests=frozenset(tests), explain=True)


def _text(outcome, index: int) -> str:
    return "".join(
        o.get("text", "") + o.get("evalue", "") + o.get("ename", "") for o in outcome.outputs[index]
    )


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_until(condition, seconds: float = 20.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_a_session_runs_only_the_new_cells_and_shows_what_a_fresh_run_shows(
    sessions: Sessions, runtime: Runtime
) -> None:
    first = sessions.run("t1", _request("x = 41", "x += 1\nprint(x)"))
    assert _text(first, 1) == "42\n"
    pid = sessions.live()["t1"].sandbox_pid
    whole = _request("x = 41", "x += 1\nprint(x)", "print(x)", "assert x == 43", tests=(3,))
    more = sessions.run("t1", whole)
    # The increment ran once: the cells the session had run were not run again.
    assert _text(more, 2) == "42\n"
    assert sessions.live()["t1"].sandbox_pid == pid
    fresh = runtime.run(whole)
    assert more.outputs[:3] == fresh.outputs[:3]
    assert more.execution_counts == fresh.execution_counts == (1, 2, 3, 4)
    assert more.verdicts[3]["status"] == fresh.verdicts[3]["status"] == "error"
    # Fewer cells than it ran: nothing runs, the outputs are the ones they gave.
    again = sessions.run("t1", _request("x = 41", "x += 1\nprint(x)"))
    assert again.outputs == first.outputs and again.execution_counts == (1, 2)


def test_an_edited_cell_starts_a_fresh_sandbox(sessions: Sessions) -> None:
    sessions.run("t1", _request("marker = 'old'", "x = 1"))
    pid = sessions.live()["t1"].sandbox_pid
    edited = sessions.run("t1", _request("y = 2", "print(globals().get('marker'))"))
    assert _text(edited, 1) == "None\n"
    assert edited.execution_counts == (1, 2)
    assert sessions.live()["t1"].sandbox_pid != pid
    assert _wait_until(lambda: not _alive(pid))


SECRET = "alpha-" + "secret-7f3a"
PLANT = f"""
import builtins, os, sys
SECRET = {SECRET!r}
builtins.planted = SECRET
os.environ["PLANTED"] = SECRET
sys.modules["planted_module"] = type(sys)("planted_module")
for folder in ("/tmp", os.path.expanduser("~"), "/dev/shm"):
    try:
        with open(os.path.join(folder, "planted.txt"), "w") as handle:
            handle.write(SECRET)
    except OSError:
        pass
print(os.getuid())
"""
SNOOP = r"""
import builtins, gc, os, sys
found = []
if getattr(builtins, "planted", None) or "planted_module" in sys.modules:
    found.append("interpreter")
if any("alpha-" in value for value in os.environ.values()):
    found.append("environ")
try:  # gc is refused to notebook code; were it not, it would search the whole interpreter
    found += [o for o in gc.get_objects() if isinstance(o, str) and o.startswith("alpha-secr")]
except RuntimeError:
    found += [k for k, v in vars(builtins).items() if isinstance(v, str) and "alpha-" in v]
for top in ("/tmp", os.path.expanduser("~"), "/dev/shm", "/proc"):
    for root, dirs, files in os.walk(top):
        if root.startswith("/proc/") and root.count("/") > 3:
            dirs[:] = []
        for name in files:
            if name in ("cmdline", "environ", "planted.txt"):
                try:
                    with open(os.path.join(root, name), "rb") as handle:
                        if b"alpha-" + b"secret" in handle.read():
                            found.append(os.path.join(root, name))
                except OSError:
                    pass
pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
print(os.getuid(), sorted(pids), found, sep="|")
"""


def test_one_trainees_session_never_sees_anothers(sessions: Sessions, runtime: Runtime) -> None:
    planted = sessions.run("trainee-a", _request(PLANT))
    uid_a = int(_text(planted, 0))
    snooped = sessions.run("trainee-b", _request(SNOOP))
    assert set(sessions.live()) == {"trainee-a", "trainee-b"}  # both alive at once
    uid_b, pids, found = _text(snooped, 0).split("|")
    assert found.strip() == "[]", found
    assert int(uid_b) != uid_a
    assert {uid_a, int(uid_b)} <= set(runtime.sandbox_uids)
    assert pids == "[1, 2]"  # its own init and kernel only: nothing of the other sandbox
    # The snoop does find what its own session planted: the isolation is not a restart.
    kept = sessions.run("trainee-a", _request(PLANT, SNOOP))
    assert sessions.live()["trainee-a"].sandbox_pid is not None
    own = _text(kept, 1).split("|")[2]
    for where in ("interpreter", "environ", "/tmp/planted.txt", "/home/trainee/planted.txt"):
        assert where in own, own


def test_a_session_past_its_idle_timeout_is_gone(sessions: Sessions, sandbox_pids) -> None:
    sessions.run("t1", _request("x = 1"))
    pid = sessions.live()["t1"].sandbox_pid
    assert _alive(pid)
    assert _wait_until(lambda: "t1" not in sessions.live(), seconds=10)
    assert _wait_until(lambda: not _alive(pid))
    assert _wait_until(lambda: pid not in sandbox_pids())
    after = sessions.run("t1", _request("print(x)"))
    assert "NameError" in _text(after, 0)


def test_sessions_are_bounded_and_the_least_recently_used_makes_room(sessions: Sessions) -> None:
    pids = {}
    for key in ("a", "b", "c", "d"):
        sessions.run(key, _request("import os"))
        pids[key] = sessions.live()[key].sandbox_pid
    assert set(sessions.live()) == {"b", "c", "d"}
    assert _wait_until(lambda: not _alive(pids["a"]))


def test_a_session_busy_while_idle_is_ended(runtime: Runtime) -> None:
    pool = Sessions(runtime, max_sessions=2, idle_timeout=600.0, sweep_every=0.2)
    try:
        spin = (
            "import threading\nthreading.Thread(target=lambda: [0 for _ in iter(int, 1)]).start()"
        )
        pool.run("t1", _request(spin))
        pid = pool.live()["t1"].sandbox_pid
        assert _wait_until(lambda: "t1" not in pool.live(), seconds=60)
        assert _wait_until(lambda: not _alive(pid))
    finally:
        pool.close()


def test_a_session_whose_sandbox_died_is_replaced(sessions: Sessions) -> None:
    died = sessions.run("t1", _request("x = 1", "import os\nos._exit(3)", "print('never')"))
    assert {issue.kind for issue in died.issues} == {"died"}
    assert "t1" not in sessions.live()
    assert died.execution_counts[2] is None
    again = sessions.run("t1", _request("x = 1", "print(x + 1)"))
    assert _text(again, 1) == "2\n" and not again.issues


def test_a_timed_out_cell_is_interrupted_and_the_session_goes_on(sessions: Sessions) -> None:
    slow = _request("x = 1", "import time\ntime.sleep(60)", "print(x)", timeout=1.0)
    outcome = sessions.run("t1", slow)
    assert [issue.kind for issue in outcome.issues] == ["timeout"]
    assert _text(outcome, 2) == "1\n"
    assert "t1" in sessions.live()


def test_the_limits_are_the_grading_sandbox_limits(sessions: Sessions) -> None:
    big = _request(f"b = bytearray({TEST_LIMITS.memory_bytes * 2})")
    outcome = sessions.run("t1", big)
    assert "MemoryError" in _text(outcome, 0) or "memory" in {i.kind for i in outcome.issues}


FORGE_WHILE_WAITING = r"""
import json, os, struct, threading, time
def _socket_fds():
    for f in os.listdir('/proc/self/fd'):
        try:
            if os.readlink(f'/proc/self/fd/{f}').startswith('socket:'):
                yield int(f)
        except OSError:
            pass
def _frame(m):
    body = json.dumps(m).encode()
    return struct.pack('>I', len(body)) + body
def forge():
    time.sleep(0.5)  # the run is over: the session waits for its next cell
    out = [{'output_type': 'stream', 'name': 'stdout', 'text': 'FORGED'}]
    data = _frame({'t': 'start', 'i': 1, 'k': 'guess'})
    data += _frame({'t': 'done', 'i': 1, 'k': 'guess', 'outputs': out, 'count': 2})
    for fd in _socket_fds():
        try:
            os.write(fd, data)
        except OSError:
            pass
threading.Thread(target=forge).start()
"""


def test_a_report_forged_while_the_session_waits_is_refused(runtime: Runtime) -> None:
    sessions = Sessions(runtime, max_sessions=1, idle_timeout=600.0)
    try:
        sessions.run("t1", _request(FORGE_WHILE_WAITING))
        time.sleep(1.5)
        forged = sessions.run("t1", _request(FORGE_WHILE_WAITING, "print('real')"))
        kinds = {issue.kind for issue in forged.issues}
        assert kinds & {"forged", "protocol-violation"}, forged.issues
        assert "FORGED" not in repr(forged.outputs)
        assert "t1" not in sessions.live()
        clean = sessions.run("t1", _request("print('fresh')"))
        assert _text(clean, 0) == "fresh\n" and not clean.issues
    finally:
        sessions.close()
