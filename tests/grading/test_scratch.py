"""The fork server's scratch folder is its own: a lock held on it, never a pid, says it is live."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from grading.runtime import RunRequest
from grading.runtime import scratch as scratch_dir

# A process that makes a scratch folder under argv[1], prints its path, and holds it until its
# stdin closes; with argv[2] == "die", it is killed without removing it (as a crashed server).
_HOLDER = (
    "import os, sys\n"
    "from grading.runtime import scratch\n"
    "own = scratch.create(sys.argv[1])\n"
    "print(own.path, os.getpid(), flush=True)\n"
    "if sys.argv[2] == 'die':\n"
    "    os._exit(0)\n"
    "sys.stdin.read()\n"
    "own.remove()\n"
)


def _holder(base: Path, mode: str = "hold", prefix: tuple[str, ...] = ()) -> subprocess.Popen:
    return subprocess.Popen(
        [*prefix, sys.executable, "-c", _HOLDER, str(base), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )


def _dead_pid() -> int:
    """A pid no process has here (as another pid namespace's server pid looks from here)."""
    pid = 4_000_000
    while os.path.exists(f"/proc/{pid}"):
        pid -= 1
    return pid


def test_a_live_folder_whose_pid_is_not_ours_to_see_is_kept(tmp_path: Path) -> None:
    holder = _holder(tmp_path)
    path, _ = holder.stdout.readline().split()
    # As seen from another pid namespace: the owner's pid names no process here.
    foreign = tmp_path / f"{scratch_dir.PREFIX}{_dead_pid()}-live"
    os.rename(path, foreign)
    (foreign / "jobs").mkdir()
    try:
        assert scratch_dir.remove_stale(str(tmp_path)) == []
        assert (foreign / "jobs").is_dir()
    finally:
        holder.communicate("")
    assert holder.returncode == 0


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare(1)")
def test_servers_in_two_pid_namespaces_keep_each_others_live_folders(tmp_path: Path) -> None:
    namespaced = ["unshare", "--pid", "--fork", "--mount-proc"]
    probe = subprocess.run([*namespaced, "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"no new pid namespace here: {probe.stderr.decode().strip()}")
    inside = _holder(tmp_path, prefix=tuple(namespaced))
    inside_path, inside_pid = inside.stdout.readline().split()
    assert inside_pid == "1"  # pid 1 of its own namespace: a pid that means nothing here
    ours = scratch_dir.create(str(tmp_path))
    try:
        assert scratch_dir.remove_stale(str(tmp_path)) == []  # from here: theirs is kept
        removed_inside = subprocess.run(
            [*namespaced, sys.executable, "-c", "import sys; from grading.runtime import scratch;"
             " print(scratch.remove_stale(sys.argv[1]))", str(tmp_path)],
            capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[2],
        )  # fmt: skip
        assert removed_inside.stdout.strip() == "[]"  # from there: ours is kept
        assert os.path.isdir(inside_path) and os.path.isdir(ours.path)
    finally:
        inside.communicate("")
        ours.remove()
    assert not os.path.exists(inside_path) and not os.path.exists(ours.path)


def test_a_folder_whose_lock_is_free_is_removed(tmp_path: Path) -> None:
    crashed = _holder(tmp_path, mode="die")
    left, pid = crashed.stdout.readline().split()
    crashed.communicate()
    # Its pid now names a live process (the test runner's own): the lock, not the pid, decides.
    reused = tmp_path / f"{scratch_dir.PREFIX}{os.getpid()}-left"
    os.rename(left, reused)
    (reused / "jobs" / "job-1").mkdir(parents=True)
    never_locked = tmp_path / f"{scratch_dir.PREFIX}{pid}-plain"
    never_locked.mkdir()
    other = tmp_path / "not-ours"
    other.mkdir()
    link = tmp_path / f"{scratch_dir.PREFIX}link"
    link.symlink_to(other)
    ours = scratch_dir.create(str(tmp_path))
    try:
        removed = scratch_dir.remove_stale(str(tmp_path))
        assert sorted(removed) == sorted([str(reused), str(never_locked)])
        assert other.is_dir() and link.is_symlink() and os.path.isdir(ours.path)
    finally:
        ours.remove()


def _held(path: Path) -> bool:
    """Whether another process holds the folder's lock."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def test_the_fork_server_keeps_its_folder_while_others_clean_up(runtime) -> None:
    runtime.run(RunRequest(cells=("1",), files={}, cell_timeout=10.0, env={}))  # started
    base = Path(tempfile.gettempdir())
    held = [p for p in base.iterdir() if p.name.startswith(scratch_dir.PREFIX) and _held(p)]
    assert held  # the runtime's fork servers hold theirs
    scratch_dir.remove_stale(str(base))  # what a new fork server does first
    assert all(p.is_dir() for p in held)
    outcome = runtime.run(RunRequest(cells=("print(6 * 7)",), files={}, cell_timeout=10.0, env={}))
    assert outcome.outputs[0][0]["text"] == "42\n"


def test_cgroup_parents_are_removed_by_their_lock_too(tmp_path: Path) -> None:
    from grading.runtime import cgroups

    held = tmp_path / f"atlas-grader-{_dead_pid()}-live"  # a live server of another namespace
    held.mkdir()
    fd = scratch_dir.hold(str(held))
    free = tmp_path / f"atlas-grader-{os.getpid()}-left"  # its pid is live, its lock is free
    (free / "job-1").mkdir(parents=True)
    legacy_dead, legacy_live = tmp_path / f"atlas-{_dead_pid()}", tmp_path / f"atlas-{os.getpid()}"
    legacy_dead.mkdir()
    legacy_live.mkdir()
    try:
        cgroups._remove_stale(str(tmp_path))
        assert held.is_dir() and legacy_live.is_dir()
        assert not free.exists() and not legacy_dead.exists()
    finally:
        os.close(fd)
