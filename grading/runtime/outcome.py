"""Assembles a RunOutcome from what a sandbox reported and how it ended.

Outputs coming back from a sandbox were produced next to trainee code, so they are checked
against the nbformat v4 output shapes before they are kept. A cell that timed out gets the error
nbgrader 0.9 appends (CellTimeoutError); when the sandbox dies, the cell it died in and every
later code cell get an error output saying why, and an issue naming the reason.
"""

from __future__ import annotations

import signal
from typing import Any

from grading.runtime import CellIssue, RunOutcome

# nbgrader's Execute.error_on_timeout, appended to a cell whose execution timed out.
TIMEOUT_ERROR = {
    "output_type": "error",
    "ename": "CellTimeoutError",
    "evalue": "",
    "traceback": ["\x1b[0;31mCellTimeoutError\x1b[0m: No reply from kernel before timeout"],
}
_ISSUE_KINDS = {
    "timeout",
    "memory",
    "output-limit",
    "died",
    "cpu-time",
    "file-size",
    "processes",
    "sandbox",
    "forged",
}


class OutcomeBuilder:
    """Per-cell outputs, execution counts and issues, filled in as messages arrive."""

    def __init__(self, cells: tuple[str, ...], cell_timeout: float) -> None:
        self.cells = cells
        self.cell_timeout = cell_timeout
        self.outputs: list[list[dict[str, Any]] | None] = [None] * len(cells)
        self.counts: list[int | None] = [None] * len(cells)
        self.verdicts: list[dict[str, Any] | None] = [None] * len(cells)
        self.issues: list[CellIssue] = []
        self.running: int | None = None
        self._timed_out: set[int] = set()
        self._next = 0
        self._fatal: str | None = None
        self._progress: list[dict[str, Any]] = []  # the running cell's outputs so far

    def started(self, index: Any) -> None:
        """The sandbox began running cell `index`."""
        if index == self._next and isinstance(index, int) and index < len(self.cells):
            self.running = index

    def progress(self, message: dict[str, Any]) -> None:
        """The running cell's outputs so far (kept in case it never finishes)."""
        raw = message.get("outputs")
        if message.get("i") == self._next and isinstance(raw, list):
            self._progress = [o for o in raw if _valid_output(o)]

    def done(self, message: dict[str, Any]) -> bool:
        """The sandbox finished a cell: keep its (validated) outputs and issues; False when the
        report is out of order (the sandbox is then not to be trusted further)."""
        index = message.get("i")
        if index != self._next or not isinstance(index, int) or index >= len(self.cells):
            self.protocol_violation(f"unexpected report for cell {index!r}")
            return False
        self._next += 1
        self.running = None
        self._progress = []
        raw = message.get("outputs")
        outputs = [o for o in (raw if isinstance(raw, list) else []) if _valid_output(o)]
        count = message.get("count")
        self.counts[index] = count if isinstance(count, int) and count > 0 else None
        issues = message.get("issues")
        for kind, detail in issues.items() if isinstance(issues, dict) else ():
            if kind in _ISSUE_KINDS:
                self.issues.append(CellIssue(index, kind, str(detail)[:500]))
        if index not in self._timed_out:
            _append_reply_error(outputs, message.get("reply"))
        if index in self._timed_out:
            if not any(
                o["output_type"] == "error" and o["ename"] == "CellTimeoutError" for o in outputs
            ):
                outputs.append(dict(TIMEOUT_ERROR))
        self.outputs[index] = outputs
        self.verdicts[index] = _valid_verdict(message.get("verdict"))
        return True

    def timed_out(self, index: int) -> bool:
        """Whether cell `index` already passed its timeout."""
        return index in self._timed_out

    def mark_timeout(self, index: int) -> None:
        """Cell `index` ran past the per-cell timeout (and is being interrupted)."""
        self._timed_out.add(index)
        self.issues.append(
            CellIssue(
                index,
                "timeout",
                f"the cell ran longer than {self.cell_timeout:g} s and was stopped",
            )
        )

    def fatal(self, detail: str) -> None:
        """The sandbox reported it could not be set up or its executor failed."""
        self._fatal = detail[:500]

    def protocol_violation(
        self, detail: str, kind: str = "output-limit", index: int | None = None
    ) -> None:
        """The sandbox sent something malformed, oversized or forged (it is being killed)."""
        where = self.running if index is None else index
        self.issues.append(
            CellIssue(where, kind, f"the sandbox's output was rejected: {detail}"[:500])
        )

    def finish(
        self, ended: bool, exit_report: dict[str, Any] | None, killed_for: str | None
    ) -> RunOutcome:
        """The outcome, with every cell that did not complete explained."""
        report = exit_report or {}
        stopped_at = self._next if self._next < len(self.cells) else None
        if report.get("pids_max_hits"):
            self.issues.append(
                CellIssue(
                    self.running, "processes", "the cell tried to start more processes than allowed"
                )
            )
        if stopped_at is not None or not ended:
            kind, reason = self._why_stopped(report, killed_for)
            if stopped_at is None:
                if kind != "died" or report.get("code") not in (0, None):
                    self.issues.append(CellIssue(None, kind, reason))
            else:
                self._fill_unfinished(stopped_at, kind, reason)
        elif report.get("oom_kills"):
            self.issues.append(
                CellIssue(
                    None, "memory", "a process of the run was killed for using too much memory"
                )
            )
        return RunOutcome(
            outputs=tuple(tuple(o or ()) for o in self.outputs),
            execution_counts=tuple(self.counts),
            issues=tuple(self.issues),
            verdicts=tuple(self.verdicts),
        )

    def _why_stopped(self, report: dict[str, Any], killed_for: str | None) -> tuple[str, str]:
        signum = report.get("signal")
        if self._fatal:
            return "sandbox", self._fatal
        if report.get("oom_kills"):
            return "memory", "the kernel was killed for using more memory than allowed"
        if signum == signal.SIGXCPU:
            return "cpu-time", "the kernel used up its CPU time allowance"
        if killed_for and self.running in self._timed_out:
            return "timeout", f"the kernel was killed because {killed_for}"
        if killed_for:
            return "died", f"the kernel was killed because {killed_for}"
        if not report:
            return "sandbox", "the sandbox supervisor vanished without a report"
        if signum:
            return "died", f"the kernel died (killed by {_signal_name(signum)})"
        return "died", f"the kernel exited (exit code {report.get('code')}) before the end"

    def _fill_unfinished(self, first: int, kind: str, reason: str) -> None:
        for index in range(first, len(self.cells)):
            if not self.cells[index].strip():
                self.outputs[index] = []
                continue
            if index == first and index in self._timed_out:
                self.outputs[index] = [*self._progress, dict(TIMEOUT_ERROR)]
                continue  # its timeout issue is already recorded
            if index == first:
                evalue = f"Kernel died while running this cell: {reason}"
                detail = reason
            else:
                evalue = f"Not run: the kernel stopped at an earlier cell ({reason})"
                detail = f"not run: {reason}"
            self.outputs[index] = [
                *(self._progress if index == first else ()),
                {
                    "output_type": "error",
                    "ename": "DeadKernelError",
                    "evalue": evalue,
                    "traceback": [f"\x1b[0;31mDeadKernelError\x1b[0m: {evalue}"],
                },
            ]
            later_kind = "died" if kind == "timeout" else kind
            self.issues.append(CellIssue(index, kind if index == first else later_kind, detail))


