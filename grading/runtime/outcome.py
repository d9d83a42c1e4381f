"""Assembles a RunOutcome from what a sandbox reported and how it ended.

Outputs coming back from a sandbox were produced next to trainee code, so every frame is
type-checked (protocol.check_sandbox_frame) and must come in order: `start i` once, for the next
cell only; `done i` for the cell that started (or a blank one); progress for the running cell.
Anything else raises ProtocolError, which the host turns into a `protocol-violation` issue and
the end of the run. A cell that timed out gets the error
nbgrader 0.9 appends (CellTimeoutError); when the sandbox dies, the cell it died in and every
later code cell get an error output saying why, and an issue naming the reason.
"""

from __future__ import annotations

import signal
from typing import Any

from grading.runtime import CellIssue, RunOutcome
from grading.runtime.protocol import ProtocolError

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
    "unsupported",
    "network",
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
        self._violation: str | None = None
        self._budget: float | None = None

    def started(self, index: int) -> None:
        """The sandbox began running cell `index` (once, and only the next cell)."""
        if index != self._next or self.running is not None or index >= len(self.cells):
            raise ProtocolError(
                f"start of cell {index} while expecting {self._next}", "out-of-order"
            )
        self.running = index

    def progress(self, message: dict[str, Any]) -> None:
        """The running cell's outputs so far (kept in case it never finishes). A late report
        for a cell that already finished is dropped (the capture thread races the cell's end)."""
        index = message["i"]
        if index < self._next:
            return
        if index != self.running:
            raise ProtocolError(f"progress of cell {index} that is not running", "out-of-order")
        self._progress = list(message["outputs"])

    def done(self, message: dict[str, Any]) -> None:
        """The sandbox finished a cell: keep its (type-checked) outputs and issues."""
        index = message["i"]
        blank = index < len(self.cells) and not self.cells[index].strip()
        if (
            index != self._next
            or index >= len(self.cells)
            or not (self.running == index or (blank and self.running is None))
        ):
            raise ProtocolError(
                f"report of cell {index} while expecting {self._next}", "out-of-order"
            )
        self._next += 1
        self.running = None
        self._progress = []
        outputs = list(message["outputs"])
        count = message.get("count")
        self.counts[index] = count if count is not None and count > 0 else None
        for kind, detail in message.get("issues", {}).items():
            if kind in _ISSUE_KINDS:
                self.issues.append(CellIssue(index, kind, detail[:500]))
        if index not in self._timed_out:
            _append_reply_error(outputs, message.get("reply"))
        if index in self._timed_out:
            if not any(
                o["output_type"] == "error" and o["ename"] == "CellTimeoutError" for o in outputs
            ):
                outputs.append(dict(TIMEOUT_ERROR))
        self.outputs[index] = outputs
        self.verdicts[index] = _valid_verdict(message.get("verdict"))

    @property
    def next_cell(self) -> int:
        """The index of the first cell not reported yet (len(cells) once all are)."""
        return self._next

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

    def protocol_violation(self, what: str, detail: str) -> None:
        """The sandbox sent something malformed, oversized or out of order (it is being
        killed): one run-wide issue whose detail is `what`, the flag's machine-readable part."""
        if self._violation is None:
            self._violation = f"{detail} ({what})"[:500]
            self.issues.append(CellIssue(None, "protocol-violation", what))

    def budget_spent(self, budget: float) -> None:
        """The notebook's time budget ran out (the sandbox is being killed)."""
        self._budget = budget

    def forged(self, detail: str, index: int | None) -> None:
        """A report that the executor did not write for the cell it was sent (wrong nonce or
        cell): the sandbox is being killed; the issue names the cell it was sent."""
        self._violation = self._violation or f"{detail} (forged)"[:500]
        self.issues.append(
            CellIssue(index, "forged", f"the sandbox's output was rejected: {detail}"[:500])
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
        if self._violation:
            return "died", f"the sandbox broke the grading protocol: {self._violation}"
        if self._budget is not None:
            return "budget", f"the notebook used up its time budget of {self._budget:g} s"
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
            later_kind = "died" if kind in ("timeout", "budget") else kind
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
        "explain": _valid_explanation(raw.get("explain")),
    }


def _text(value: Any, limit: int = 2_100) -> str | None:
    return value[:limit] if isinstance(value, str) else None


def _valid_explanation(raw: Any) -> dict[str, Any] | None:
    """Why a visible test failed (grading/runtime/explain.py) in its expected shape, or None."""
    if not isinstance(raw, dict) or not isinstance(raw.get("line"), int):
        return None
    fields = {key: _text(raw.get(key)) for key in ("code", "ename", "evalue")}
    if None in fields.values():
        return None
    compare = raw.get("compare")
    if isinstance(compare, dict):
        sides = {key: _text(compare.get(key)) for key in ("op", "left", "right")}
        expected = compare.get("expected")
        compare = (
            {**sides, "expected": expected}
            if None not in sides.values() and expected in ("left", "right")
            else None
        )
    else:
        compare = None
    return {"line": raw["line"], **fields, "compare": compare}


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
