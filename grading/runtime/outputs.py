"""Collects one cell's outputs as nbformat v4 dicts, the way ipykernel + nbclient record them.

ipykernel buffers stdout and stderr separately and flushes a stream 0.2 s after its first
unflushed write, before any display/result/error message, and at the end of the cell (stdout
first); nbclient (as nbgrader runs it, without `coalesce_streams`) appends one stream output per
flush. Output is capped: past `keep_cell_bytes` a cell's text is truncated (issue output-limit),
past `stop_cell_bytes` the cell is stopped, past `keep_run_bytes` nothing more is kept.
"""

from __future__ import annotations

import _thread
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

FLUSH_INTERVAL = 0.2


@dataclass(frozen=True)
class OutputCaps:
    """Bytes of output kept per cell and per run, and produced per cell before the cell stops."""

    keep_cell_bytes: int = 1 << 20
    keep_run_bytes: int = 8 << 20
    stop_cell_bytes: int = 32 << 20


class OutputLimitExceeded(Exception):
    """Raised inside a cell that writes far more output than any exercise could need."""


class OutputSink:
    """Thread-safe recorder of the running cell's outputs (shared by sys.stdout/err, the fd
    readers, the display hook and the traceback hook)."""

    def __init__(self, caps: OutputCaps) -> None:
        self.caps = caps
        self.lock = threading.RLock()
        self.main_thread = threading.main_thread()
        self._run_kept = 0
        self._reset_cell(None)

    def _reset_cell(self, index: int | None) -> None:
        self.cell_index = index  # None between cells
        self.cell_started = time.monotonic()
        self.changes = 0  # bumped on every change, so progress is only re-sent when needed
        self.outputs: list[dict[str, Any]] = []
        self.issues: dict[str, str] = {}
        self._buffers: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self._first_write: dict[str, float] = {}
        self._truncated: set[str] = set()
        self._cell_kept = 0
        self._cell_produced = 0
        self._stopped = False
        self._clear_pending = False
        self._display_ids: dict[str, list[dict[str, Any]]] = {}
        # Output widgets capturing this cell's outputs (grading/runtime/widgets.py)
        self._widget_routes: set[str] = set()

    def route_to_widget(self, comm_id: str, capturing: bool) -> None:
        """An Output widget starts or stops capturing: what the cell outputs meanwhile goes to
        the widget, not the cell (nbclient's output hooks). Streams are flushed first, as the
        widget's `_flush` does under ipykernel."""
        with self.lock:
            self.flush_streams()
            if capturing:
                self._widget_routes.add(comm_id)
            else:
                self._widget_routes.discard(comm_id)

    def begin_cell(self, index: int) -> None:
        """Start recording cell `index`."""
        with self.lock:
            self._reset_cell(index)

    def end_cell(self) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """Flush the streams and return the cell's outputs and issues (kind -> detail)."""
        with self.lock:
            self.flush_streams()
            self.cell_index = None
            return self.outputs, self.issues

    def snapshot(self) -> tuple[int | None, int, list[dict[str, Any]]]:
        """The running cell's index, change count and outputs so far (unflushed text included),
        so the host can show them if the cell never finishes."""
        with self.lock:
            pending = [
                {"output_type": "stream", "name": name, "text": "".join(self._buffers[name])}
                for name in ("stdout", "stderr")
                if self._buffers[name]
            ]
            return self.cell_index, self.changes, [dict(o) for o in self.outputs] + pending

    def note_issue(self, kind: str, detail: str) -> None:
        """Record something that happened in the running cell (first detail per kind wins)."""
        with self.lock:
            self.issues.setdefault(kind, detail)

    # -- streams ---------------------------------------------------------------------------

    def write_stream(self, name: str, text: str) -> None:
        """Text written to stdout/stderr, by Python code or (via the fd readers) by C code."""
        if not text:
            return
        with self.lock:
            if self._widget_routes:
                return
            self._flush_due(time.monotonic())
            self._cell_produced += len(text)
            if self._cell_produced > self.caps.stop_cell_bytes and not self._stopped:
                self._stopped = True
                detail = f"the cell wrote more than {self.caps.stop_cell_bytes} bytes of output"
                self.issues.setdefault("output-limit", detail)
                self._stop_cell(detail)
            room = self._room()
            if len(text) > room:
                text = text[:room]
                if name not in self._truncated:
                    self._truncated.add(name)
                    self.issues.setdefault("output-limit", "output was truncated")
                    text += f"\n[output truncated: more than {self._limit_reached()} bytes]\n"
            if not text:
                return
            self._cell_kept += len(text)
            self._run_kept += len(text)
            self.changes += 1
            if not self._buffers[name]:
                self._first_write[name] = time.monotonic()
            self._buffers[name].append(text)

    def _stop_cell(self, detail: str) -> None:
        if threading.current_thread() is self.main_thread:
            raise OutputLimitExceeded(detail)
        _thread.interrupt_main()

    def _room(self) -> int:
        return max(
            0,
            min(
                self.caps.keep_cell_bytes - self._cell_kept,
                self.caps.keep_run_bytes - self._run_kept,
            ),
        )

    def _limit_reached(self) -> int:
        if self.caps.keep_run_bytes - self._run_kept < self.caps.keep_cell_bytes - self._cell_kept:
            return self.caps.keep_run_bytes
        return self.caps.keep_cell_bytes

    def _flush_due(self, now: float) -> None:
        due = [
            (first, name)
            for name, first in self._first_write.items()
            if self._buffers[name] and now - first >= FLUSH_INTERVAL
        ]
        for _, name in sorted(due):
            self._flush_one(name)

    def _flush_one(self, name: str) -> None:
        text = "".join(self._buffers[name])
        self._buffers[name] = []
        if text:
            self._append({"output_type": "stream", "name": name, "text": text})

    def flush_streams(self) -> None:
        """Emit buffered stream text as outputs, stdout first (as ipykernel does)."""
        with self.lock:
            self._flush_one("stdout")
            self._flush_one("stderr")

    # -- rich outputs ------------------------------------------------------------------------

    def add(self, output: dict[str, Any]) -> None:
        """Append a display_data / execute_result / error output after flushing the streams."""
        with self.lock:
            self.flush_streams()
            if self._widget_routes:
                return
            self._append(self._within_budget(output))

    def _within_budget(self, output: dict[str, Any]) -> dict[str, Any]:
        size = len(json.dumps(output, default=str))
        room = self._room()
        if size <= room:
            self._cell_kept += size
            self._run_kept += size
            return output
        self.issues.setdefault("output-limit", "a rich output was dropped")
        note = f"[output dropped: {size} bytes exceed the output limit]"
        if output["output_type"] == "error":
            return {**output, "evalue": str(output["evalue"])[:1000], "traceback": [note]}
        return {**output, "data": {"text/plain": note}, "metadata": {}}

    def _append(self, output: dict[str, Any]) -> None:
        self.changes += 1
        if self._clear_pending:
            self._clear_pending = False
            self.outputs.clear()
        self.outputs.append(output)

    def display(
        self, data: dict[str, Any], metadata: dict[str, Any], display_id: str | None, update: bool
    ) -> None:
        """display() / update_display(): a display_data output, or an in-place update."""
        with self.lock:
            if self._widget_routes:
                return
            if update:
                for target in self._display_ids.get(display_id or "", []):
                    target["data"], target["metadata"] = data, metadata
                return
            output = {"output_type": "display_data", "data": data, "metadata": metadata}
            self.add(output)
            if display_id:
                self._display_ids.setdefault(display_id, []).append(self.outputs[-1])

    def clear(self, wait: bool) -> None:
        """clear_output(): nbclient drops the cell's outputs now, or before the next one."""
        with self.lock:
            self.flush_streams()
            if self._widget_routes:
                return  # clears the widget
            self.changes += 1
            if wait:
                self._clear_pending = True
            else:
                self.outputs.clear()