def _append_reply_error(outputs: list[dict[str, Any]], reply: Any) -> None:
    """nbgrader's Execute.on_cell_executed: an error reply whose error is not among the outputs
    (e.g. trainee code silenced tracebacks) still becomes an error output."""
    if not isinstance(reply, dict) or reply.get("status") != "error":
        return
    ename = str(reply.get("ename", ""))
    if any(o["output_type"] == "error" and o["ename"] == ename for o in outputs):
        return
    traceback = reply.get("traceback")
    if not isinstance(traceback, list) or not all(isinstance(t, str) for t in traceback):
        traceback = []
    outputs.append(
        {
            "output_type": "error",
            "ename": ename,
            "evalue": str(reply.get("evalue", "")),
            "traceback": traceback or ["ERROR: An error occurred while showtraceback was disabled"],
        }
    )


def _valid_verdict(raw: Any) -> dict[str, Any] | None:
    """A test runner's verdict in its expected shape, or None (which scores 0)."""
    if not isinstance(raw, dict) or raw.get("status") not in ("ok", "error"):
        return None
    result = raw.get("result")

    def labels(key: str) -> list[str]:
        value = raw.get(key)
        items = value if isinstance(value, list) else []
        return [str(item)[:200] for item in items[:50]]

    return {
        "status": raw["status"],
        "ename": str(raw.get("ename", ""))[:200],
        "result": result[:10_000] if isinstance(result, str) else None,
        "stderr": raw.get("stderr") is not False,
        "tampered": labels("tampered"),
        "introspection": labels("introspection"),
    }


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _valid_output(output: Any) -> bool:
    if not isinstance(output, dict):
        return False
    kind = output.get("output_type")
    if kind == "stream":
        return output.get("name") in ("stdout", "stderr") and isinstance(output.get("text"), str)
    if kind in ("display_data", "execute_result"):
        if not isinstance(output.get("data"), dict) or not isinstance(output.get("metadata"), dict):
            return False
        return kind == "display_data" or isinstance(output.get("execution_count"), int | None)
    if kind == "error":
        return (
            isinstance(output.get("ename"), str)
            and isinstance(output.get("evalue"), str)
            and isinstance(output.get("traceback"), list)
            and all(isinstance(line, str) for line in output["traceback"])
        )
    return False
