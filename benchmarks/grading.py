"""Grading speed against stock nbgrader, measured in the same run on the same 40 submissions.

    .venv/bin/python benchmarks/grading.py [--copies 10] [--latency-runs 30] [--cli-only]

1. Builds a temporary nbgrader course from nbgrader's own example (../shared/peer/nbgrader-ps1):
   the ps1 source, and 20 students x 2 notebooks made from the four submitted notebooks (each
   copied 10 times), then runs `nbgrader generate_assignment ps1` and times
   `nbgrader autograde ps1` (one call, all students), the baseline.
2. Grades the same 40 submissions with `grading.grade_many` on a warm runtime pool (the exercise
   cache is cleared first, so preparing the source is paid too) and times it: scores only, the
   work `nbgrader autograde` does, then again with the trainee's feedback run (visible tests
   only) that the web application makes too.
3. Checks that every notebook and cell score, max score and needs-manual-grade are identical.
4. Measures submit->score latency for ps1 problem1 through `grading.grade`, warm pool.
5. End to end, start-up included: the same 40 submissions through `lms grade --json` (one
   fresh process per source notebook, as a user runs it) against `nbgrader autograde`, on the
   whole machine and then one core each (`taskset -c 0` for both, run one after the other);
   the CLI's scores are checked against nbgrader's too.
Prints both wall times, throughputs, the ratios, and p50/p95 latency. With --cli-only: steps 1
and 5 alone (the CLI against nbgrader, its scores checked).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# This file is called grading.py: drop its folder from the path so `import grading` finds the
# package (from the repository root, ahead of any installed copy).
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from grading import GradeJob, grade, grade_many  # noqa: E402
from grading.exercise import load_exercise  # noqa: E402
from grading.release import exercise_files  # noqa: E402
from grading.runtime import RunRequest, get_runtime  # noqa: E402

# nbgrader's example, in shared/ beside the repository (or beside the folder of worktrees).
PS1 = next(
    (
        folder / "shared" / "peer" / "nbgrader-ps1"
        for folder in Path(__file__).resolve().parents[1].parents
        if (folder / "shared" / "peer" / "nbgrader-ps1").is_dir()
    ),
    Path(__file__).resolve().parents[1].parent / "shared" / "peer" / "nbgrader-ps1",
)
NOTEBOOKS = ("problem1", "problem2")
ORIGINALS = ("bitdiddle", "hacker")


def build_course(root: Path, copies: int) -> list[tuple[str, str]]:
    """An nbgrader course under `root`; returns (student, original student) pairs."""
    shutil.copytree(PS1 / "source" / "ps1", root / "source" / "ps1")
    students = []
    for i in range(copies * len(ORIGINALS)):
        original = ORIGINALS[i % len(ORIGINALS)]
        student = f"student{i + 1:02d}"
        shutil.copytree(PS1 / "submitted" / original / "ps1", root / "submitted" / student / "ps1")
        students.append((student, original))
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)  # the fixture is read-only
    return students


def nbgrader(root: Path, *args: str, pin: tuple[str, ...] = ()) -> float:
    """Run an nbgrader command in the course (after `pin`, e.g. taskset); its wall time."""
    bin_dir = str(Path(sys.executable).parent)  # nbgrader shells out to `alembic`
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    start = time.perf_counter()
    done = subprocess.run(
        [*pin, str(Path(bin_dir) / "nbgrader"), *args, f"--CourseDirectory.root={root}"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0 or "ERROR" in done.stderr:
        sys.exit(f"nbgrader {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return elapsed


def nbgrader_scores(root: Path, students: list[tuple[str, str]]) -> dict[tuple[str, str], tuple]:
    """(student, notebook) -> (score, max, needs_manual_grade, {cell: (...)}) from nbgrader."""
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for student, _ in students:
            for notebook in NOTEBOOKS:
                sn = gb.find_submission_notebook(notebook, "ps1", student)
                cells = {
                    g.name: (float(g.score), float(g.max_score), bool(g.needs_manual_grade))
                    for g in sn.grades
                }
                scores[(student, notebook)] = (
                    float(sn.score),
                    float(sn.max_score),
                    bool(sn.needs_manual_grade),
                    cells,
                )
    return scores


def lms_cli(
    root: Path, students: list[tuple[str, str]], pin: tuple[str, ...] = ()
) -> tuple[float, dict[tuple[str, str], tuple]]:
    """`lms grade --json` of every submission, one fresh process per source notebook, as a
    user runs it (start-up included): wall time and (student, notebook) -> scores."""
    lms = Path(sys.executable).parent / "lms"
    scores = {}
    start = time.perf_counter()
    for notebook in NOTEBOOKS:
        files = [root / "submitted" / s / "ps1" / f"{notebook}.ipynb" for s, _ in students]
        done = subprocess.run(
            [
                *pin,
                str(lms),
                "grade",
                "--source",
                str(root / "source" / "ps1" / f"{notebook}.ipynb"),
                *map(str, files),
                "--json",
            ],
            cwd=root,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            sys.exit(f"lms grade failed:\n{done.stderr[-3000:]}")
        for (student, _), result in zip(students, json.loads(done.stdout), strict=True):
            cells = {
                c["grade_id"]: (c["score"], c["max_score"], c["needs_manual_grade"])
                for c in result["cells"]
            }
            scores[(student, notebook)] = (
                result["score"],
                result["max_score"],
                result["needs_manual_grade"],
                cells,
            )
    return time.perf_counter() - start, scores


def our_jobs(students: list[tuple[str, str]]) -> list[GradeJob]:
    """The same 40 submissions as grading jobs."""
    files = exercise_files(PS1 / "source" / "ps1")
    sources = {nb: (PS1 / "source" / "ps1" / f"{nb}.ipynb").read_text() for nb in NOTEBOOKS}
    jobs = []
    for student, original in students:
        for notebook in NOTEBOOKS:
            path = PS1 / "submitted" / original / "ps1" / f"{notebook}.ipynb"
            jobs.append(
                GradeJob(
                    source=sources[notebook],
                    submission=path.read_bytes(),
                    name=f"{student}/{notebook}",
                    files=files,
                )
            )
    return jobs


def warm_up(rounds: int = 4) -> None:
    """Start the pool and let its sandboxes get ready (what a running server has)."""
    runtime = get_runtime()
    for _ in range(rounds):
        runtime.run(RunRequest(cells=("1 + 1",)))


def percentile(values: list[float], fraction: float) -> float:
    """The `fraction` quantile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def main() -> int:
    """Run the benchmark and print the figures; exit 1 if the scores differ."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=10, help="copies of each submitted notebook")
    parser.add_argument("--latency-runs", type=int, default=30)
    parser.add_argument(
        "--cli-only",
        action="store_true",
        help="only the end-to-end comparison (nbgrader autograde against lms grade)",
    )
    args = parser.parse_args()
    if not PS1.is_dir():
        sys.exit(f"{PS1} not found: check out shared/ beside the repository")

    with tempfile.TemporaryDirectory(prefix="atlas-bench-") as tmp:
        root = Path(tmp)
        students = build_course(root, args.copies)
        count = len(students) * len(NOTEBOOKS)
        print(f"{count} submissions ({len(students)} students x {len(NOTEBOOKS)} notebooks)")
        nbgrader(root, "generate_assignment", "ps1")
        nbgrader_wall = nbgrader(root, "autograde", "ps1")
        expected = nbgrader_scores(root, students)
        one_core = ("taskset", "-c", "0")
        nbgrader_one = nbgrader(root, "autograde", "ps1", "--force", pin=one_core)
        cli_wall, cli_scores = lms_cli(root, students)
        cli_one, cli_one_scores = lms_cli(root, students, pin=one_core)
    if args.cli_only:
        return end_to_end(
            count,
            expected,
            [],
            (nbgrader_wall, cli_wall, cli_scores),
            (nbgrader_one, cli_one, cli_one_scores),
        )

    jobs = our_jobs(students)
    warm_up()
    load_exercise.cache_clear()
    # The same work as `nbgrader autograde` (scores only), then with the trainee's feedback run
    # (the visible tests only) that the web application also makes.
    start = time.perf_counter()
    results = grade_many(jobs, feedback=False)
    ours_wall = time.perf_counter() - start
    start = time.perf_counter()
    with_feedback = grade_many(jobs)
    feedback_wall = time.perf_counter() - start
    if [r.score for r in with_feedback] != [r.score for r in results]:
        print("scores with and without the feedback run differ")
        return 1

    mismatches = []
    cells_compared = 0
    for job, result in zip(jobs, results, strict=True):
        student, notebook = job.name.split("/")
        score, max_score, needs, cells = expected[(student, notebook)]
        got = (result.score, result.max_score, result.needs_manual_grade)
        if result.status != "graded" or got != (score, max_score, needs):
            mismatches.append(f"{job.name}: nbgrader {(score, max_score, needs)}, ours {got}")
        ours_cells = {
            c.grade_id: (c.score, c.max_score, c.needs_manual_grade) for c in result.cells
        }
        cells_compared += len(cells)
        if ours_cells != cells:
            mismatches.append(f"{job.name} cells: nbgrader {cells}, ours {ours_cells}")

    latency_job = next(j for j in jobs if j.name.endswith("problem1"))
    latencies = []
    for _ in range(args.latency_runs):
        start = time.perf_counter()
        grade(latency_job)
        latencies.append(time.perf_counter() - start)

    print(f"cores: {os.cpu_count()}")
    print(f"nbgrader autograde: {nbgrader_wall:7.2f} s  {count / nbgrader_wall:6.2f} submissions/s")
    print(f"atlas grade_many:   {ours_wall:7.2f} s  {count / ours_wall:6.2f} submissions/s")
    print(f"throughput ratio:   {nbgrader_wall / ours_wall:7.1f}x nbgrader")
    print(
        f"with the feedback run too: {feedback_wall:7.2f} s  {count / feedback_wall:6.2f} "
        f"submissions/s, {nbgrader_wall / feedback_wall:.1f}x nbgrader autograde"
    )
    print(
        f"scores identical:   {'yes' if not mismatches else 'NO'} "
        f"({count} notebooks, {cells_compared} cells compared)"
    )
    for line in mismatches:
        print("  " + line)
    print(
        f"submit->score ps1 problem1, warm pool, {args.latency_runs} sequential runs: "
        f"p50 {statistics.median(latencies):.3f} s, p95 {percentile(latencies, 0.95):.3f} s"
    )
    return end_to_end(
        count,
        expected,
        mismatches,
        (nbgrader_wall, cli_wall, cli_scores),
        (nbgrader_one, cli_one, cli_one_scores),
    )


def end_to_end(
    count: int, expected: dict, mismatches: list[str], whole: tuple, one_core: tuple
) -> int:
    """Print the CLI against nbgrader ((nbgrader s, CLI s, CLI scores) on the whole machine and
    on one core each); 1 if any score differs from nbgrader's (here or in `mismatches`)."""
    (nbgrader_wall, cli_wall, cli_scores), (nbgrader_one, cli_one, cli_one_scores) = whole, one_core
    cli_same = cli_scores == expected and cli_one_scores == expected
    if not cli_same:
        mismatches.append("lms grade --json scores differ from nbgrader's")
    print(f"end to end, start-up included ({count} notebooks, fresh processes):")
    print(
        f"  whole machine: nbgrader autograde {nbgrader_wall:6.2f} s, lms grade (CLI)"
        f" {cli_wall:6.2f} s: {nbgrader_wall / cli_wall:5.1f}x nbgrader"
    )
    print(
        f"  one core each (taskset -c 0): nbgrader autograde {nbgrader_one:6.2f} s, lms grade"
        f" (CLI) {cli_one:6.2f} s: {nbgrader_one / cli_one:5.1f}x nbgrader"
    )
    print(f"  CLI scores identical: {'yes' if cli_same else 'NO'}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
