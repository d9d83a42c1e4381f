"""Per-job cgroups (v1 `pids` and `memory`), created under the fork server's own cgroups.

RLIMIT_NPROC alone is a poor process limit (ignored for root, shared by every process of a uid),
so each job gets a pids cgroup with `pids.max`, and a memory cgroup whose limit the kernel
enforces by OOM-killing inside the job only. After the job, what is left is killed and the
cgroups removed; the OOM and pids counters say why a sandbox died.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass

CONTROLLERS = ("pids", "memory")


def _v1_mounts() -> dict[str, str]:
    mounts = {}
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            left, _, right = line.partition(" - ")
            fields, extra = left.split(), right.split()
            if len(extra) >= 3 and extra[0] == "cgroup":
                options = set(extra[2].split(","))
                for controller in CONTROLLERS:
                    if controller in options:
                        mounts[controller] = fields[4]
    return mounts


def _own_paths() -> dict[str, str]:
    paths = {}
    with open("/proc/self/cgroup") as handle:
        for line in handle:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for controller in controllers.split(","):
                if controller in CONTROLLERS:
                    paths[controller] = path
    return paths


def create_parents(tag: str) -> dict[str, str]:
    """Create `atlas-<tag>` under this process's v1 pids/memory cgroups; {} where impossible."""
    mounts, own = _v1_mounts(), _own_paths()
    parents = {}
    for controller in CONTROLLERS:
        if controller not in mounts or controller not in own:
            continue
        path = os.path.join(mounts[controller], own[controller].lstrip("/"), f"atlas-{tag}")
        try:
            os.makedirs(path, exist_ok=True)
            probe = os.path.join(path, "probe")
            os.mkdir(probe)
            os.rmdir(probe)
        except OSError:
            continue
        parents[controller] = path
    return parents


def remove_parents(parents: dict[str, str]) -> None:
    """Remove the runtime's parent cgroups (after every job's own was removed)."""
    for path in parents.values():
        for entry in os.scandir(path):
            if entry.is_dir():
                _kill_and_remove(entry.path)
        try:
            os.rmdir(path)
        except OSError:
            pass


@dataclass
class JobCgroups:
    """The cgroups of one job: created by the supervisor, joined by the sandbox."""

    paths: dict[str, str]

    @classmethod
    def create(cls, parents: dict[str, str], name: str, memory: int, processes: int):
        """Make the job's cgroups with their limits set."""
        paths = {}
        for controller, parent in parents.items():
            path = os.path.join(parent, name)
            os.mkdir(path)
            paths[controller] = path
        if "pids" in paths:
            _write(paths["pids"], "pids.max", str(processes))
        if "memory" in paths:
            _write(paths["memory"], "memory.limit_in_bytes", str(memory))
            # No swap beyond the limit, where the kernel accounts swap (may be absent).
            _write(paths["memory"], "memory.memsw.limit_in_bytes", str(memory), optional=True)
            _write(paths["memory"], "memory.swappiness", "0", optional=True)
        return cls(paths)

    def join(self) -> None:
        """Move the calling process into the job's cgroups (before dropping privileges)."""
        for path in self.paths.values():
            _write(path, "cgroup.procs", "0")

    def report(self) -> dict[str, int]:
        """Counters saying whether a limit was hit (OOM kills, fork refusals, peak memory)."""
        result = {}
        if "memory" in self.paths:
            control = _read_pairs(self.paths["memory"], "memory.oom_control")
            result["oom_kills"] = control.get("oom_kill", 0)
            result["memory_failcnt"] = _read_int(self.paths["memory"], "memory.failcnt")
            result["memory_peak"] = _read_int(self.paths["memory"], "memory.max_usage_in_bytes")
        if "pids" in self.paths:
            result["pids_max_hits"] = _read_pairs(self.paths["pids"], "pids.events").get("max", 0)
        return result

    def destroy(self) -> None:
        """Kill anything left in the job's cgroups, then remove them."""
        for path in self.paths.values():
            _kill_and_remove(path)


def _kill_and_remove(path: str) -> None:
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


def _write(path: str, name: str, value: str, optional: bool = False) -> None:
    try:
        with open(os.path.join(path, name), "w") as handle:
            handle.write(value)
    except OSError:
        if not optional:
            raise


def _read_int(path: str, name: str) -> int:
    try:
        with open(os.path.join(path, name)) as handle:
            return int(handle.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def _read_pairs(path: str, name: str) -> dict[str, int]:
    pairs = {}
    try:
        with open(os.path.join(path, name)) as handle:
            for line in handle:
                key, _, value = line.partition(" ")
                if value.strip().isdigit():
                    pairs[key] = int(value)
    except OSError:
        pass
    return pairs
