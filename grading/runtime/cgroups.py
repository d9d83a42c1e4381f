"""Per-job `pids`, `memory` and `cpu` cgroups (v1, or v2 where the host has no v1 controllers).

RLIMIT_NPROC alone is a poor process limit (ignored for root, shared by every process of a uid),
so each job gets a pids cgroup with a maximum, and a memory cgroup whose limit the kernel
enforces by OOM-killing inside the job only, and a cpu cgroup that bounds the job's share of
the processors: an equal weight (v1 cpu.shares 1024, v2 cpu.weight 100) so jobs share fairly
under contention, and a quota (cpu.cfs_quota_us / cpu.max) of `Limits.cpu_cores` processors, so
one job's processes cannot take the whole machine from the others. After the job, what is left
is killed and the cgroups removed; the OOM and pids counters say why a sandbox died.

v1 (hybrid hosts): `atlas-grader-<pid>-<random>` under the fork server's own cgroup of each
controller. v2 (unified hosts, e.g. a default Debian 12): the same under the root cgroup,
because a cgroup holding processes (the server's own) cannot hand controllers down to children.
Each parent is the server's own by an flock it holds on the folder for its lifetime (as its
scratch folder, grading/runtime/scratch.py): a starting server removes only the
`atlas-grader-*` parents whose lock it can take, never by pid (servers in other pid namespaces
share the tree); a bare `atlas-<pid>` of a server from before the lock, only when no process
has that pid here.
At start, `Cgroups.create` runs one whole job lifecycle as a probe; whatever fails is left out
(and reported), so the sandbox degrades to rlimits instead of failing every run.
"""

from __future__ import annotations

import os
import secrets
import signal
import time
from dataclasses import dataclass, field

from grading.runtime import scratch

CONTROLLERS = ("pids", "memory", "cpu")
_PREFIX = "atlas-grader-"
CPU_PERIOD_US = 100_000

# What each version calls the same thing.
_FILES = {
    1: {"memory.max": "memory.limit_in_bytes", "memory.swap": "memory.memsw.limit_in_bytes"},
    2: {"memory.max": "memory.max", "memory.swap": "memory.swap.max"},
}


@dataclass
class Cgroups:
    """The runtime's parent cgroups: controller -> directory (the same directory on v2)."""

    version: int = 0
    parents: dict[str, str] = field(default_factory=dict)
    locks: list[int] = field(default_factory=list)  # held on each parent while it is ours

    @classmethod
    def create(cls, pid: int) -> Cgroups:
        """Set up `atlas-grader-<pid>-<random>` parents where the host allows, each locked by this
        process and proven by a probe job."""
        locks: list[int] = []
        layout = _v1_parents(pid, locks)
        version = 1
        if not layout:
            layout, version = _v2_parents(pid, locks), 2
        cgroups = cls(version, layout, locks)
        for controller in list(cgroups.parents):
            if not cgroups._probe(controller):
                del cgroups.parents[controller]
        if not cgroups.parents:
            cgroups.remove()
            return cls()
        return cgroups

    def _probe(self, controller: str) -> bool:
        try:
            job = JobCgroups.create(
                Cgroups(self.version, {controller: self.parents[controller]}),
                "probe",
                memory=64 << 20,
                processes=8,
                cpu_cores=1.0,
            )
        except OSError:
            return False
        try:
            child = os.fork()
            if child == 0:
                try:
                    job.join()
                except BaseException:
                    os._exit(1)
                os._exit(0)
            joined = os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]) == 0
            job.report()
            return joined
        finally:
            job.destroy()

    def remove(self) -> None:
        """Remove the parents (after every job's own cgroup was removed)."""
        for path in set(self.parents.values()):
            for entry in os.scandir(path):
                if entry.is_dir():
                    _kill_and_remove(entry.path, self.version)
            _rmdir_quietly(path)
        for fd in self.locks:
            os.close(fd)
        self.locks.clear()


def _mounts(fstype: str) -> list[tuple[str, set[str]]]:
    found = []
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            left, _, right = line.partition(" - ")
            fields, extra = left.split(), right.split()
            if len(extra) >= 3 and extra[0] == fstype:
                found.append((fields[4], set(extra[2].split(","))))
    return found


def _own_paths() -> dict[str, str]:
    paths = {}
    with open("/proc/self/cgroup") as handle:
        for line in handle:
            hierarchy, controllers, path = line.rstrip("\n").split(":", 2)
            if hierarchy == "0" and not controllers:
                paths["unified"] = path
            for controller in controllers.split(","):
                if controller in CONTROLLERS:
                    paths[controller] = path
    return paths


def _v1_parents(pid: int, locks: list[int]) -> dict[str, str]:
    own = _own_paths()
    parents = {}
    for mountpoint, options in _mounts("cgroup"):
        for controller in CONTROLLERS:
            if controller in options and controller in own:
                base = os.path.join(mountpoint, own[controller].lstrip("/"))
                path = _make_parent(base, pid, locks)
                if path:
                    parents[controller] = path
    return parents


def _v2_parents(pid: int, locks: list[int]) -> dict[str, str]:
    for mountpoint, _ in _mounts("cgroup2"):
        available = _read_text(mountpoint, "cgroup.controllers").split()
        wanted = [c for c in CONTROLLERS if c in available]
        if not wanted:
            continue
        enable = " ".join(f"+{c}" for c in wanted)
        try:
            _write(mountpoint, "cgroup.subtree_control", enable)
            path = _make_parent(mountpoint, pid, locks)
            if path is None:
                continue
            _write(path, "cgroup.subtree_control", enable)
        except OSError:
            continue
        return {controller: path for controller in wanted}
    return {}


