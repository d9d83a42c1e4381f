"""What explaining failed tests costs: the same notebook of failing asserts run with and
without `RunRequest.explain` (each failed comparison evaluated again in a forked child), and a
"run up to a cell" of the fixture exercise, the time a trainee waits for outputs.

    .venv/bin/python benchmarks/feedback.py [--runs 10]

Prints medians and the ratio explain / plain measured in this run; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

# Run as a script, this folder is sys.path[0]: its sibling modules (e.g. a queue.py) must not
# shadow the standard library; the repository root is what we import from.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from grading import release_notebook  # noqa: E402
from grading.run import run_release  # noqa: E402
from grading.runtime import RunRequest, Runtime  # noqa: E402

SETUP = "import numpy as np\ndef f(n):\n    return list(range(n))"
FAILING = tuple(f"assert f({n}) == list(range({n + 1}))" for n in range(10))
SQUARES = Path(__file__).parent.parent / "tests/fixtures/content/exercises/squares"


def _median_seconds(action, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    """Time both variants on one warm runtime and print the medians and ratio."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    cells = (SETUP, *FAILING)
    tests = frozenset(range(1, len(cells)))
    release = json.loads(release_notebook((SQUARES / "squares.ipynb").read_text()))
    files = {"data/numbers.txt": (SQUARES / "data/numbers.txt").read_bytes()}
    answers = {"squares": "def squares(n):\n    return [1]\nprint(squares(2))"}
    with Runtime(slots=1) as runtime:

        def run(explain: bool) -> None:
            runtime.run(RunRequest(cells=cells, tests=tests, explain=explain))

        run(True)  # warm both paths once
        plain = _median_seconds(lambda: run(False), runs)
        explained = _median_seconds(lambda: run(True), runs)
        upto = _median_seconds(
            lambda: run_release(release, answers, files=files, timeout=10, upto=2, runtime=runtime),
            runs,
        )
    print(f"10 failing asserts, plain:     median {plain * 1000:.0f} ms ({runs} runs)")
    print(f"10 failing asserts, explained: median {explained * 1000:.0f} ms")
    print(f"ratio explained / plain: {explained / plain:.2f}")
    print(f"run up to a cell (squares exercise, warm pool): median {upto * 1000:.0f} ms")


if __name__ == "__main__":
    main()
