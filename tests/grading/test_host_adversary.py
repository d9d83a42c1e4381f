"""The host against a sandbox that is fully compromised: a scripted peer on real sockets plays
the sandbox and its supervisor and sends frames that are well-formed and correctly ordered
(answering every cell it is sent, with whatever nonce the host gave it), yet unbounded. What
the host still enforces: the run's byte total, the notebook budget, and its own memory."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time

import psutil

from grading.runtime import RunRequest, protocol
from grading.runtime.limits import Limits
from grading.runtime.pool import _Watch


class _Sandbox:
    """The compromised sandbox: answers each cell the host sends (or all cells, when the host
    sends them at once) with `reply(index, nonce)` frames; dies when told to."""

    def __init__(self, reply) -> None:
        self.host_ctl, self.ctl = socket.socketpair()
        self.host_data, self.data = socket.socketpair()
        self.reply = reply
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        self.supervisor = threading.Thread(target=self._supervise, daemon=True)
        self.supervisor.start()

    def _serve(self) -> None:
        reader = protocol.FrameReader(1 << 30)
        try:
            while True:
                chunk = self.data.recv(1 << 16)
                if not chunk:
                    return
                for message in reader.feed(chunk):
                    cells = [(i, None) for i in range(len(message.get("cells", [])))]
                    if message["t"] == "cell":
                        cells = [(message["i"], message.get("k"))]
                    for i, nonce in cells:
                        for frame in self.reply(i, nonce):
                            self.data.sendall(frame)
        except OSError:
            return

    def close(self) -> None:
        """Close every socket and wait for both threads."""
        for sock in (self.host_ctl, self.host_data, self.ctl, self.data):
            sock.close()
        self.thread.join(timeout=10)
        self.supervisor.join(timeout=10)

    def _supervise(self) -> None:
        reader = protocol.FrameReader(1 << 16)
        while True:
            try:
                chunk = self.ctl.recv(4096)
            except OSError:
                return
            if not chunk:
                return
            for message in reader.feed(chunk):
                if message["t"] == "kill":
                    self.data.shutdown(socket.SHUT_RDWR)
                    exit_report = {"t": "exit", "code": None, "signal": 9, "oom_kills": 0}
                    self.ctl.sendall(protocol.encode(exit_report))
                    return


def _frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return struct.pack(">I", len(body)) + body


def _with_nonce(message: dict, nonce) -> dict:
    return {**message, "k": nonce} if nonce is not None else message


def _run(request: RunRequest, limits: Limits, reply):
    sandbox = _Sandbox(reply)
    try:
        return _Watch(request, limits, sandbox.host_ctl, sandbox.host_data).run()
    finally:
        sandbox.close()


def test_valid_but_huge_reports_stop_at_the_run_total_and_memory_stays_bounded():
    # The finding: 60 forged `done` frames of 8.9 MB each grew the grader to 1.7 GB.
    limits = Limits()
    text = "x" * int(8.9 * 2**20 - 300)
    cells = tuple("pass" for _ in range(60))

    def reply(index, nonce):
        output = {"output_type": "stream", "name": "stdout", "text": text}
        yield _frame(_with_nonce({"t": "start", "i": index}, nonce))
        yield _frame(_with_nonce({"t": "done", "i": index, "outputs": [output]}, nonce))

    process = psutil.Process()
    before = process.memory_info().rss
    outcome = _run(RunRequest(cells=cells), limits, reply)
    assert [i.detail for i in outcome.issues if i.kind == "protocol-violation"] == ["output-bytes"]
    kept = sum(len(o.get("text", "")) for outputs in outcome.outputs for o in outputs)
    assert kept <= 8 * limits.output.keep_run_bytes + (1 << 20) + 60 * (64 << 10)
    assert process.memory_info().rss - before < 400 << 20
    assert all(o[0]["ename"] == "DeadKernelError" for o in outcome.outputs if o and "ename" in o[0])


def test_a_sandbox_answering_slowly_forever_is_stopped_by_the_budget():
    # Every cell takes 0.4 s of a 1 s timeout: no cell ever times out, the budget ends it.
    def reply(index, nonce):
        yield _frame(_with_nonce({"t": "start", "i": index}, nonce))
        time.sleep(0.4)
        yield _frame(_with_nonce({"t": "done", "i": index, "outputs": []}, nonce))

    request = RunRequest(cells=tuple("pass" for _ in range(40)), cell_timeout=1.0, budget=2.0)
    outcome = _run(request, Limits(), reply)
    kinds = {issue.kind for issue in outcome.issues}
    assert "budget" in kinds and "timeout" not in kinds
    assert outcome.execution_counts.count(None) > 20