def _make_parent(base: str, pid: int, locks: list[int]) -> str | None:
    _remove_stale(base)
    for _ in range(5):
        # A pid alone could be another namespace's server's: the name is unique, the lock ours.
        path = os.path.join(base, f"{_PREFIX}{pid}-{secrets.token_hex(4)}")
        try:
            os.mkdir(path)
            fd = scratch.hold(path)
        except OSError:
            return None
        if fd is not None:
            locks.append(fd)
            return path
    return None


def _remove_stale(base: str) -> None:
    # Empty leftovers of fork servers that were killed (and so could not clean up): the
    # parents whose lock is free.
    try:
        entries = [e for e in os.scandir(base) if e.name.startswith("atlas-") and e.is_dir()]
    except OSError:
        return
    for entry in entries:
        legacy = entry.name.removeprefix("atlas-")
        if legacy.isdigit():
            if not scratch.process_alive(int(legacy)):
                _remove_parent(entry.path)
            continue
        if not entry.name.startswith(_PREFIX):
            continue
        fd = scratch.take_if_free(entry.path)
        if fd is None:
            continue
        try:
            _remove_parent(entry.path)
        finally:
            os.close(fd)


def _remove_parent(path: str) -> None:
    try:
        jobs = [job.path for job in os.scandir(path) if job.is_dir()]
    except OSError:
        return
    for job in jobs:
        _rmdir_quietly(job)  # fails, harmlessly, if anything still runs in it
    _rmdir_quietly(path)


@dataclass
class JobCgroups:
    """The cgroups of one job: created by the supervisor, joined by the sandbox."""

    paths: dict[str, str]
    version: int = 1

    @classmethod
    def create(
        cls, cgroups: Cgroups, name: str, memory: int, processes: int, cpu_cores: float = 1.0
    ) -> JobCgroups:
        """Make the job's cgroups with their limits set."""
        paths: dict[str, str] = {}
        try:
            for controller, parent in cgroups.parents.items():
                path = os.path.join(parent, name)
                if path not in paths.values():
                    os.mkdir(path)
                paths[controller] = path
            files = _FILES[cgroups.version] if cgroups.version else {}
            if "pids" in paths:
                _write(paths["pids"], "pids.max", str(processes))
            if "memory" in paths:
                _write(paths["memory"], files["memory.max"], str(memory))
                # No swap beyond the limit, where the kernel accounts swap (may be absent).
                swap = str(memory) if cgroups.version == 1 else "0"
                _write(paths["memory"], files["memory.swap"], swap, optional=True)
            if "cpu" in paths:
                quota = max(1000, int(cpu_cores * CPU_PERIOD_US))
                if cgroups.version == 1:
                    _write(paths["cpu"], "cpu.shares", "1024")
                    _write(paths["cpu"], "cpu.cfs_period_us", str(CPU_PERIOD_US))
                    _write(paths["cpu"], "cpu.cfs_quota_us", str(quota))
                else:
                    _write(paths["cpu"], "cpu.weight", "100")
                    _write(paths["cpu"], "cpu.max", f"{quota} {CPU_PERIOD_US}")
        except OSError:
            cls(paths, cgroups.version).destroy()
            raise
        return cls(paths, cgroups.version)

    def join(self) -> None:
        """Move the calling process into the job's cgroups (before dropping privileges)."""
        for path in sorted(set(self.paths.values())):
            _write(path, "cgroup.procs", "0")

    def report(self) -> dict[str, int]:
        """Counters saying whether a limit was hit (OOM kills, fork refusals, peak memory)."""
        result = {}
        memory = self.paths.get("memory")
        if memory and self.version == 1:
            result["oom_kills"] = _read_pairs(memory, "memory.oom_control").get("oom_kill", 0)
            result["memory_peak"] = _read_int(memory, "memory.max_usage_in_bytes")
        elif memory:
            result["oom_kills"] = _read_pairs(memory, "memory.events").get("oom_kill", 0)
            result["memory_peak"] = _read_int(memory, "memory.peak")
        if "cpu" in self.paths:
            stat = _read_pairs(self.paths["cpu"], "cpu.stat")
            result["cpu_throttled"] = stat.get("nr_throttled", 0)
        if "pids" in self.paths:
            result["pids_max_hits"] = _read_pairs(self.paths["pids"], "pids.events").get("max", 0)
        return result

    def destroy(self) -> None:
        """Kill anything left in the job's cgroups, then remove them."""
        for path in set(self.paths.values()):
            _kill_and_remove(path, self.version)


def _kill_and_remove(path: str, version: int) -> None:
    if version == 2:
        _write(path, "cgroup.kill", "1", optional=True)  # Linux 5.14+
    for _ in range(200):
        try:
            with open(os.path.join(path, "cgroup.procs")) as handle:
                pids = [int(line) for line in handle if line.strip()]
        except OSError:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.rmdir(path)
            return
        except OSError:
            time.sleep(0.005)


def _rmdir_quietly(path: str) -> None:
    try:
        os.rmdir(path)
    except OSError:
        pass


def _write(path: str, name: str, value: str, optional: bool = False) -> None:
    try:
        with open(os.path.join(path, name), "w") as handle:
            handle.write(value)
    except OSError:
        if not optional:
            raise


def _read_text(path: str, name: str) -> str:
    try:
        with open(os.path.join(path, name)) as handle:
            return handle.read()
    except OSError:
        return ""


def _read_int(path: str, name: str) -> int:
    text = _read_text(path, name).strip()
    return int(text) if text.isdigit() else 0


def _read_pairs(path: str, name: str) -> dict[str, int]:
    pairs = {}
    for line in _read_text(path, name).splitlines():
        key, _, value = line.partition(" ")
        if value.strip().isdigit():
            pairs[key] = int(value)
    return pairs
