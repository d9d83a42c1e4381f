"""Resource limits of one sandboxed run."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any

from grading.runtime.outputs import OutputCaps

BUDGET_FLOOR = 60.0
BUDGET_CELLS = 10


def usable_cpus() -> int:
    """The processors this process may run on (its affinity, e.g. under `taskset`), which
    may be fewer than the machine has: how many sandboxes to run at once."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def default_budget(cell_timeout: float) -> float:
    """Seconds a whole notebook may run when no budget is given: max(60, 10 x cell timeout)."""
    return max(BUDGET_FLOOR, BUDGET_CELLS * cell_timeout)


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Memory is enforced by a memory cgroup when the host offers
    one and by RLIMIT_AS (MemoryError in the cell) in any case; processes by a pids cgroup and
    RLIMIT_NPROC of the job's own uid; processor time by a cpu cgroup (an equal share, at most
    `cpu_cores` processors); the working directory and /tmp are size-capped tmpfs."""

    memory_bytes: int = 1 << 30
    cpu_seconds: int = 600
    processes: int = 64
    cpu_cores: float = 1.0  # the job's cpu cgroup quota, in processors
    file_size_bytes: int = 64 << 20
    open_files: int = 256
    workdir_bytes: int = 256 << 20
    tmp_bytes: int = 64 << 20
    interrupt_grace: float = 4.0  # nbclient's iopub_timeout: how long an interrupt may take
    output: OutputCaps = field(default_factory=OutputCaps)

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable form (sent to the fork server with each job)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Limits:
        """The inverse of `to_json`."""
        return cls(**{**data, "output": OutputCaps(**data["output"])})
