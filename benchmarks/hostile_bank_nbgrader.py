"""The hostile bank through stock `nbgrader autograde` and through Atlas, side by side.

    .venv/bin/python benchmarks/hostile_bank_nbgrader.py

Builds a temporary nbgrader course with one assignment per exercise of the bank
(tests/grading/hostile_bank.py) and one student per hostile notebook, runs
`nbgrader generate_assignment` and `nbgrader autograde` (as benchmarks/grading.py drives them),
then grades the same notebooks with `grading.grade_many`. Prints, per notebook, the honest score
(of the same notebook without the attack), nbgrader's score, ours and our flags, and whether a
hidden-test line shows in the outputs of nbgrader's autograded notebook (what its feedback is
made from) or in our feedback; then a summary: how many notebooks each grader scored above the
honest score, and how many showed hidden-test lines.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))
sys.path.insert(0, str(_HERE.parent / "tests" / "grading"))

from hostile_bank import CASES, Case, exercises, hidden_lines, job, submission  # noqa: E402

from grading import grade_many  # noqa: E402


def nbgrader(root: Path, *args: str) -> subprocess.CompletedProcess:
    """Run an nbgrader command in the course (failures are answers here, not exits)."""
    bin_dir = str(Path(sys.executable).parent)  # nbgrader shells out to `alembic`
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    return subprocess.run(
        [str(Path(bin_dir) / "nbgrader"), *args, f"--CourseDirectory.root={root}"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )


def student(index: int) -> str:
    """The nbgrader student id of the index-th case."""
    return f"s{index:02d}"


def build_course(root: Path) -> None:
    """Sources, one assignment per exercise, and one submission per case."""
    for name, spec in exercises().items():
        folder = root / "source" / name
        folder.mkdir(parents=True)
        (folder / spec.notebook).write_text(spec.source)
        for relative, content in spec.files.items():
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            (folder / relative).write_bytes(content)
    for index, case in enumerate(CASES):
        spec = exercises()[case.exercise]
        folder = root / "submitted" / student(index) / case.exercise
        folder.mkdir(parents=True)
        (folder / spec.notebook).write_bytes(submission(case))


def nbgrader_results(root: Path) -> dict[int, tuple[float | None, bool]]:
    """Per case: nbgrader's score (None when it failed to grade) and whether a hidden-test
    line is in the outputs of its autograded notebook."""
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]
    from nbgrader.api import Gradebook, MissingEntry

    results = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for index, case in enumerate(CASES):
            spec = exercises()[case.exercise]
            try:
                notebook = gb.find_submission_notebook(
                    Path(spec.notebook).stem, case.exercise, student(index)
                )
                score: float | None = float(notebook.score)
            except MissingEntry:
                score = None
            graded = root / "autograded" / student(index) / case.exercise / spec.notebook
            outputs = ""
            if graded.exists():
                cells = json.loads(graded.read_text())["cells"]
                outputs = json.dumps([c.get("outputs", []) for c in cells])
            results[index] = (score, _leaks(case, [outputs]))
    return results


def _leaks(case: Case, texts: list[str]) -> bool:
    own = submission(case).decode()
    lines = [line for line in hidden_lines(case.exercise) if json.dumps(line)[1:-1] not in own]
    return any(json.dumps(line)[1:-1] in text or line in text for line in lines for text in texts)


def main() -> int:
    """Run both graders on the bank and print the table and the summary."""
    with tempfile.TemporaryDirectory(prefix="atlas-hostile-") as tmp:
        root = Path(tmp)
        build_course(root)
        for name in exercises():
            done = nbgrader(root, "generate_assignment", name, "--force")
            if done.returncode != 0:
                sys.exit(f"nbgrader generate_assignment {name} failed:\n{done.stderr[-3000:]}")
            nbgrader(root, "autograde", name)  # a notebook it cannot grade is reported below
        theirs = nbgrader_results(root)

    ours = grade_many([job(case) for case in CASES])
    width = max(len(case.id) for case in CASES)
    print(f"{'notebook':<{width}}  family  honest  nbgrader  atlas  leak(nbg/atlas)  atlas flags")
    over = {"nbgrader": 0, "atlas": 0}
    leaks = {"nbgrader": 0, "atlas": 0}
    for index, (case, result) in enumerate(zip(CASES, ours, strict=True)):
        score, their_leak = theirs[index]
        our_leak = _leaks(case, [result.feedback_html or "", json.dumps(result.to_json())])
        over["nbgrader"] += score is not None and score > case.honest_score
        over["atlas"] += result.score > case.honest_score
        leaks["nbgrader"] += their_leak
        leaks["atlas"] += our_leak
        shown = "failed" if score is None else f"{score:g}"
        leak = f"{'yes' if their_leak else 'no'}/{'yes' if our_leak else 'no'}"
        flags = ",".join(f for f in result.flags if not f.startswith("died:")) or "-"
        print(
            f"{case.id:<{width}}  {case.family:<6}  {case.honest_score:>6g}  {shown:>8}  "
            f"{result.score:>5g}  {leak:>15}  {flags[:120]}"
        )
    print(
        f"\n{len(CASES)} hostile notebooks. Scored above the honest score: "
        f"nbgrader {over['nbgrader']}, atlas {over['atlas']}. Hidden-test lines in what the "
        f"trainee sees: nbgrader {leaks['nbgrader']}, atlas {leaks['atlas']}. "
        f"Atlas flagged {sum(1 for r in ours if r.flags)}."
    )
    return 1 if over["atlas"] or leaks["atlas"] else 0


if __name__ == "__main__":
    sys.exit(main())
