"""Cold kernel vs warm sandboxed runtime, on the same cells, in the same run.

(a) baseline: what nbgrader pays per notebook - nbclient starting a fresh ipykernel
    (`--HistoryManager.hist_file=:memory:`, as nbgrader passes) and executing the cells;
(b) ours: `Runtime.run` forking a fresh sandbox from the warm fork server for each run.

    .venv/bin/python benchmarks/runtime.py [--runs 10] [--ps1 ../shared/peer/nbgrader-ps1]

With --ps1, it also times submit -> score of ps1 problem1 through `grading.grade` (warm pool).
Prints medians and the ratio; asserts nothing about wall-clock time.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

# Run as a script, this folder is sys.path[0]: its sibling modules (e.g. a queue.py) must not
# shadow the standard library; the repository root is what we import from.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

from grading.runtime import RunRequest, Runtime  # noqa: E402

CELLS = (
    "import math\nimport numpy as np",
    "def squares(n):\n    return [i * i for i in range(1, n + 1)]",
    "squares(10)",
    "assert squares(3) == [1, 4, 9]",
    "print('total', sum(squares(100)))",
    "arr = np.arange(12).reshape(3, 4)\narr.sum(axis=0)",
    "import warnings\nwarnings.warn('a warning on stderr')",
    "try:\n    1 / 0\nexcept ZeroDivisionError:\n    print('caught')",
    "{k: math.sqrt(k) for k in range(3)}",
    "'done'",
)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def cold_kernel_run() -> float:
    """Seconds for nbclient to start a fresh kernel and execute CELLS."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    client = NotebookClient(
        nb,
        timeout=30,
        kernel_name="python3",
        allow_errors=True,
        extra_arguments=["--HistoryManager.hist_file=:memory:"],
    )
    start = time.perf_counter()
    client.execute(stderr=subprocess.DEVNULL)  # the kernel's own log lines are noise here
    return time.perf_counter() - start


def warm_runtime_run(runtime: Runtime) -> float:
    """Seconds for the warm runtime to run CELLS in a fresh sandbox."""
    start = time.perf_counter()
    outcome = runtime.run(RunRequest(cells=CELLS))
    elapsed = time.perf_counter() - start
    assert outcome.outputs[-1][0]["data"]["text/plain"] == "'done'", outcome
    return elapsed


def ps1_submit_to_score(runs: int, peer: Path, runtime: Runtime) -> list[float]:
    """Seconds from a GradeJob to its GradeResult for ps1 problem1 (bitdiddle's submission)."""
    from grading import GradeJob, grade

    source = (peer / "source/ps1/problem1.ipynb").read_text()
    submission = (peer / "submitted/bitdiddle/ps1/problem1.ipynb").read_bytes()
    job = GradeJob(source=source, submission=submission, name="problem1.ipynb")
    grade(job, runtime)  # warm-up: first-use imports in the host
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = grade(job, runtime)
        times.append(time.perf_counter() - start)
        assert result.status == "graded", result
    return times


def main() -> None:
    """Measure and print both, and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--ps1", type=Path, help="nbgrader-ps1 folder (source/, submitted/)")
    args = parser.parse_args()

    start = time.perf_counter()
    runtime = Runtime()
    startup = time.perf_counter() - start
    try:
        warm_runtime_run(runtime)  # first run pays host-side first-use costs
        cold = [cold_kernel_run() for _ in range(max(3, args.runs // 2))]
        warm = [warm_runtime_run(runtime) for _ in range(args.runs)]
        print(
            f"{len(CELLS)} small cells per run; {runtime.slots} slots; fork server start "
            f"{startup:.2f} s (once per process)"
        )
        print(
            f"(a) fresh ipykernel + nbclient : median {statistics.median(cold) * 1000:8.1f} ms"
            f"  p90 {_percentile(cold, 0.9) * 1000:8.1f} ms  ({len(cold)} runs)"
        )
        print(
            f"(b) warm sandboxed runtime     : median {statistics.median(warm) * 1000:8.1f} ms"
            f"  p90 {_percentile(warm, 0.9) * 1000:8.1f} ms  ({len(warm)} runs)"
        )
        ratio = statistics.median(cold) / statistics.median(warm)
        print(f"ratio (a)/(b) on medians       : {ratio:.1f}x")
        if args.ps1:
            times = ps1_submit_to_score(args.runs, args.ps1, runtime)
            print(
                f"ps1 problem1 submit -> score   : p50 {statistics.median(times) * 1000:8.1f} ms"
                f"  p90 {_percentile(times, 0.9) * 1000:8.1f} ms  ({len(times)} runs)"
            )
    finally:
        runtime.close()


if __name__ == "__main__":
    main()
