"""Start-up: what a command costs before it does anything, against stock nbgrader, same run.

    .venv/bin/python benchmarks/startup.py [--repeat 5]

Times, each as a fresh process repeated REPEAT times (medians printed):
  python -c pass                 the interpreter alone, the floor
  python -c "import grading"     what the grader's imports cost (part of every `lms grade`)
  lms --help / nbgrader --help
  lms release problem1           / nbgrader generate_assignment ps1 (problem1 only)
  lms grade problem1 (bitdiddle) / nbgrader autograde ps1 --student bitdiddle
on nbgrader's own example (../shared/peer/nbgrader-ps1), and prints each median, its ratio to
the stock nbgrader command and to `python -c pass`, and the share of `lms grade` spent in imports.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# nbgrader's example, in shared/ beside the repository (or beside the folder of worktrees).
PS1 = next(
    (
        folder / "shared" / "peer" / "nbgrader-ps1"
        for folder in Path(__file__).resolve().parents[1].parents
        if (folder / "shared" / "peer" / "nbgrader-ps1").is_dir()
    ),
    Path(__file__).resolve().parents[1].parent / "shared" / "peer" / "nbgrader-ps1",
)
BIN = Path(sys.executable).parent


def timed(argv: list[str], cwd: Path, repeat: int) -> float:
    """The median wall time of `argv` run `repeat` times (exits if it fails)."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            sys.exit(f"{' '.join(argv)} failed:\n{done.stderr[-3000:]}")
    return statistics.median(times)


def course(root: Path) -> None:
    """An nbgrader course with ps1's problem1 only and bitdiddle's submission of it."""
    (root / "source" / "ps1").mkdir(parents=True)
    shutil.copy(PS1 / "source" / "ps1" / "problem1.ipynb", root / "source" / "ps1")
    (root / "submitted" / "bitdiddle" / "ps1").mkdir(parents=True)
    shutil.copy(
        PS1 / "submitted" / "bitdiddle" / "ps1" / "problem1.ipynb",
        root / "submitted" / "bitdiddle" / "ps1",
    )
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)  # the fixture is read-only


def main() -> None:
    """Run the measurements and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per command (median)")
    args = parser.parse_args()
    python, lms, nbgrader = sys.executable, str(BIN / "lms"), str(BIN / "nbgrader")
    with tempfile.TemporaryDirectory(prefix="atlas-startup-") as tmp:
        root = Path(tmp)
        course(root)
        root_option = f"--CourseDirectory.root={root}"
        source = root / "source" / "ps1" / "problem1.ipynb"
        submission = root / "submitted" / "bitdiddle" / "ps1" / "problem1.ipynb"
        # generate_assignment first: autograde needs the gradebook and the release it writes.
        nb_release = timed(
            [nbgrader, "generate_assignment", "ps1", "--force", root_option], root, args.repeat
        )
        rows = [
            ("python -c pass", timed([python, "-c", "pass"], root, args.repeat), None),
            (
                'python -c "import grading"',
                timed([python, "-c", "import grading"], root, args.repeat),
                None,
            ),
            (
                "lms --help",
                timed([lms, "--help"], root, args.repeat),
                ("nbgrader --help", timed([nbgrader, "--help"], root, args.repeat)),
            ),
            (
                "lms release problem1",
                timed(
                    [lms, "release", str(source), "-o", str(root / "out.ipynb")], root, args.repeat
                ),
                ("nbgrader generate_assignment", nb_release),
            ),
            (
                "lms grade problem1",
                timed(
                    [lms, "grade", "--source", str(source), str(submission), "--json"],
                    root,
                    args.repeat,
                ),
                (
                    "nbgrader autograde (1 notebook)",
                    timed(
                        [
                            nbgrader,
                            "autograde",
                            "ps1",
                            "--student",
                            "bitdiddle",
                            "--force",
                            root_option,
                        ],
                        root,
                        args.repeat,
                    ),
                ),
            ),
        ]
    floor = rows[0][1]
    print(
        f"median of {args.repeat} runs each, fresh processes; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print(
        f"{'command':<30} {'median s':>9} {'x pass':>7}   {'stock nbgrader':<32} "
        f"{'median s':>9} {'ours/stock':>10}"
    )
    for name, seconds, stock in rows:
        line = f"{name:<30} {seconds:9.3f} {seconds / floor:7.1f}"
        if stock:
            line += f"   {stock[0]:<32} {stock[1]:9.3f} {seconds / stock[1]:10.2f}"
        print(line)
    grade_seconds, imports = rows[4][1], rows[1][1] - floor
    print(
        f"lms grade: {imports:.2f} s of {grade_seconds:.2f} s is importing the grader "
        f"({imports / grade_seconds:.0%}); the rest is the sandbox and grading"
    )


if __name__ == "__main__":
    main()
