"""Running a sanitized notebook's code cells in the sandboxed runtime, as nbgrader's Execute would.

The runtime (grading/runtime/) decides how code runs; this module sends it the code cells, puts
the outputs back into the notebook, and makes sure a cell that could not finish scores like
nbgrader scores it: a timeout becomes nbgrader's `CellTimeoutError` output, and a cell that never
ran because the interpreter died gets an error output too (an empty output would mean full marks).
"""

from __future__ import annotations

from nbformat.notebooknode import NotebookNode, from_dict

from grading.runtime import RunOutcome, RunRequest
from grading.runtime.outcome import TIMEOUT_ERROR
from grading.sanitize import Findings, cell_label

_REASONS = {
    "timeout": "it ran longer than the time limit",
    "budget": "the notebook used up its time budget",
    "memory": "it used more memory than allowed",
    "output-limit": "it printed more output than allowed",
    "died": "the Python process running it stopped",
    "cpu-time": "it used more CPU time than allowed",
    "file-size": "it wrote a file larger than allowed",
    "processes": "it started more processes than allowed",
    "sandbox": "the grading sandbox failed",
    "forged": "it wrote forged reports on the sandbox's channel",
    "unsupported": "it asked for something the grading sandbox does not offer (README: "
    "differences from ipykernel)",
    "network": "it tried to reach the network, which the grading sandbox does not have",
}
# Issues that only explain what happened: the cell's own outputs already say how it ended.
_NOTED_ONLY = ("output-limit", "unsupported", "network")
_VIOLATION = (
    "The run was stopped because something in the notebook wrote to the grader's report "
    "channel ({what}); cells not reported before that score 0."
)


def _error_output(ename: str, evalue: str) -> NotebookNode:
    return from_dict(
        {
            "output_type": "error",
            "ename": ename,
            "evalue": evalue,
            "traceback": [f"{ename}: {evalue}"],
        }
    )


def _has_error(cell: NotebookNode) -> bool:
    return any(o.get("output_type") == "error" for o in cell.outputs)


def run_code_cells(
    nb: NotebookNode,
    runtime: object,
    *,
    files: dict[str, bytes],
    timeout: float,
    env: dict[str, str],
    findings: Findings,
    tests: frozenset[int] = frozenset(),
    budget: float | None = None,
    explain: bool = False,
) -> dict[int, dict | None]:
    """Run every code cell of `nb` in order through `runtime.run` and store the outputs and
    execution counts in the cells; record what went wrong in `findings`. The cells at the
    positions in `tests` run through the sandbox's test runner: their verdicts are returned by
    position (None for a test cell that did not finish).

    A protocol violation (the sandbox's reports were broken) is one flag,
    `protocol-violation:<what>`; every cell it left unreported gets an error output (score 0)."""
    positions = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    request = RunRequest(
        cells=tuple(nb.cells[i].source for i in positions),
        files=dict(files),
        cell_timeout=timeout,
        env=dict(env),
        budget=budget,
        tests=frozenset(k for k, position in enumerate(positions) if position in tests),
        explain=explain,
    )
    outcome: RunOutcome = runtime.run(request)  # type: ignore[attr-defined]
    for k, position in enumerate(positions):
        cell = nb.cells[position]
        outputs = outcome.outputs[k] if k < len(outcome.outputs) else ()
        count = outcome.execution_counts[k] if k < len(outcome.execution_counts) else None
        cell.outputs = [from_dict(dict(o)) for o in outputs]
        cell.execution_count = count

    stopped_at: int | None = None  # first request index from which cells may not have run
    for issue in outcome.issues:
        reason = _REASONS.get(issue.kind, issue.kind)
        if issue.kind == "protocol-violation":
            findings.add(f"protocol-violation:{issue.detail}", _VIOLATION.format(what=issue.detail))
            stopped_at = 0 if stopped_at is None else stopped_at
            continue
        if issue.index is None or not 0 <= issue.index < len(positions):
            findings.add(f"{issue.kind}:notebook", f"The notebook could not finish: {reason}.")
            stopped_at = 0 if stopped_at is None else stopped_at
            continue
        position = positions[issue.index]
        cell = nb.cells[position]
        label = cell_label(nb, position)
        findings.add(f"{issue.kind}:{label}", f"Cell {position + 1} ({label}): {reason}.")
        if issue.kind == "timeout":
            if not _has_error(cell):
                cell.outputs.append(from_dict(dict(TIMEOUT_ERROR)))
        elif issue.kind not in _NOTED_ONLY:
            if not _has_error(cell):
                cell.outputs.append(_error_output("CellAborted", reason))
            if issue.kind in (
                "died",
                "budget",
                "memory",
                "cpu-time",
                "processes",
                "sandbox",
                "forged",
            ):
                stopped_at = issue.index if stopped_at is None else min(stopped_at, issue.index)

    if stopped_at is not None:
        # Cells the interpreter never reached have no outputs, which nbgrader would score as
        # passing: give them the error they would have had.
        for k in range(stopped_at, len(positions)):
            cell = nb.cells[positions[k]]
            if cell.execution_count is None and cell.source.strip() and not _has_error(cell):
                cell.outputs.append(
                    _error_output("CellNotRun", "the notebook stopped before this cell ran")
                )
    return {
        position: (outcome.verdicts[k] if k < len(outcome.verdicts) else None)
        for k, position in enumerate(positions)
        if k in request.tests
    }
