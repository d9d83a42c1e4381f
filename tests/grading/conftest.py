"""Runtime fixtures for the grading tests (one warm Runtime per test module)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from grading.runtime import Limits, OutputCaps, RunOutcome, RunRequest, Runtime

# Small limits so hostile cases hit them in well under a second.
TEST_LIMITS = Limits(
    memory_bytes=384 << 20,
    cpu_seconds=60,
    processes=32,
    file_size_bytes=8 << 20,
    workdir_bytes=32 << 20,
    tmp_bytes=16 << 20,
    interrupt_grace=1.0,
    output=OutputCaps(keep_cell_bytes=64 << 10, keep_run_bytes=256 << 10, stop_cell_bytes=4 << 20),
)


@pytest.fixture(scope="module")
def runtime() -> Iterator[Runtime]:
    """A Runtime with two slots and test-sized limits, shared by the tests of one module."""
    with Runtime(slots=2, limits=TEST_LIMITS) as rt:
        yield rt


@pytest.fixture(scope="module")
def run(runtime: Runtime):
    """Run cells: run("code", "more code", timeout=2, env={...}, files={...})."""

    def _run(*cells: str, timeout: float = 10.0, env=None, files=None) -> RunOutcome:
        return runtime.run(
            RunRequest(cells=cells, files=files or {}, cell_timeout=timeout, env=env or {})
        )

    return _run


@pytest.fixture(scope="module")
def runtime_limits() -> Limits:
    """The limits the `runtime` fixture runs under."""
    return TEST_LIMITS


@pytest.fixture(scope="module")
def sandbox_pids(runtime: Runtime):
    """A function listing the host pids that run as one of `runtime`'s sandbox uids."""
    return lambda: _sandbox_processes(runtime)


def _sandbox_processes(runtime: Runtime) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as handle:
                for line in handle:
                    if line.startswith("Uid:"):
                        if int(line.split()[1]) in runtime.sandbox_uids:
                            found.append(int(entry))
                        break
        except OSError:
            continue
    return found
