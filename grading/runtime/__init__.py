"""Runs notebook code cells in a sandbox and returns their outputs (nbformat v4 dicts).

The contract between the grading pipeline (grading/autograde.py) and the sandboxed runtime. The
pipeline decides *what* runs (hidden tests restored, tampered cells replaced); the runtime decides
*how*: in a fresh, unprivileged, network-less, resource-limited process forked from a warm pool,
with a per-cell wall-clock timeout, exactly like an IPython kernel would execute the cells.

    pool.py       Runtime: host side (slots, standby sandboxes, timeouts -> interrupt -> kill)
    session.py    Sessions: a warm sandbox per trainee and exercise for "run and see"
    zygote.py     the fork server (warm imports, pristine shell) and each job's supervisor
    sandbox.py    isolation applied in the forked child (mounts, uid drop, rlimits, env)
    cgroups.py    per-job pids/memory cgroups;  syscalls.py  unshare/mount/prctl via ctypes
    executor.py   inside the sandbox: cells run as ipykernel would;  outputs.py  output capture
    verdict.py    inside the sandbox: test cells run outside IPython, judged, tampering found
    outcome.py    RunOutcome assembly (nbgrader's timeout/dead-kernel errors)
    isolation.py  what is in force, SandboxUnavailable;  protocol.py  JSON frames
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RunRequest:
    """Code cells to run in order, in a fresh directory holding `files`: each cell may run
    `cell_timeout` seconds, the whole run `budget` seconds (None: limits.default_budget, i.e.
    max(60, 10 x cell_timeout)), both timed by the host; the cells whose index is in `tests`
    run through the sandbox's test runner (grading/runtime/verdict.py), outside IPython, and
    get a verdict; with `explain` (never for cells holding hidden tests), a failed test's
    verdict also says which line failed and what its comparison compared."""

    cells: tuple[str, ...]
    files: dict[str, bytes] = field(default_factory=dict)
    cell_timeout: float = 30.0
    env: dict[str, str] = field(default_factory=dict)
    budget: float | None = None
    tests: frozenset[int] = frozenset()
    explain: bool = False


@dataclass(frozen=True)
class CellIssue:
    """Something that happened while running one cell (index into `RunRequest.cells`), or the
    whole run (index None): kind is one of timeout, budget, memory, output-limit, died,
    cpu-time, file-size, processes, sandbox, forged (a report not written by the executor for
    the cell it was sent), protocol-violation (run-wide; detail is what was violated:
    oversized, malformed, too-deep, bad-field, bad-output, unknown-frame, out-of-order,
    output-bytes, after-end)."""

    index: int | None
    kind: str
    detail: str = ""


@dataclass(frozen=True)
class RunOutcome:
    """One tuple of nbformat v4 output dicts per requested cell, plus what went wrong; a test
    cell's verdict is {status: ok|error, ename, result: text|None, stderr, tampered: [labels],
    introspection: [audit events refused]}."""

    outputs: tuple[tuple[dict, ...], ...]
    execution_counts: tuple[int | None, ...]
    issues: tuple[CellIssue, ...] = ()
    # per cell: the test runner's verdict (test cells that finished), else None
    verdicts: tuple[dict | None, ...] = ()


# The implementation, re-exported (imported last: these modules use the contract above).
from grading.runtime.isolation import SandboxUnavailable  # noqa: E402
from grading.runtime.limits import Limits  # noqa: E402
from grading.runtime.outputs import OutputCaps  # noqa: E402
from grading.runtime.pool import Runtime  # noqa: E402
from grading.runtime.session import Sessions  # noqa: E402
from grading.runtime.singleton import (  # noqa: E402
    close_runtime,
    get_runtime,
    get_sessions,
    isolation_report,
)

__all__ = [
    "CellIssue",
    "Limits",
    "OutputCaps",
    "RunOutcome",
    "RunRequest",
    "Runtime",
    "SandboxUnavailable",
    "Sessions",
    "close_runtime",
    "get_runtime",
    "get_sessions",
    "isolation_report",
]
