"""`lms grade --json` with the processors oversubscribed, against the same command on the same
machine without the extra load, in one run.

    .venv/bin/python benchmarks/oversubscribed.py [--factor 4] [--copies 5]

Starts `factor x usable CPUs` busy processes (pure Python loops, at normal priority), then runs
`lms grade --json` (a fresh process: the fork server starts under the load) on nbgrader's ps1
example, `copies` submissions of each of its two original students. Prints the wall time loaded
and unloaded, their ratio, whether every submission got a result with the same scores, and
whether the JSON parsed. The issue's bar: under 4x oversubscription the grader still starts and
answers (no fixed start deadline turns slowness into failure), with the same scores.
"""

from __future__ import annotations

import argparse
import importlib.util
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

# benchmarks/grading.py (its name is the grading package's): loaded by path
_spec = importlib.util.spec_from_file_location("bench_grading", _HERE / "grading.py")
bench_grading = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_grading)

from grading.runtime.limits import usable_cpus  # noqa: E402


def _burn(stop) -> None:
    x = 0
    while not stop.is_set():
        for _ in range(100_000):
            x += 1


def run(copies: int) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory(prefix="atlas-oversub-") as folder:
        root = Path(folder)
        students = bench_grading.build_course(root, copies)
        return bench_grading.lms_cli(root, students)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factor", type=int, default=4)
    parser.add_argument("--copies", type=int, default=5)
    args = parser.parse_args()
    cpus = usable_cpus()
    quiet_time, quiet_scores = run(args.copies)
    stop = multiprocessing.Event()
    burners = [
        multiprocessing.Process(target=_burn, args=(stop,), daemon=True)
        for _ in range(args.factor * cpus)
    ]
    for burner in burners:
        burner.start()
    try:
        time.sleep(1.0)  # the load is there before lms grade starts
        loaded_time, loaded_scores = run(args.copies)
    finally:
        stop.set()
        for burner in burners:
            burner.join(timeout=5)
    same = loaded_scores == quiet_scores
    print(f"usable CPUs: {cpus}; busy processes: {len(burners)} ({args.factor}x)")
    print(f"submissions: {len(quiet_scores)}; each got a result under load: {len(loaded_scores)}")
    print(f"lms grade --json unloaded: {quiet_time:6.2f} s")
    print(f"lms grade --json loaded:   {loaded_time:6.2f} s   ({loaded_time / quiet_time:.1f}x)")
    print(f"scores identical loaded and unloaded: {'yes' if same else 'NO'}")
    print("JSON parsed: yes" if loaded_scores else "JSON parsed: NO")
    return 0 if same and len(loaded_scores) == len(quiet_scores) else 1


if __name__ == "__main__":
    sys.exit(main())
